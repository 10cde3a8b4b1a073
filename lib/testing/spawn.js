'use strict'

// The mock's spawned command: shaped like the real SpawnedProcess (pid,
// stdin/stdout/stderr, ttyStdin, wait(), kill()) but nothing runs. Its
// outcome comes from a spawn spec `{ exitCode, signal, stdout, stderr, delayMs }`,
// and its output is masked like the engine masks a child's output.

const os = require('node:os')
const { PassThrough, Writable } = require('node:stream')
const { invalid } = require('../arguments.js')
const { commandAborted, commandTimeout } = require('../stopped.js')

const SPEC_KEYS = ['exitCode', 'signal', 'stdout', 'stderr', 'delayMs']
let nextPid = 4_000_000

function text(v, what) {
  if (v === undefined) return ''
  if (typeof v === 'string') return v
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('utf8')
  throw invalid(`a scripted spawn's ${what} must be a string or a Buffer`)
}

/** Checks a spawn spec; returns `{ exitCode, signal, stdout, stderr, delayMs }`. */
function normalizeSpawnSpec(spec) {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw invalid('a scripted spawn result must be an object like { exitCode, stdout, stderr }')
  for (const k of Object.keys(spec)) if (!SPEC_KEYS.includes(k)) throw invalid(`unknown scripted spawn key '${k}'; known: ${SPEC_KEYS.join(', ')}`)
  const signal = spec.signal ?? null
  if (signal !== null && os.constants.signals[signal] === undefined) throw invalid(`unknown signal ${JSON.stringify(signal)}`)
  const exitCode = spec.exitCode ?? (signal ? 128 + os.constants.signals[signal] : 0)
  if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) throw invalid('a scripted exitCode must be an integer from 0 to 255')
  const delayMs = spec.delayMs ?? 0
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) throw invalid('a scripted delayMs must be a non-negative number')
  return { exitCode, signal, stdout: text(spec.stdout, 'stdout'), stderr: text(spec.stderr, 'stderr'), delayMs }
}

function defaultSpawnSpec() {
  return normalizeSpawnSpec({})
}

function killedResult(sig) {
  return { exitCode: 128 + (os.constants.signals[sig] ?? 15), signal: sig }
}

function sink() {
  return new Writable({ write: (_chunk, _enc, done) => done() })
}

/** A spawned command that is only simulated (see MockAgentSecrets.spawnAsync). */
class MockSpawnedProcess {
  #finish
  #done
  #timer = null

  /**
   * @param {object} n a normalised spawn (lib/spawn.js normalizeSpawn)
   * @param {object} spec a normalised spawn spec
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

  #schedule(n, spec, refusal) {
    if (refusal) return setImmediate(() => this.#finish({ exitCode: 1, signal: null }, refusal))
    if (n.signal?.aborted) return setImmediate(() => this.#abort(n))
    n.signal?.addEventListener('abort', () => this.#abort(n), { once: true })
    if (n.timeoutMs > 0 && spec.delayMs >= n.timeoutMs) {
      this.#timer = setTimeout(() => this.#timeout(n), n.timeoutMs)
    } else {
      this.#timer = setTimeout(() => this.#finish({ exitCode: spec.exitCode, signal: spec.signal }), spec.delayMs)
    }
  }

  #abort(n) {
    const result = killedResult('SIGTERM')
    this.#finish(result, commandAborted(n.signal?.reason, result))
  }

  #timeout(n) {
    const result = killedResult('SIGTERM')
    this.#finish(result, commandTimeout(n.timeoutMs, result))
  }

  #end(n, out, result, error, resolve, reject) {
    if (this.#finish === null) return
    this.#finish = null
    clearTimeout(this.#timer)
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

  /** Ends the simulated command by `sig` (default SIGTERM); false if it already ended. */
  kill(sig = 'SIGTERM') {
    if (this.#finish === null) return false
    const name = typeof sig === 'number' ? Object.keys(os.constants.signals).find((k) => os.constants.signals[k] === sig) : sig
    if (name === undefined || os.constants.signals[name] === undefined) throw invalid(`unknown signal ${JSON.stringify(sig)}`)
    this.#finish(killedResult(name))
    return true
  }
}

module.exports = { MockSpawnedProcess, normalizeSpawnSpec, defaultSpawnSpec }
