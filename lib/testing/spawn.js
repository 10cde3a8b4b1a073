'use strict'

// The mock's spawned command: shaped like the real SpawnedProcess (pid,
// stdin/stdout/stderr, ttyStdin, wait(), kill()) but nothing runs. Its
// outcome comes from a spawn spec `{ exitCode, signal, stdout, stderr, delayMs }`,
// and its output is masked like the engine masks a child's output.

const os = require('node:os')
const { PassThrough, Writable } = require('node:stream')
const { invalid } = require('../arguments.js')
const { commandAborted, commandTimeout } = require('../stopped.js')

/** @typedef {import('../spawn.js').NormalizedSpawn} NormalizedSpawn */
/** @typedef {import('../../index').SpawnResult} SpawnResult */
/**
 * A checked spawn spec.
 * @typedef {{ exitCode: number, signal: NodeJS.Signals | null, stdout: string, stderr: string, delayMs: number }} SpawnSpec
 */
/** @typedef {(result: SpawnResult, error?: Error) => void} Finish */

const SPEC_KEYS = ['exitCode', 'signal', 'stdout', 'stderr', 'delayMs']
let nextPid = 4_000_000

/**
 * @param {unknown} v
 * @param {string} what
 */
function text(v, what) {
  if (v === undefined) return ''
  if (typeof v === 'string') return v
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8')
  throw invalid(`a scripted spawn's ${what} must be a string or a Buffer`)
}

/**
 * The number of signal `name`, if it is one.
 * @param {unknown} name
 * @returns {number | undefined}
 */
function signalNumber(name) {
  return typeof name === 'string' && Object.hasOwn(os.constants.signals, name) ? os.constants.signals[/** @type {NodeJS.Signals} */ (name)] : undefined
}

/**
 * Checks a spawn spec.
 * @param {unknown} raw
 * @returns {SpawnSpec}
 */
function normalizeSpawnSpec(raw) {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('a scripted spawn result must be an object like { exitCode, stdout, stderr }')
  const spec = /** @type {Record<string, unknown>} */ (raw)
  for (const k of Object.keys(spec)) if (!SPEC_KEYS.includes(k)) throw invalid(`unknown scripted spawn key '${k}'; known: ${SPEC_KEYS.join(', ')}`)
  const signal = spec.signal ?? null
  const number = signalNumber(signal)
  if (signal !== null && number === undefined) throw invalid(`unknown signal ${JSON.stringify(signal)}`)
  const exitCode = spec.exitCode ?? (number !== undefined ? 128 + number : 0)
  if (typeof exitCode !== 'number' || !Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) throw invalid('a scripted exitCode must be an integer from 0 to 255')
  const delayMs = spec.delayMs ?? 0
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) throw invalid('a scripted delayMs must be a non-negative number')
  return { exitCode, signal: /** @type {NodeJS.Signals | null} */ (signal), stdout: text(spec.stdout, 'stdout'), stderr: text(spec.stderr, 'stderr'), delayMs }
}

function defaultSpawnSpec() {
  return normalizeSpawnSpec({})
}

/**
 * @param {NodeJS.Signals} sig
 * @returns {SpawnResult}
 */
function killedResult(sig) {
  return { exitCode: 128 + (signalNumber(sig) ?? 15), signal: sig }
}

function sink() {
  return new Writable({ write: (_chunk, _enc, done) => done() })
}

/** A spawned command that is only simulated (see MockAgentSecrets.spawnAsync). */
class MockSpawnedProcess {
  /** @type {Finish | null} */
  #finish = null
  /** @type {Promise<SpawnResult>} */
  #done
  /** @type {NodeJS.Timeout | null} */
  #timer = null

  /**
   * @param {NormalizedSpawn} n a normalised spawn (lib/spawn.js normalizeSpawn)
   * @param {SpawnSpec} spec a normalised spawn spec
   * @param {{ redact(text: string): { text: string } }} vault
   * @param {Error} [refusal] why the engine would refuse to run it
   */
  constructor(n, spec, vault, refusal) {
    this.pid = nextPid++
    this.ttyStdin = false
    const piped = n.stdio === 'pipe'
    this.stdin = piped || n.input !== undefined ? sink() : null
    this.stdout = piped && !n.capture ? new PassThrough() : null
    this.stderr = piped && !n.capture ? new PassThrough() : null
    const out = { stdout: vault.redact(spec.stdout).text, stderr: vault.redact(spec.stderr).text }
    this.#done = new Promise((resolve, reject) => {
      this.#finish = (result, error) => this.#end(n, out, result, error, resolve, reject)
    })
    this.#done.catch(() => {})
    this.#schedule(n, spec, refusal)
  }

  /**
   * @param {NormalizedSpawn} n
   * @param {SpawnSpec} spec
   * @param {Error} [refusal]
   */
  #schedule(n, spec, refusal) {
    if (refusal) return setImmediate(() => this.#finish?.({ exitCode: 1, signal: null }, refusal))
    if (n.signal?.aborted) return setImmediate(() => this.#abort(n))
    n.signal?.addEventListener('abort', () => this.#abort(n), { once: true })
    if (n.timeoutMs > 0 && spec.delayMs >= n.timeoutMs) {
      this.#timer = setTimeout(() => this.#timeout(n), n.timeoutMs)
    } else {
      this.#timer = setTimeout(() => this.#finish?.({ exitCode: spec.exitCode, signal: spec.signal }), spec.delayMs)
    }
  }

  /** @param {NormalizedSpawn} n */
  #abort(n) {
    const result = killedResult('SIGTERM')
    this.#finish?.(result, commandAborted(n.signal?.reason, result))
  }

  /** @param {NormalizedSpawn} n */
  #timeout(n) {
    const result = killedResult('SIGTERM')
    this.#finish?.(result, commandTimeout(n.timeoutMs, result))
  }

  /**
   * Settles `wait()` once: later ends (a kill, an abort after the exit) do nothing.
   * @param {NormalizedSpawn} n
   * @param {{ stdout: string, stderr: string }} out the masked output
   * @param {SpawnResult} result
   * @param {Error | undefined} error
   * @param {(result: SpawnResult) => void} resolve
   * @param {(error: Error) => void} reject
   */
  #end(n, out, result, error, resolve, reject) {
    if (this.#finish === null) return
    this.#finish = null
    if (this.#timer) clearTimeout(this.#timer)
    if (n.capture) Object.assign(result, out)
    this.stdout?.end(result.signal ? '' : out.stdout)
    this.stderr?.end(result.signal ? '' : out.stderr)
    if (error === undefined) return resolve(result)
    reject(Object.assign(error, { result }))
  }

  /** Resolves with `{ exitCode, signal, stdout?, stderr? }`; rejects like the real one. */
  wait() {
    return this.#done
  }

  /**
   * Ends the simulated command by `sig` (default SIGTERM); false if it already ended.
   * @param {NodeJS.Signals | number} [sig]
   */
  kill(sig = 'SIGTERM') {
    if (this.#finish === null) return false
    const name = typeof sig === 'number' ? Object.keys(os.constants.signals).find((k) => signalNumber(k) === sig) : sig
    if (name === undefined || signalNumber(name) === undefined) throw invalid(`unknown signal ${JSON.stringify(sig)}`)
    this.#finish?.(killedResult(/** @type {NodeJS.Signals} */ (name)))
    return true
  }
}

module.exports = { MockSpawnedProcess, normalizeSpawnSpec, defaultSpawnSpec }
