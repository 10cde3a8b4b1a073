'use strict'

// Status and the management sub-clients (secrets, workspaces, projects,
// allowlist, proxy). Each operation runs one engine command through the
// addon (`agentsecrets --json ...`) and turns its JSON into typed objects.
// Secret values and the admin password only travel on the engine's stdin.

const { invalid, nonEmpty, secretKey, secretValue, domains, adminPassword, lastOption } = require('./arguments.js')
const { backendFor } = require('./backends/index.js')
const { scopeFlags, teamOnly } = require('./backends/engine.js')

/** @typedef {import('../binding').NativeClient} NativeClient */
/** @typedef {import('./backends/engine.js').Scope} Scope */
/** @typedef {import('../index').SecretsClient} SecretsClient */
/** @typedef {import('../index').WorkspacesClient} WorkspacesClient */
/** @typedef {import('../index').ProjectsClient} ProjectsClient */
/** @typedef {import('../index').AllowlistClient} AllowlistClient */
/** @typedef {import('../index').ProxyClient} ProxyClient */
/** @typedef {string | null | undefined} JsonDate an ISO date in the engine's JSON */
/** @typedef {{ workspace: string, project: string }} ScopeJson */
/** @typedef {{ workspaceName: string | null, projectName: string | null }} ActiveJson */
/** @typedef {{ timestamp: JsonDate, method: string, target_url: string, domain: string, secret_keys?: string[], auth_styles?: string[], status_code?: number | null, status: string, reason?: string | null, redacted?: boolean, duration_ms?: number | null, agent_id?: string | null, workspace?: string | null, project?: string | null }} AuditJson */

/**
 * Runs the operations of one client and scope on its CLI backend (chosen
 * once, in lib/backends/index.js). `scope` is `{ workspace?, project? }`:
 * passed as flags, never switched globally.
 */
class Runner {
  /**
   * @param {NativeClient} native
   * @param {Scope} scope
   * @param {number} [port]
   */
  constructor(native, scope, port) {
    this.native = native
    this.scope = scope
    this.port = port
  }

  /** The backend of this client. */
  backend() {
    return backendFor(this.native)
  }

  /**
   * @template T
   * @param {string[]} args
   * @param {Buffer} [stdin]
   * @returns {Promise<T>}
   */
  json(args, stdin) {
    return this.backend().json(args, stdin)
  }

  /**
   * The rejection of an operation that needs a team backend (or, upstream, a terminal).
   * @param {string} what
   */
  teamOnly(what) {
    let backend
    try {
      backend = this.backend()
    } catch {
      // No usable CLI: the engine's answer stands.
      return teamOnly(what)
    }
    return backend.teamOnly(what)
  }

  workspaceFlag() {
    return scopeFlags({ workspace: this.scope.workspace })
  }

  scopeFlags() {
    return scopeFlags(this.scope)
  }
}

/** @param {JsonDate} v */
function date(v) {
  return v === null || v === undefined ? null : new Date(v)
}

/**
 * `client.secrets`: names and metadata only, never values.
 * @implements {SecretsClient}
 */
class Secrets {
  #r
  /** @param {Runner} runner */
  constructor(runner) {
    this.#r = runner
  }

  async list() {
    /** @type {Array<{ key: string, createdAt: JsonDate, updatedAt: JsonDate }>} */
    const rows = await this.#r.json(['secrets', 'list', ...this.#r.scopeFlags()])
    return rows.map((r) => ({ key: r.key, createdAt: date(r.createdAt), updatedAt: date(r.updatedAt) }))
  }

  /**
   * Stores `value` under `key`. The value goes to the engine on stdin, never
   * in argv, and is not kept by the SDK.
   * @param {string} key
   * @param {string | Uint8Array} value
   */
  async set(key, value) {
    secretKey(key)
    const bytes = secretValue(value)
    // The engine strips exactly one trailing newline: always send one.
    const stdin = Buffer.concat([bytes, Buffer.from('\n')])
    bytes.fill(0)
    try {
      /** @type {ScopeJson} */
      const r = await this.#r.json(['secrets', 'set', ...this.#r.scopeFlags(), '--', key], stdin)
      return { key, workspace: r.workspace, project: r.project }
    } finally {
      stdin.fill(0)
    }
  }

  /** @param {string} key */
  async delete(key) {
    nonEmpty(key, 'key')
    /** @type {{ workspace: string | null, project: string | null }} */
    const r = await this.#r.json(['secrets', 'delete', ...this.#r.scopeFlags(), '--', key])
    return { key, workspace: r.workspace, project: r.project }
  }

  /**
   * Compares the local vault with the scope's OpenBao binding, by name
   * (values are compared by the engine, never returned).
   * @returns {Promise<import('../index').SecretsDiff>}
   */
  async diff() {
    /** @type {{ keys: import('../index').RemoteDiffEntry[] }} */
    const r = await this.#r.json(['secrets', 'diff', ...this.#r.scopeFlags()])
    return summarize(r.keys)
  }

  /**
   * Copies the bound remote's secrets into the local vault (`secrets pull`).
   * @returns {Promise<import('../index').SyncReport>}
   */
  async pull() {
    return syncReport(await this.#r.json(['secrets', 'pull', ...this.#r.scopeFlags()]))
  }

  /**
   * Pulls, then returns what still differs (parity with the Python SDK's `sync`).
   * @returns {Promise<import('../index').SecretsDiff>}
   */
  async sync() {
    await this.pull()
    return this.diff()
  }

  /**
   * Writes local secrets (or only `keys`) to the bound remote with
   * check-and-set; a key changed remotely since the last pull rejects with
   * `RemoteConflict` naming it. Returns what still differs.
   * @param {string[]} [keys]
   * @returns {Promise<import('../index').SecretsDiff>}
   */
  async push(keys = []) {
    if (!Array.isArray(keys)) throw invalid('keys must be an array of secret names')
    for (const k of keys) secretKey(k)
    await this.#r.json(['secrets', 'push', ...this.#r.scopeFlags(), '--', ...keys])
    return this.diff()
  }
}

/**
 * @param {import('../index').RemoteDiffEntry[]} keys
 * @returns {import('../index').SecretsDiff}
 */
function summarize(keys) {
  const named = (/** @type {string} */ state) => keys.filter((k) => k.state === state).map((k) => k.key)
  const localOnly = named('local-only')
  const remoteOnly = named('remote-only')
  const outOfSync = named('differs')
  return { hasDrift: localOnly.length + remoteOnly.length + outOfSync.length > 0, localOnly, remoteOnly, outOfSync, keys }
}

/**
 * @param {{ workspace: string, project: string, written: string[], unchanged: string[], lastPull: JsonDate }} r
 * @returns {import('../index').SyncReport}
 */
function syncReport(r) {
  return { workspace: r.workspace, project: r.project, written: r.written, unchanged: r.unchanged, lastPull: date(r.lastPull) }
}

/** `remote set` flags: `--name=value`, so no value can pass for a flag. */
const REMOTE_FLAGS = /** @type {const} */ ([
  ['mount', 'mount'],
  ['prefix', 'prefix'],
  ['mode', 'mode'],
  ['tokenEnv', 'token-env'],
  ['tokenFile', 'token-file'],
  ['roleIdEnv', 'role-id-env'],
  ['roleIdFile', 'role-id-file'],
  ['secretIdEnv', 'secret-id-env'],
  ['secretIdFile', 'secret-id-file'],
  ['approleMount', 'approle-mount'],
])

/**
 * `client.remote`: the scope's OpenBao / Vault KV v2 binding. Bindings name
 * where credentials are (an environment variable or a 0600 file), never the
 * credentials. Setting or removing one needs `{ adminPassword }`: it decides
 * where the engine sends a credential.
 */
class Remote {
  #r
  /** @param {Runner} runner */
  constructor(runner) {
    this.#r = runner
  }

  /**
   * Binds the scoped (else active) project, or its whole workspace.
   * @param {import('../index').RemoteOptions} options
   * @returns {Promise<import('../index').RemoteBinding>}
   */
  async set(options) {
    if (options === null || typeof options !== 'object') throw invalid('remote.set() takes an options object')
    nonEmpty(options.address, 'address')
    const args = ['remote', 'set', `--address=${options.address}`, ...this.#r.scopeFlags()]
    for (const [name, flag] of REMOTE_FLAGS) {
      const v = options[name]
      if (v !== undefined) args.push(`--${flag}=${nonEmpty(v, name)}`)
    }
    if (options.cacheTtlSecs !== undefined) {
      if (!Number.isInteger(options.cacheTtlSecs) || options.cacheTtlSecs < 0) throw invalid('cacheTtlSecs must be a whole number of seconds, 0 or more')
      args.push(`--cache-ttl=${options.cacheTtlSecs}`)
    }
    if (options.wholeWorkspace) args.push('--whole-workspace')
    if (options.check === false) args.push('--no-check')
    /** @type {{ binding: import('../index').RemoteBinding }} */
    const r = await this.#withPassword(args, options.adminPassword)
    return r.binding
  }

  /**
   * Runs `args` with the admin password on stdin when one is given (else
   * the engine refuses with `AllowlistModificationDenied`).
   * @template T
   * @param {string[]} args
   * @param {unknown} password
   * @returns {Promise<T>}
   */
  async #withPassword(args, password) {
    const pw = adminPassword(password === undefined ? undefined : { adminPassword: password })
    if (pw === undefined) return this.#r.json(args)
    const stdin = Buffer.from(`${pw}\n`, 'utf8')
    try {
      return await this.#r.json([...args, '--password-stdin'], stdin)
    } finally {
      stdin.fill(0)
    }
  }

  /** @returns {Promise<import('../index').RemoteBinding[]>} the bindings in effect, including `AGENTSECRETS_REMOTE` */
  async show() {
    /** @type {{ bindings: import('../index').RemoteBinding[] }} */
    const r = await this.#r.json(['remote', 'show'])
    return r.bindings
  }

  /**
   * @param {{ wholeWorkspace?: boolean, adminPassword?: string }} [options]
   * @returns {Promise<void>}
   */
  async unset(options = {}) {
    await this.#withPassword(['remote', 'unset', ...this.#r.scopeFlags(), ...(options.wholeWorkspace ? ['--whole-workspace'] : [])], options.adminPassword)
  }
}

/**
 * `client.workspaces`.
 * @implements {WorkspacesClient}
 */
class Workspaces {
  #r
  /** @param {Runner} runner */
  constructor(runner) {
    this.#r = runner
  }

  async list() {
    /** @type {Array<{ name: string, active: boolean, projects: string[] | null, createdAt: JsonDate }>} */
    const rows = await this.#r.json(['workspace', 'list'])
    return rows.map((r) => ({ name: r.name, active: r.active, projects: r.projects, createdAt: date(r.createdAt) }))
  }

  /** Creates a workspace (with a project `default`); the active one is unchanged. */
  /** @param {string} workspace */
  async create(workspace) {
    nonEmpty(workspace, 'workspace name')
    /** @type {{ workspace: string, projects: string[] | null }} */
    const r = await this.#r.json(['workspace', 'create', '--', workspace])
    return { name: r.workspace, projects: r.projects }
  }

  /** Makes `workspace` the active one for every program using this home. */
  /** @param {string} workspace */
  async switch(workspace) {
    nonEmpty(workspace, 'workspace name')
    /** @type {ActiveJson} */
    const r = await this.#r.json(['workspace', 'switch', '--', workspace])
    return { workspaceName: r.workspaceName, projectName: r.projectName }
  }

  /**
   * @param {string} _email
   * @param {{ role?: string }} [_options]
   * @returns {Promise<void>}
   */
  async invite(_email, _options) {
    throw this.#r.teamOnly('workspaces.invite()')
  }

  /** Members of the scoped (else active) workspace; locally, you as owner. */
  async members() {
    /** @type {Array<{ user: string, email?: string | null, role: string }>} */
    const rows = await this.#r.json(['workspace', 'members', ...this.#r.workspaceFlag()])
    return rows.map((r) => ({ user: r.user, email: r.email ?? null, role: r.role }))
  }
}

/**
 * `client.projects` (of the scoped, else active, workspace).
 * @implements {ProjectsClient}
 */
class Projects {
  #r
  /** @param {Runner} runner */
  constructor(runner) {
    this.#r = runner
  }

  async list() {
    /** @type {Array<{ name: string, active: boolean | null, secretCount: number | null, createdAt: JsonDate }>} */
    const rows = await this.#r.json(['project', 'list', ...this.#r.workspaceFlag()])
    return rows.map((r) => ({ name: r.name, active: r.active, secretCount: r.secretCount, createdAt: date(r.createdAt) }))
  }

  /** @param {string} project */
  async create(project) {
    nonEmpty(project, 'project name')
    /** @type {ScopeJson} */
    const r = await this.#r.json(['project', 'create', ...this.#r.workspaceFlag(), '--', project])
    return { name: r.project, workspace: r.workspace }
  }

  /** Deletes a project and its secrets (never the active one). */
  /** @param {string} project */
  async delete(project) {
    nonEmpty(project, 'project name')
    /** @type {ScopeJson & { deletedSecrets: number }} */
    const r = await this.#r.json(['project', 'delete', ...this.#r.workspaceFlag(), '--', project])
    return { name: r.project, workspace: r.workspace, deletedSecrets: r.deletedSecrets }
  }

  /** Makes `project` (of the active workspace) the active one for every program using this home. */
  /** @param {string} project */
  async use(project) {
    nonEmpty(project, 'project name')
    /** @type {ActiveJson} */
    const r = await this.#r.json(['project', 'use', '--', project])
    return { workspaceName: r.workspaceName, projectName: r.projectName }
  }
}

/**
 * `client.allowlist`: reading is free; changes need the admin password a
 * human chose at `agentsecrets init`, given explicitly as `{ adminPassword }`.
 * Without it the engine refuses (`AllowlistModificationDenied`).
 * @implements {AllowlistClient}
 */
class Allowlist {
  #r
  /** @param {Runner} runner */
  constructor(runner) {
    this.#r = runner
  }

  async list() {
    /** @type {Array<{ entry: string, addedAt: JsonDate }>} */
    const rows = await this.#r.json(['workspace', 'allowlist', 'list', ...this.#r.workspaceFlag()])
    return rows.map((r) => ({ entry: r.entry, addedAt: date(r.addedAt) }))
  }

  /**
   * @template T
   * @param {'add' | 'remove'} action
   * @param {unknown} list
   * @param {unknown} options
   * @returns {Promise<T>}
   */
  async #change(action, list, options) {
    const d = domains(list)
    const pw = adminPassword(options)
    const args = ['workspace', 'allowlist', action, ...this.#r.workspaceFlag()]
    let stdin
    if (pw !== undefined) {
      args.push('--password-stdin')
      stdin = Buffer.from(`${pw}\n`, 'utf8')
    }
    args.push('--', ...d)
    try {
      return await this.#r.json(args, stdin)
    } finally {
      stdin?.fill(0)
    }
  }

  /**
   * @param {string | string[]} list
   * @param {import('../index').AllowlistChangeOptions} [options]
   */
  async add(list, options) {
    /** @type {{ added?: string[], alreadyPresent?: string[], workspace: string }} */
    const r = await this.#change('add', list, options)
    return { added: r.added ?? [], alreadyPresent: r.alreadyPresent ?? [], workspace: r.workspace }
  }

  /**
   * @param {string | string[]} list
   * @param {import('../index').AllowlistChangeOptions} [options]
   */
  async remove(list, options) {
    /** @type {{ removed?: string[], notPresent?: string[], workspace: string }} */
    const r = await this.#change('remove', list, options)
    return { removed: r.removed ?? [], notPresent: r.notPresent ?? [], workspace: r.workspace }
  }

  /**
   * History of allowlist changes, oldest first.
   * @param {{ last?: number }} [options]
   */
  async log(options) {
    const args = ['workspace', 'allowlist', 'log', ...this.#r.workspaceFlag()]
    const last = lastOption(options, ['last'])
    if (last !== undefined) args.push(`--last=${last}`)
    /** @type {Array<{ timestamp: JsonDate, action: string, entry: string }>} */
    const rows = await this.#r.json(args)
    return rows.map((r) => ({ timestamp: date(r.timestamp), action: r.action, entry: r.entry }))
  }
}

/**
 * An audit record: names, never values.
 * @param {AuditJson} e
 * @returns {import('../index').AuditEvent}
 */
function auditEvent(e) {
  return {
    timestamp: date(e.timestamp),
    method: e.method,
    targetUrl: e.target_url,
    domain: e.domain,
    secretKeys: e.secret_keys ?? [],
    authStyles: e.auth_styles ?? [],
    statusCode: e.status_code ?? null,
    status: e.status,
    reason: e.reason ?? null,
    redacted: e.redacted === true,
    durationMs: e.duration_ms ?? null,
    agentId: e.agent_id ?? null,
    workspace: e.workspace ?? null,
    project: e.project ?? null,
  }
}

/** @type {readonly string[]} */
const AUDIT_STATUS = ['OK', 'BLOCKED', 'ERROR']

/**
 * `client.proxy`: the engine's lifecycle and audit log.
 * @implements {ProxyClient}
 */
class Proxy {
  #r
  /** @param {Runner} runner */
  constructor(runner) {
    this.#r = runner
  }

  /** Starts the engine in the background (no-op if it runs). */
  async start() {
    const args = ['proxy', 'start', '--detach']
    if (this.#r.port !== undefined) args.push(`--port=${this.#r.port}`)
    /** @type {{ pid: number, port: number, socket?: string | null, alreadyRunning?: boolean }} */
    const r = await this.#r.json(args)
    return { pid: r.pid, port: r.port, socket: r.socket ?? null, alreadyRunning: r.alreadyRunning === true }
  }

  async stop() {
    /** @type {{ stopped?: boolean, pid?: number | null }} */
    const r = await this.#r.json(['proxy', 'stop'])
    return { stopped: r.stopped === true, pid: r.pid ?? null }
  }

  async status() {
    /** @type {{ running?: boolean, pid?: number | null, port?: number | null, socket?: string | null, uptimeSeconds?: number | null, sessionValid?: boolean, version?: string | null }} */
    const r = await this.#r.json(['proxy', 'status'])
    return {
      running: r.running === true,
      pid: r.pid ?? null,
      port: r.port ?? null,
      socket: r.socket ?? null,
      uptimeSeconds: r.uptimeSeconds ?? null,
      sessionValid: r.sessionValid === true,
      version: r.version ?? null,
    }
  }

  /**
   * Audit events, oldest first; filter by `last`, `status`, `secret`.
   * @param {{ last?: number, status?: 'OK' | 'BLOCKED' | 'ERROR', secret?: string }} [options]
   */
  async logs(options) {
    const last = lastOption(options, ['last', 'status', 'secret'])
    const args = ['proxy', 'logs']
    if (last !== undefined) args.push(`--last=${last}`)
    if (options?.status !== undefined) {
      if (!AUDIT_STATUS.includes(options.status)) throw invalid(`status must be one of ${AUDIT_STATUS.join(', ')}`)
      args.push(`--status=${options.status}`)
    }
    if (options?.secret !== undefined) args.push(`--secret=${nonEmpty(options.secret, 'secret')}`)
    /** @type {AuditJson[]} */
    const rows = await this.#r.json(args)
    return rows.map(auditEvent)
  }
}

module.exports = { Runner, Secrets, Workspaces, Projects, Allowlist, Proxy, Remote, AUDIT_STATUS }
