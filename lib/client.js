'use strict'

// The public AgentSecrets class: a thin wrapper that checks arguments, hands
// them to the native client and maps its errors to the classes of errors.js.

const { binding, engineCandidates } = require('./native.js')
const { normalizeClientOptions, normalizeCall } = require('./options.js')
const { invalid, dropUndefined } = require('./arguments.js')
const { AgentSecretsResponse } = require('./response.js')
const { prepareFetch, pump, toResponse } = require('./fetch.js')
const { AbortError, convertError } = require('../errors.js')
const { abortError } = require('./stopped.js')
const { checkScopeArgs, runScoped } = require('./scoped.js')
const { normalizeSpawn, startSpawn } = require('./spawn.js')
const { Runner, Secrets, Workspaces, Projects, Allowlist, Proxy, Remote } = require('./manage.js')

/** @typedef {import('../binding').NativeClient} NativeClient */
/** @typedef {import('./options.js').CallDefaults} CallDefaults */
/** @typedef {import('./backends/engine.js').Scope} Scope */
/**
 * What a scoped client shares with the client it was derived from.
 * @typedef {{ native: NativeClient, defaults: CallDefaults, scope: Readonly<Scope>, port: number | undefined }} Parent
 */

// Lets `workspace()` / `project()` build a scoped client on the same native
// client (one pooled transport) without a public constructor form.
const SCOPED = Symbol('scoped')
/** @typedef {typeof SCOPED} ScopedMarker */

let nextCallId = 1
/** A fresh id for `native.cancel()`, wrapping before 2^32. */
function callId() {
  const id = nextCallId
  nextCallId = nextCallId >= 0xfffffff0 ? 1 : nextCallId + 1
  return id
}

class AgentSecrets {
  /** @type {NativeClient} */
  #native
  /** @type {CallDefaults} */
  #defaults
  /** @type {Readonly<Scope>} */
  #scope
  /** @type {Runner} */
  #runner
  #scoped = false
  /** @type {{ secrets: Secrets, workspaces: Workspaces, projects: Projects, allowlist: Allowlist, proxy: Proxy, remote: Remote } | null} */
  #subs = null

  /**
   * @param {import('../index').AgentSecretsOptions | ScopedMarker} [options]
   * @param {Parent} [from] with SCOPED only: the client this one is derived from
   */
  constructor(options, from) {
    if (options === SCOPED) {
      const parent = /** @type {Parent} */ (from)
      this.#native = parent.native
      this.#defaults = parent.defaults
      this.#scope = parent.scope
      this.#scoped = true
      this.#runner = new Runner(this.#native, this.#scope, parent.port)
      return
    }
    const { native, defaults } = normalizeClientOptions(options)
    dropUndefined(native)
    try {
      this.#native = new binding.NativeClient({ ...native, engineCandidates: engineCandidates() })
    } catch (e) {
      throw convertError(e)
    }
    this.#defaults = defaults
    this.#scope = {
      workspace: this.#native.defaultWorkspace ?? undefined,
      project: this.#native.defaultProject ?? undefined,
    }
    this.#runner = new Runner(this.#native, this.#scope, native.port)
  }

  /** The workspace and project this client uses (undefined: the active one). */
  get scope() {
    return { ...this.#scope }
  }

  /** The engine home this client uses. */
  get home() {
    return this.#native.home
  }

  /** The backend this client is bound to: `'engine'` or `'upstream-proxy'` (only when chosen). */
  get backend() {
    return this.#native.backend
  }

  /**
   * Calls `url` through the engine, injecting the named secrets. A call with
   * no injection still goes through the engine, which scans its answer for
   * every stored value; only with `backend: 'upstream-proxy'` does it go
   * straight to the target (that proxy refuses such calls).
   * @param {string | URL} url
   * @param {import('../index').CallOptions} [options]
   * @returns {Promise<AgentSecretsResponse>}
   */
  async call(url, options) {
    const { request, signal } = normalizeCall(url, options, this.#defaults)
    this.#applyScope(request)
    return new AgentSecretsResponse(await this.#cancellable(signal, (id) => this.#native.call(request, id)))
  }

  /**
   * Runs `start(id)`, the addon's call `id`, with `signal` cancelling it; an
   * addon error becomes its class (an abort carries the signal's reason).
   * @template T
   * @param {AbortSignal | undefined} signal
   * @param {(id: number) => Promise<T>} start
   * @returns {Promise<T>}
   */
  async #cancellable(signal, start) {
    if (signal?.aborted) throw abortError(signal)
    const id = callId()
    const native = this.#native
    const onAbort = () => native.cancel(id)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return await start(id)
    } catch (e) {
      const err = convertError(e)
      if (err instanceof AbortError && signal?.aborted) throw abortError(signal)
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Per-request scope: a scoped client's, unless the request names its own.
   * @param {import('../binding').NativeCallRequest} request
   */
  #applyScope(request) {
    if (!this.#scoped) return
    if (request.workspace === undefined && this.#scope.workspace !== undefined) request.workspace = this.#scope.workspace
    if (request.project === undefined && this.#scope.project !== undefined) request.project = this.#scope.project
  }

  /**
   * `fetch(input, init)` through the engine: the WHATWG signature plus the
   * injection options of `call()`. Resolves with a global `Response` whose
   * body streams; HTTP statuses are answers, not errors. `res.redacted` is a
   * promise settled when the body ends.
   * @param {string | URL | Request} input
   * @param {import('../index').FetchInit} [init]
   * @returns {Promise<import('./fetch.js').AgentSecretsFetchResponse>}
   */
  async fetch(input, init) {
    const { request, signal, method, upload } = await prepareFetch(input, init, this.#defaults)
    this.#applyScope(request)
    const sink = upload ? new binding.NativeUpload() : undefined
    const answer = await this.#cancellable(signal, (id) => {
      const answering = this.#native.fetch(request, id, sink)
      if (upload && sink) void pump(upload, sink)
      return answering
    })
    if (signal?.aborted) {
      answer.cancel()
      throw abortError(signal)
    }
    return toResponse(answer, signal, method)
  }

  /**
   * Same as `call()`; kept for parity with the Python SDK's `async_call`.
   * @param {string | URL} url
   * @param {import('../index').CallOptions} [options]
   */
  asyncCall(url, options) {
    return this.call(url, options)
  }

  /**
   * Finds the backend now (starting the engine when allowed) instead of on
   * the first call that needs it.
   * @returns {Promise<import('../index').BackendInfo>}
   */
  async connect() {
    try {
      return await this.#native.connect()
    } catch (e) {
      throw convertError(e)
    }
  }

  /**
   * Runs `command` with the project's secrets in its environment, through
   * the engine's `env` (values never enter this process). Resolves when it
   * exits: `{ exitCode, signal, stdout?, stderr? }` (output when `capture`,
   * masked by the engine).
   * @param {string} command
   * @param {string[]} [args]
   * @param {import('../index').SpawnOptions} [options]
   */
  async spawn(command, args, options) {
    const n = normalizeSpawn(command, args, options, this.#scope)
    if (n.signal?.aborted) throw abortError(n.signal)
    const backend = this.#runner.backend()
    await backend.precheck(n.request)
    return startSpawn(backend, n).wait()
  }

  /**
   * Starts `command` like `spawn()` and returns at once with the running
   * process: `pid`, `stdin`/`stdout`/`stderr` (Node streams with
   * `stdio: 'pipe'`), `wait()` and `kill()`.
   * @param {string} command
   * @param {string[]} [args]
   * @param {import('../index').SpawnOptions} [options]
   */
  spawnAsync(command, args, options) {
    const n = normalizeSpawn(command, args, options, this.#scope)
    const backend = this.#runner.backend()
    // The same check as spawn(), run alongside so that this returns at once:
    // it only decides which error wait() reports when the engine refused.
    const check = backend.precheck(n.request)
    // Handled here: startSpawn may throw, and wait() may never be called.
    check?.catch(() => {})
    return startSpawn(backend, n, check)
  }

  /** `{ userEmail, workspaceName, projectName, lastPull, proxyRunning, storageMode, home }` (the global state). */
  async status() {
    const r = await this.#runner.json(['status'])
    return {
      userEmail: r.userEmail ?? null,
      workspaceName: r.workspaceName ?? null,
      projectName: r.projectName ?? null,
      lastPull: r.lastPull ? new Date(r.lastPull) : null,
      proxyRunning: r.proxyRunning === true,
      storageMode: r.storageMode ?? null,
      home: r.home ?? this.home,
    }
  }

  #sub() {
    if (!this.#subs) {
      const r = this.#runner
      this.#subs = {
        secrets: new Secrets(r),
        workspaces: new Workspaces(r),
        projects: new Projects(r),
        allowlist: new Allowlist(r),
        proxy: new Proxy(r),
        remote: new Remote(r),
      }
    }
    return this.#subs
  }

  /** Secret names and metadata, set and delete (values only on the engine's stdin). */
  get secrets() {
    return this.#sub().secrets
  }

  get workspaces() {
    return this.#sub().workspaces
  }

  get projects() {
    return this.#sub().projects
  }

  /** The workspace allowlist; changes need `{ adminPassword }`. */
  get allowlist() {
    return this.#sub().allowlist
  }

  /** The engine: start, stop, status and audit logs. */
  get proxy() {
    return this.#sub().proxy
  }

  /** The scope's OpenBao / Vault KV v2 binding (teams, CI). */
  get remote() {
    return this.#sub().remote
  }

  /**
   * Makes `name` the active workspace for every program using this home.
   * @param {string} name
   */
  async setWorkspace(name) {
    await this.workspaces.switch(name)
  }

  /**
   * Makes `name` (of the active workspace) the active project for every program using this home.
   * @param {string} name
   */
  async setProject(name) {
    await this.projects.use(name)
  }

  /**
   * A client on the same native client with `scope`; with `fn`, the promise of `fn(scoped)`.
   * @template T
   * @param {Scope} scope
   * @param {((scoped: AgentSecrets) => T | Promise<T>) | undefined} fn
   */
  #derive(scope, fn) {
    // The inherited half may come from an empty option (workspace: '').
    if (typeof scope.workspace === 'string' && scope.workspace.length === 0) throw invalid('workspace name must be a non-empty string')
    if (typeof scope.project === 'string' && scope.project.length === 0) throw invalid('project name must be a non-empty string')
    const scoped = new AgentSecrets(SCOPED, {
      native: this.#native,
      defaults: this.#defaults,
      scope: Object.freeze(scope),
      port: this.#runner.port,
    })
    return runScoped(scoped, fn)
  }

  /**
   * A client scoped to workspace `name` (same connection pool; nothing is
   * switched globally). It keeps this client's project, if one was set. With `fn`, runs `fn(scoped)` and returns its result.
   * @template T
   * @param {string} name
   * @param {(scoped: AgentSecrets) => T | Promise<T>} [fn]
   */
  workspace(name, fn) {
    checkScopeArgs('workspace', name, fn)
    return this.#derive({ workspace: name, project: this.#scope.project }, fn)
  }

  /**
   * A client scoped to project `name` of this client's workspace. With `fn`,
   * runs `fn(scoped)` and returns its result.
   * @template T
   * @param {string} name
   * @param {(scoped: AgentSecrets) => T | Promise<T>} [fn]
   */
  project(name, fn) {
    checkScopeArgs('project', name, fn)
    return this.#derive({ workspace: this.#scope.workspace, project: name }, fn)
  }

  /** Releases pooled connections. Calls made afterwards are refused. A scoped client shares its parent's pool: closing it does nothing. */
  async close() {
    if (this.#scoped) return
    await this.#native.close()
  }
}

module.exports = { AgentSecrets }
