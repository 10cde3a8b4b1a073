'use strict'

// Spawning a command with the project's secrets in its environment. The
// addon finds the engine and builds `agentsecrets env [scope] -- CMD ARGS`
// (names only, never values); the engine resolves the values, starts the
// child in its own process group and masks the child's output when it is not
// a terminal. We start the engine as a new process-group leader so that a
// timeout or an abort can kill the whole tree with `kill(-pgid)`.

const { spawn: nodeSpawn } = require('node:child_process')
const os = require('node:os')
const { makeError } = require('../errors.js')
const { commandAborted, commandTimeout } = require('./stopped.js')
const { invalid, isPlainObject, describe, checkKeys, optString, optTimeout, optSignal, dropUndefined } = require('./arguments.js')

/** @typedef {import('../binding').NativeEnvRequest} NativeEnvRequest */
/** @typedef {import('../index').SpawnResult} SpawnResult */
/** @typedef {import('./backends/engine.js').Backend} Backend */
/** @typedef {import('./backends/engine.js').Scope} Scope */
/** @typedef {'inherit' | 'pipe' | 'ignore'} Stdio */

/**
 * A checked `spawn()`: what the engine's `env` needs, and how to run it here.
 * @typedef {object} NormalizedSpawn
 * @property {NativeEnvRequest} request
 * @property {boolean} capture
 * @property {Stdio} stdio
 * @property {Record<string, string> | undefined} env
 * @property {string | undefined} cwd
 * @property {number} timeoutMs 0: none
 * @property {string | Uint8Array | undefined} input
 * @property {AbortSignal | undefined} signal
 */

const SPAWN_OPTIONS = ['project', 'workspace', 'only', 'capture', 'stdio', 'env', 'cwd', 'timeoutMs', 'input', 'signal']
/** @type {readonly Stdio[]} */
const STDIO = ['inherit', 'pipe', 'ignore']
/** Time between SIGTERM and SIGKILL when a timeout or abort stops the tree. */
const KILL_GRACE_MS = 1000
/** Why the engine's `env` refuses to run a command (before starting it). */
const REFUSALS = ['NOT_INITIALIZED', 'WORKSPACE_NOT_FOUND', 'PROJECT_NOT_FOUND', 'SECRET_NOT_FOUND']

/**
 * Checks `spawn(command, args, options)`; throws InvalidArgument before
 * anything runs.
 * @param {unknown} command
 * @param {unknown} args
 * @param {unknown} options
 * @param {Scope} [scope] the client's
 * @returns {NormalizedSpawn}
 */
function normalizeSpawn(command, args, options, scope) {
  if (typeof command !== 'string' || command.length === 0) {
    throw invalid(`command must be a non-empty string, got ${describe(command)}`)
  }
  if (args === undefined || args === null) args = []
  if (!Array.isArray(args)) throw invalid(`args must be an array of strings, got ${describe(args)}`)
  for (const a of args) if (typeof a !== 'string') throw invalid(`every argument must be a string, got ${describe(a)}`)
  if (options === undefined || options === null) options = {}
  if (!isPlainObject(options)) throw invalid(`spawn options must be an object, got ${describe(options)}`)
  checkKeys(options, SPAWN_OPTIONS, 'spawn')
  let only
  if (options.only !== undefined) {
    only = typeof options.only === 'string' ? [options.only] : options.only
    if (!Array.isArray(only) || only.some((k) => typeof k !== 'string')) {
      throw invalid('only must be a secret name or an array of secret names')
    }
  }
  if (options.capture !== undefined && typeof options.capture !== 'boolean') {
    throw invalid(`capture must be a boolean, got ${describe(options.capture)}`)
  }
  const capture = options.capture === true
  const stdio = /** @type {Stdio} */ (options.stdio ?? (capture ? 'pipe' : 'inherit'))
  if (!STDIO.includes(stdio)) throw invalid(`stdio must be one of ${STDIO.join(', ')}, got ${JSON.stringify(stdio)}`)
  if (capture && stdio !== 'pipe') throw invalid("capture: true needs stdio 'pipe' (or leave stdio out)")
  /** @type {Record<string, string> | undefined} */
  let env
  if (options.env !== undefined) {
    if (!isPlainObject(options.env)) throw invalid(`env must be an object of plain variables, got ${describe(options.env)}`)
    env = {}
    for (const [k, v] of Object.entries(options.env)) {
      if (v === undefined) continue
      if (typeof v !== 'string' && typeof v !== 'number') throw invalid(`env variable '${k}' must be a string, got ${describe(v)}`)
      env[k] = String(v)
    }
  }
  const timeoutMs = optTimeout(options.timeoutMs) ?? 0
  const input = options.input
  if (input !== undefined && typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw invalid(`input must be a string, a Buffer or a Uint8Array, got ${describe(input)}`)
  }
  const signal = optSignal(options.signal)
  /** @type {NativeEnvRequest} */
  const request = {
    command,
    args: args.slice(),
    workspace: optString(options.workspace, 'workspace') ?? scope?.workspace,
    project: optString(options.project, 'project') ?? scope?.project,
    only,
  }
  return {
    request: dropUndefined(request),
    capture,
    stdio,
    env,
    cwd: optString(options.cwd, 'cwd'),
    timeoutMs,
    input,
    signal,
  }
}

/**
 * How the command ended, from how the engine ended. The engine ends by the
 * signal its command died of, so a signal is exact and an exit code is only
 * an exit code (a command may exit 130 by itself). `exitCode` is 128+N
 * whenever signal N ended the command (shell convention).
 */
/**
 * @param {number | null} code
 * @param {NodeJS.Signals | null} signal
 * @returns {SpawnResult}
 */
function outcomeOf(code, signal) {
  if (!signal) return { exitCode: code, signal: null }
  const n = os.constants.signals[signal]
  return { exitCode: code ?? (n ? 128 + n : null), signal }
}

// Signals sent to this process while children run are passed on to the
// engine, which forwards TERM/HUP/USR1/USR2 always and INT/QUIT when its
// stdin is not a terminal. With a terminal on stdin the engine leaves INT and
// QUIT to the terminal, which no longer reaches the child (it is in its own
// session), so those go to the child's whole group instead. One delivery
// each: a second Ctrl-C means "force quit" to many programs.
/** @type {Set<SpawnedProcess>} */
const live = new Set()
/** @type {readonly NodeJS.Signals[]} */
const FORWARD = ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2']
/** @type {Map<NodeJS.Signals, () => void>} */
const handlers = new Map()

/** @param {NodeJS.Signals} sig */
function forward(sig) {
  for (const p of live) {
    // Only started processes (with a pid) are live.
    if (p.pid === undefined) continue
    const group = p.ttyStdin && (sig === 'SIGINT' || sig === 'SIGQUIT')
    try {
      process.kill(group ? -p.pid : p.pid, sig)
    } catch {
      // Already gone.
    }
  }
  // Keep the default action of a signal nobody else handles: after passing
  // it on, this process ends as it would have without children.
  if (process.listenerCount(sig) === 1 && sig !== 'SIGUSR1' && sig !== 'SIGUSR2') {
    uninstall()
    process.kill(process.pid, sig)
  }
}

function install() {
  if (handlers.size > 0) return
  for (const sig of FORWARD) {
    const h = () => forward(sig)
    handlers.set(sig, h)
    try {
      process.on(sig, h)
    } catch {
      handlers.delete(sig)
    }
  }
}

function uninstall() {
  for (const [sig, h] of handlers) process.removeListener(sig, h)
  handlers.clear()
}

/**
 * @param {number | undefined} pid the group's leader (undefined: it never started)
 * @param {NodeJS.Signals | number} sig
 */
function killGroup(pid, sig) {
  if (pid === undefined) return false
  try {
    process.kill(-pid, sig)
    return true
  } catch {
    return false
  }
}

// A child outliving this process would keep its secrets alive: stop them.
process.on('exit', () => {
  for (const p of live) killGroup(p.pid, 'SIGTERM')
})

/** A running spawned command (see `AgentSecrets.spawnAsync`). */
class SpawnedProcess {
  #child
  /** @type {Promise<SpawnResult>} */
  #done
  /** @type {NodeJS.Timeout | null} */
  #stopping = null
  /** @type {'timeout' | 'abort' | null} */
  #reason = null

  /**
   * @param {import('node:child_process').ChildProcess} child the engine's `env`
   * @param {{ capture: boolean, timeoutMs: number, signal?: AbortSignal, input?: string | Uint8Array, ttyStdin: boolean, check?: Promise<void> }} how
   */
  constructor(child, { capture, timeoutMs, signal, input, ttyStdin, check }) {
    this.#child = child
    /** Whether the engine's stdin is a terminal (it then leaves INT/QUIT to the terminal). */
    this.ttyStdin = ttyStdin === true
    /** Process id of the engine, which is also the process group id of the tree. */
    this.pid = child.pid
    /** Node streams when stdio is 'pipe', else null. */
    this.stdin = child.stdin
    this.stdout = capture ? null : child.stdout
    this.stderr = capture ? null : child.stderr
    /** @type {Buffer[]} */
    const out = []
    /** @type {Buffer[]} */
    const err = []
    if (capture) {
      child.stdout?.on('data', (c) => out.push(c))
      child.stderr?.on('data', (c) => err.push(c))
    }
    if (input !== undefined && child.stdin) {
      child.stdin.on('error', () => {
        // The child may exit without reading its input.
      })
      child.stdin.end(input)
    }
    /** @type {NodeJS.Timeout | null} */
    let timer = null
    const onAbort = () => this.#stop('abort')
    this.#done = new Promise((resolve, reject) => {
      child.once('error', (e) => {
        cleanup()
        reject(
          makeError({
            code: 'CLI_ERROR',
            message: `cannot run the agentsecrets engine: ${e.message}`,
            fix: 'check that the engine binary is executable, or set AGENTSECRETS_CLI',
            cause: e,
          }),
        )
      })
      child.once('close', (code, sig) => {
        cleanup()
        const result = outcomeOf(code, sig)
        if (capture) {
          result.stdout = Buffer.concat(out).toString('utf8')
          result.stderr = Buffer.concat(err).toString('utf8')
        }
        if (this.#reason === 'timeout') {
          reject(commandTimeout(timeoutMs, result))
        } else if (this.#reason === 'abort') {
          reject(commandAborted(signal?.reason, result))
        } else if (check && code !== 0) {
          // The engine refused to run the command for what the check found
          // (a missing home, workspace, project or secret): say it typed.
          check.then(
            () => resolve(result),
            (e) => {
              if (!REFUSALS.includes(e?.code)) return resolve(result)
              e.result = result
              reject(e)
            },
          )
        } else {
          resolve(result)
        }
      })
    })
    // wait() may be called late; never report an unhandled rejection meanwhile.
    this.#done.catch(() => {})
    const cleanup = () => {
      live.delete(this)
      if (live.size === 0) uninstall()
      if (timer) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (this.#stopping) clearTimeout(this.#stopping)
    }
    if (child.pid !== undefined) {
      live.add(this)
      install()
    }
    if (timeoutMs > 0) timer = setTimeout(() => this.#stop('timeout'), timeoutMs)
    if (signal) {
      if (signal.aborted) queueMicrotask(onAbort)
      else signal.addEventListener('abort', onAbort, { once: true })
    }
  }

  /** Terminates the whole tree: SIGTERM to the group, SIGKILL after a grace period. */
  /** @param {'timeout' | 'abort'} reason */
  #stop(reason) {
    if (this.#reason || this.#child.exitCode !== null || this.#child.signalCode !== null) return
    this.#reason = reason
    killGroup(this.pid, 'SIGTERM')
    this.#stopping = setTimeout(() => killGroup(this.pid, 'SIGKILL'), KILL_GRACE_MS)
    this.#stopping.unref()
  }

  /**
   * Resolves with `{ exitCode, signal, stdout?, stderr? }` when the command
   * exits; rejects with TimeoutError / AbortError (with `.result`) when it
   * was killed for that reason, and with WorkspaceNotFound / ProjectNotFound /
   * SecretNotFound / NotInitialized (with `.result`) when it could not run.
   */
  wait() {
    return this.#done
  }

  /**
   * Sends `sig` (default SIGTERM) to the whole process tree. Returns false if it is gone.
   * @param {NodeJS.Signals | number} [sig]
   */
  kill(sig = 'SIGTERM') {
    return killGroup(this.pid, sig)
  }
}

/**
 * Starts `normalized` under the `env` command of `backend` (ours masks the
 * child's output; the upstream CLI's is refused where it would not).
 * @param {Backend} backend
 * @param {NormalizedSpawn} normalized
 * @param {Promise<void>} [check] the backend's precheck, run alongside
 */
function startSpawn(backend, normalized, check) {
  const cmd = backend.envCommand(normalized)
  const { capture, stdio, env, cwd, timeoutMs, input, signal } = normalized
  const stdinMode = input !== undefined ? 'pipe' : stdio
  const child = nodeSpawn(cmd.file, cmd.args, {
    env: { ...process.env, ...env, AGENTSECRETS_HOME: cmd.home },
    cwd,
    stdio: [stdinMode, stdio, stdio],
    // A new session and process group, so the tree can be killed as one.
    detached: true,
  })
  const ttyStdin = stdinMode === 'inherit' && process.stdin.isTTY === true
  return new SpawnedProcess(child, { capture, timeoutMs, signal, input, ttyStdin, check })
}

module.exports = { normalizeSpawn, startSpawn, SpawnedProcess }
