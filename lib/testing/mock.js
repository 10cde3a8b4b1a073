'use strict'

// MockAgentSecrets: a test double with the same interface as AgentSecrets.
// Nothing is sent and no engine runs: calls are recorded (secret NAMES only),
// answered from scripts (default 200 {"ok":true}) and checked like the real
// client (same argument errors, SecretNotFound, UpstreamError...).

const { normalizeCall } = require('../options.js')
const { prepareFetch, chunkBytes, AgentSecretsFetchResponse, NULL_BODY_STATUS } = require('../fetch.js')
const { normalizeSpawn } = require('../spawn.js')
const { abortError } = require('../stopped.js')
const { checkScopeArgs, runScoped } = require('../scoped.js')
const { Vault } = require('./vault.js')
const { World } = require('./world.js')
const { Script } = require('./script.js')
const { normalizeMockOptions } = require('./options.js')
const { callRecord, spawnRecord } = require('./record.js')
const { buildResponse, MOCK_BACKEND } = require('./respond.js')
const { parseTarget, refusal, closedError, delay } = require('./checks.js')
const { auditEvent } = require('./audit.js')
const { MockSpawnedProcess } = require('./spawn.js')
const { MockSecrets, MockWorkspaces, MockProjects, MockAllowlist, MockProxy, secretNotFound } = require('./manage.js')

/** @typedef {import('../../testing').MockCallRecord} MockCallRecord */
/** @typedef {import('../../testing').MockSpawnRecord} MockSpawnRecord */
/** @typedef {import('../../index').CallOptions} CallOptions */
/** @typedef {import('../../index').SpawnOptions} SpawnOptions */
/** @typedef {import('../../index').AuditEvent} AuditEvent */
/** @typedef {import('../../binding').NativeCallRequest} NativeCallRequest */
/** @typedef {import('../spawn.js').NormalizedSpawn} NormalizedSpawn */
/** @typedef {import('../backends/engine.js').Scope} Scope */
/** @typedef {import('./record.js').ScopedCall} ScopedCall */
/** @typedef {import('./record.js').ScopedSpawn} ScopedSpawn */
/** @typedef {import('../response.js').AgentSecretsResponse} AgentSecretsResponse */
/** @typedef {ReturnType<typeof sharedState>} SharedState */
/** @typedef {{ state: SharedState, scope: Readonly<Scope> }} Parent */

const SCOPED = Symbol('scoped')
/** @typedef {typeof SCOPED} ScopedMarker */
const DEFAULT_TIMEOUT_MS = 30000
const MOCK_HOME = '<mock>'

/**
 * A streamed request body, whole (the mock sends nothing anywhere).
 * @param {AsyncIterable<unknown>} source
 */
async function readWhole(source) {
  const chunks = []
  for await (const chunk of source) chunks.push(chunkBytes(chunk))
  return Buffer.concat(chunks)
}

/**
 * The state a mock shares with its scoped clients.
 * @param {ReturnType<typeof normalizeMockOptions>} o
 */
function sharedState(o) {
  const vault = new Vault()
  for (const [key, bytes] of o.secrets ?? []) {
    vault.set(key, bytes)
    bytes.fill(0)
  }
  return {
    vault,
    world: new World({ allowlist: o.allowlist }),
    script: new Script(vault),
    checkSecrets: o.secrets !== undefined,
    home: o.native.home ?? MOCK_HOME,
    defaults: o.defaults,
    /** @type {MockCallRecord[]} */
    calls: [],
    /** @type {MockSpawnRecord[]} */
    spawns: [],
    /** @type {AuditEvent[]} */
    audit: [],
    closed: false,
  }
}

class MockAgentSecrets {
  /** @type {SharedState} */
  #s
  /** @type {Readonly<Scope>} */
  #scope
  #scoped = false
  /** @type {{ secrets: MockSecrets, workspaces: MockWorkspaces, projects: MockProjects, allowlist: MockAllowlist, proxy: MockProxy } | null} */
  #subs = null

  /**
   * @param {import('../../testing').MockAgentSecretsOptions | ScopedMarker} [options]
   * @param {Parent} [from] with SCOPED only: the mock this one is derived from
   */
  constructor(options, from) {
    if (options === SCOPED) {
      const parent = /** @type {Parent} */ (from)
      this.#s = parent.state
      this.#scope = parent.scope
      this.#scoped = true
      return
    }
    const o = normalizeMockOptions(options)
    this.#s = sharedState(o)
    this.#scope = Object.freeze({ workspace: o.native.workspace, project: o.native.project })
  }

  /** Every call made through this mock and its scoped clients, oldest first (names, never values). */
  get calls() {
    return [...this.#s.calls]
  }

  /** Every spawn/spawnAsync, oldest first. */
  get spawns() {
    return [...this.#s.spawns]
  }

  get scope() {
    /** @type {Scope} */
    const out = {}
    if (this.#scope.workspace !== undefined) out.workspace = this.#scope.workspace
    if (this.#scope.project !== undefined) out.project = this.#scope.project
    return out
  }

  get home() {
    return this.#s.home
  }

  /** Always `'mock'`. */
  get backend() {
    return MOCK_BACKEND
  }

  /**
   * Answers calls matching `matcher` with `response` (an object, or a function of the record).
   * @param {import('../../testing').MockCallMatcher} matcher
   * @param {import('../../testing').MockResponder} response
   * @param {import('../../testing').MockScriptOptions} [options]
   */
  respond(matcher, response, options) {
    this.#s.script.respond(matcher, response, options)
    return this
  }

  /**
   * The next call rejects with `error` (an AgentSecretsError).
   * @param {Error} error
   */
  failNext(error) {
    this.#s.script.failNext(error)
    return this
  }

  /**
   * Calls matching `matcher` reject with `error`.
   * @param {import('../../testing').MockCallMatcher} matcher
   * @param {Error} error
   * @param {import('../../testing').MockScriptOptions} [options]
   */
  failWhen(matcher, error, options) {
    this.#s.script.failWhen(matcher, error, options)
    return this
  }

  /**
   * Spawns whose command matches end as `result` (`{ exitCode, signal, stdout, stderr, delayMs }`).
   * @param {import('../../testing').MockSpawnMatcher} matcher
   * @param {import('../../testing').MockSpawnSpec} result
   * @param {import('../../testing').MockScriptOptions} [options]
   */
  respondSpawn(matcher, result, options) {
    this.#s.script.respondSpawn(matcher, result, options)
    return this
  }

  /** Forgets recorded calls, spawns, audit events and scripts; secrets stay. */
  reset() {
    this.#s.calls.length = 0
    this.#s.spawns.length = 0
    this.#s.audit.length = 0
    this.#s.script.reset()
  }

  /**
   * `request` with the workspace and project it uses: its own, the client's, else the active ones.
   * @param {NativeCallRequest} request
   * @returns {ScopedCall}
   */
  #effective(request) {
    const { world } = this.#s
    return { ...request, workspace: request.workspace ?? this.#scope.workspace ?? world.active.workspace, project: request.project ?? this.#scope.project ?? world.active.project }
  }

  /**
   * @param {string | URL} url
   * @param {CallOptions} [options]
   */
  async call(url, options) {
    const { request, signal } = normalizeCall(url, options, this.#s.defaults)
    return this.#run(request, signal)
  }

  /**
   * `fetch()` as the engine path answers it: the same checks, scripts,
   * redaction and records as `call()`, as a global `Response` (a streamed
   * request body is read whole first). HTTP statuses are answers.
   * @param {string | URL | Request} input
   * @param {import('../../index').FetchInit} [init]
   * @returns {Promise<AgentSecretsFetchResponse>}
   */
  async fetch(input, init) {
    const { request, signal, method, upload } = await prepareFetch(input, init, this.#s.defaults)
    if (upload) request.body = await readWhole(upload)
    const res = await this.#run(request, signal)
    const body = NULL_BODY_STATUS.has(res.statusCode) || method === 'HEAD' ? null : res.bytes()
    const headers = new Headers(Object.entries(res.headers))
    return new AgentSecretsFetchResponse(body, { status: res.statusCode, headers }, { url: res.url, backend: res.backend, redacted: Promise.resolve(res.redacted) })
  }

  /**
   * @param {NativeCallRequest} normalized
   * @param {AbortSignal | undefined} signal
   */
  async #run(normalized, signal) {
    if (this.#s.closed) throw closedError()
    if (signal?.aborted) throw abortError(signal)
    const target = parseTarget(normalized.url)
    const request = this.#effective(normalized)
    const record = callRecord(request, this.#s.vault)
    this.#s.calls.push(record)
    const started = Date.now()
    /** @type {{ response?: AgentSecretsResponse, error?: unknown, durationMs: number }} */
    const outcome = { durationMs: 0 }
    try {
      outcome.response = await this.#answer(target, record, request, signal, started)
      return outcome.response
    } catch (e) {
      outcome.error = e
      throw e
    } finally {
      outcome.durationMs = Date.now() - started
      if (record.secretKeys.length > 0) this.#s.audit.push(auditEvent(record, outcome))
    }
  }

  /**
   * @param {URL} target
   * @param {MockCallRecord} record
   * @param {ScopedCall} request
   * @param {AbortSignal | undefined} signal
   * @param {number} started
   */
  async #answer(target, record, request, signal, started) {
    const s = this.#s
    const failure = s.script.failure(record) ?? this.#refusal(target, record)
    if (failure) throw failure
    const spec = await s.script.answer(record)
    await delay(spec.delayMs, request.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal)
    return buildResponse(spec, request, s.vault, Date.now() - started)
  }

  /**
   * @param {URL} target
   * @param {MockCallRecord} record
   */
  #refusal(target, record) {
    if (record.secretKeys.length > 0) this.#s.world.checkScope(record.workspace, record.project)
    return refusal(target, record, this.#s)
  }

  /**
   * @param {string | URL} url
   * @param {CallOptions} [options]
   */
  asyncCall(url, options) {
    return this.call(url, options)
  }

  /** @returns {Promise<import('../../index').MockBackendInfo>} */
  async connect() {
    if (this.#s.closed) throw closedError()
    return { kind: MOCK_BACKEND, viaSocket: false, auth: 'none', baseUrl: 'mock:', features: [] }
  }

  async close() {
    if (!this.#scoped) this.#s.closed = true
  }

  /**
   * @param {string} command
   * @param {string[]} [args]
   * @param {SpawnOptions} [options]
   */
  async spawn(command, args, options) {
    const n = normalizeSpawn(command, args, options, this.#scope)
    if (n.signal?.aborted) throw abortError(n.signal)
    return this.#start(n).wait()
  }

  /**
   * @param {string} command
   * @param {string[]} [args]
   * @param {SpawnOptions} [options]
   */
  spawnAsync(command, args, options) {
    return this.#start(normalizeSpawn(command, args, options, this.#scope))
  }

  /** @param {NormalizedSpawn} normalized */
  #start(normalized) {
    const s = this.#s
    const { request } = normalized
    /** @type {ScopedSpawn} */
    const n = { ...normalized, request: { ...request, workspace: request.workspace ?? s.world.active.workspace, project: request.project ?? s.world.active.project } }
    const record = spawnRecord(n, s.vault)
    s.spawns.push(record)
    return new MockSpawnedProcess(n, s.script.spawnResult(record), s.vault, this.#spawnRefusal(n.request))
  }

  /**
   * Why the engine would refuse to run `request`, if it would.
   * @param {ScopedSpawn['request']} request
   * @returns {Error | undefined}
   */
  #spawnRefusal(request) {
    try {
      this.#s.world.checkScope(request.workspace, request.project)
    } catch (e) {
      // checkScope throws only the SDK's errors.
      return /** @type {Error} */ (e)
    }
    const missing = this.#s.checkSecrets ? (request.only ?? []).find((k) => !this.#s.vault.has(k)) : undefined
    return missing === undefined ? undefined : secretNotFound(missing)
  }

  /** @returns {Promise<import('../../index').Status>} */
  async status() {
    const { world } = this.#s
    return {
      userEmail: null,
      workspaceName: world.active.workspace,
      projectName: world.active.project,
      lastPull: null,
      proxyRunning: world.proxyStartedAt !== null,
      storageMode: 'mock',
      home: this.home,
    }
  }

  #sub() {
    if (!this.#subs) {
      const { vault, world, audit } = this.#s
      const ctx = { vault, world, audit, scope: this.#scope }
      this.#subs = {
        secrets: new MockSecrets(ctx),
        workspaces: new MockWorkspaces(ctx),
        projects: new MockProjects(ctx),
        allowlist: new MockAllowlist(ctx),
        proxy: new MockProxy(ctx),
      }
    }
    return this.#subs
  }

  /** Names and dates only; `set()` keeps the value inside the mock. */
  get secrets() {
    return this.#sub().secrets
  }

  get workspaces() {
    return this.#sub().workspaces
  }

  get projects() {
    return this.#sub().projects
  }

  get allowlist() {
    return this.#sub().allowlist
  }

  get proxy() {
    return this.#sub().proxy
  }

  /** @param {string} name */
  async setWorkspace(name) {
    await this.workspaces.switch(name)
  }

  /** @param {string} name */
  async setProject(name) {
    await this.projects.use(name)
  }

  /**
   * @template T
   * @param {Scope} scope
   * @param {((scoped: MockAgentSecrets) => T | Promise<T>) | undefined} fn
   */
  #derive(scope, fn) {
    const scoped = new MockAgentSecrets(SCOPED, { state: this.#s, scope: Object.freeze(scope) })
    return runScoped(scoped, fn)
  }

  /**
   * @template T
   * @param {string} name
   * @param {(scoped: MockAgentSecrets) => T | Promise<T>} [fn]
   */
  workspace(name, fn) {
    checkScopeArgs('workspace', name, fn)
    return this.#derive({ workspace: name, project: this.#scope.project }, fn)
  }

  /**
   * @template T
   * @param {string} name
   * @param {(scoped: MockAgentSecrets) => T | Promise<T>} [fn]
   */
  project(name, fn) {
    checkScopeArgs('project', name, fn)
    return this.#derive({ workspace: this.#scope.workspace, project: name }, fn)
  }
}

module.exports = { MockAgentSecrets }
