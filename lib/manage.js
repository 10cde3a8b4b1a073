'use strict'

// Status and the management sub-clients (secrets, workspaces, projects,
// allowlist, proxy). Each operation runs one engine command through the
// addon (`agentsecrets --json ...`) and turns its JSON into typed objects.
// Secret values and the admin password only travel on the engine's stdin.

const { BackendUnsupported, convertError, errorFromRecord } = require('../errors.js')
const { invalid } = require('./options.js')
const { cliKind, teamGap, upstreamJson } = require('./upstream_cli.js')

/**
 * Runs engine commands for one client and scope.
 * `scope` is `{ workspace?, project? }`: passed as flags, never switched globally.
 */
class Runner {
  constructor(native, scope, port) {
    this.native = native
    this.scope = scope
    this.port = port
  }

  async json(args, stdin) {
    const cli = cliKind(this.native)
    // The upstream Go CLI has no --json: its text is parsed into the same JSON.
    if (cli.kind === 'upstream') return upstreamJson(cli, args)
    let out
    try {
      out = await this.native.runCli({ args, stdin })
    } catch (e) {
      throw convertError(e)
    }
    try {
      return JSON.parse(out)
    } catch {
      const fix = 'check that AGENTSECRETS_CLI names this project\'s engine'
      throw errorFromRecord({ code: 'BAD_ENGINE_RESPONSE', message: `\`agentsecrets ${args[0]} ${args[1] ?? ''}\` printed output that is not JSON`, fix })
    }
  }

  /** The rejection of an operation that needs a team backend (or, upstream, a terminal). */
  teamOnly(what) {
    let upstream = false
    try {
      upstream = cliKind(this.native).kind === 'upstream'
    } catch {
      // No usable CLI: the engine's answer stands.
    }
    return upstream ? teamGap(what) : unsupported(what, TEAM_FIX)
  }

  workspaceFlag() {
    return this.scope.workspace === undefined ? [] : [`--workspace=${this.scope.workspace}`]
  }

  scopeFlags() {
    const out = this.workspaceFlag()
    if (this.scope.project !== undefined) out.push(`--project=${this.scope.project}`)
    return out
  }
}

function date(v) {
  return v === null || v === undefined ? null : new Date(v)
}

function name(v, what) {
  if (typeof v !== 'string' || v.length === 0) throw invalid(`${what} must be a non-empty string`)
  return v
}

/** Checks a secret name given to `secrets.set()`. */
function secretKey(key) {
  name(key, 'key')
  if (key.startsWith('-') || key.includes('=')) throw invalid("key must be a secret name (letters, digits, '_', '-', '.'; not starting with '-')")
  return key
}

/** A secret value given to `secrets.set()` as a fresh Buffer (the caller may zero it). */
function secretValue(value) {
  let bytes
  if (typeof value === 'string') bytes = Buffer.from(value, 'utf8')
  else if (Buffer.isBuffer(value) || value instanceof Uint8Array) bytes = Buffer.from(value)
  else throw invalid(`value must be a string or a Buffer, got ${value === null ? 'null' : typeof value}`)
  if (bytes.length === 0) throw invalid('value is empty; an empty secret cannot be stored')
  return bytes
}

function unsupported(what, needs) {
  const fix = `${needs}; with the local engine, secrets live only in this machine's vault (see \`agentsecrets status\`)`
  return new BackendUnsupported(`${what} needs a team backend, and none is configured\nTo fix: ${fix}`, {
    code: 'BACKEND_UNSUPPORTED',
    fixHint: fix,
  })
}

const TEAM_FIX = 'configure a team backend (AgentSecrets cloud workspace) to use it'

/** `client.secrets`: names and metadata only, never values. */
class Secrets {
  #r
  constructor(runner) {
    this.#r = runner
  }

  /** @returns {Promise<Array<{ key: string, createdAt: Date | null, updatedAt: Date | null }>>} */
  async list() {
    const rows = await this.#r.json(['secrets', 'list', ...this.#r.scopeFlags()])
    return rows.map((r) => ({ key: r.key, createdAt: date(r.createdAt), updatedAt: date(r.updatedAt) }))
  }

  /**
   * Stores `value` under `key`. The value goes to the engine on stdin, never
   * in argv, and is not kept by the SDK.
   */
  async set(key, value) {
    secretKey(key)
    const bytes = secretValue(value)
    // The engine strips exactly one trailing newline: always send one.
    const stdin = Buffer.concat([bytes, Buffer.from('\n')])
    bytes.fill(0)
    try {
      const r = await this.#r.json(['secrets', 'set', ...this.#r.scopeFlags(), '--', key], stdin)
      return { key, workspace: r.workspace, project: r.project }
    } finally {
      stdin.fill(0)
    }
  }

  async delete(key) {
    name(key, 'key')
    const r = await this.#r.json(['secrets', 'delete', ...this.#r.scopeFlags(), '--', key])
    return { key, workspace: r.workspace, project: r.project }
  }

  async diff() {
    throw this.#r.teamOnly('secrets.diff()')
  }

  async sync() {
    throw this.#r.teamOnly('secrets.sync()')
  }

  async push() {
    throw this.#r.teamOnly('secrets.push()')
  }
}

/** `client.workspaces`. */
class Workspaces {
  #r
  constructor(runner) {
    this.#r = runner
  }

  async list() {
    const rows = await this.#r.json(['workspace', 'list'])
    return rows.map((r) => ({ name: r.name, active: r.active, projects: r.projects, createdAt: date(r.createdAt) }))
  }

  /** Creates a workspace (with a project `default`); the active one is unchanged. */
  async create(workspace) {
    name(workspace, 'workspace name')
    const r = await this.#r.json(['workspace', 'create', '--', workspace])
    return { name: r.workspace, projects: r.projects }
  }

  /** Makes `workspace` the active one for every program using this home. */
  async switch(workspace) {
    name(workspace, 'workspace name')
    const r = await this.#r.json(['workspace', 'switch', '--', workspace])
    return { workspaceName: r.workspaceName, projectName: r.projectName }
  }

  async invite(_email, _options) {
    throw this.#r.teamOnly('workspaces.invite()')
  }

  /** Members of the scoped (else active) workspace; locally, you as owner. */
  async members() {
    const rows = await this.#r.json(['workspace', 'members', ...this.#r.workspaceFlag()])
    return rows.map((r) => ({ user: r.user, email: r.email ?? null, role: r.role }))
  }
}

/** `client.projects` (of the scoped, else active, workspace). */
class Projects {
  #r
  constructor(runner) {
    this.#r = runner
  }

  async list() {
    const rows = await this.#r.json(['project', 'list', ...this.#r.workspaceFlag()])
    return rows.map((r) => ({ name: r.name, active: r.active, secretCount: r.secretCount, createdAt: date(r.createdAt) }))
  }

  async create(project) {
    name(project, 'project name')
    const r = await this.#r.json(['project', 'create', ...this.#r.workspaceFlag(), '--', project])
    return { name: r.project, workspace: r.workspace }
  }

  /** Deletes a project and its secrets (never the active one). */
  async delete(project) {
    name(project, 'project name')
    const r = await this.#r.json(['project', 'delete', ...this.#r.workspaceFlag(), '--', project])
    return { name: r.project, workspace: r.workspace, deletedSecrets: r.deletedSecrets }
  }

  /** Makes `project` (of the active workspace) the active one for every program using this home. */
  async use(project) {
    name(project, 'project name')
    const r = await this.#r.json(['project', 'use', '--', project])
    return { workspaceName: r.workspaceName, projectName: r.projectName }
  }
}

function domains(v) {
  const list = typeof v === 'string' ? [v] : v
  if (!Array.isArray(list) || list.length === 0 || list.some((d) => typeof d !== 'string' || d.length === 0)) {
    throw invalid('domains must be a host name or a non-empty array of host names')
  }
  if (list.some((d) => d.startsWith('-'))) throw invalid('a domain cannot start with \'-\'')
  return list
}

function adminPassword(options) {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('allowlist options must be an object like { adminPassword }')
  for (const k of Object.keys(options)) if (k !== 'adminPassword') throw invalid(`unknown allowlist option '${k}'; known: adminPassword`)
  const pw = options.adminPassword
  if (pw === undefined) return undefined
  if (typeof pw !== 'string' || pw.length === 0 || /[\r\n]/.test(pw)) throw invalid('adminPassword must be a non-empty single-line string')
  return pw
}

/**
 * `client.allowlist`: reading is free; changes need the admin password a
 * human chose at `agentsecrets init`, given explicitly as `{ adminPassword }`.
 * Without it the engine refuses (`AllowlistModificationDenied`).
 */
class Allowlist {
  #r
  constructor(runner) {
    this.#r = runner
  }

  async list() {
    const rows = await this.#r.json(['workspace', 'allowlist', 'list', ...this.#r.workspaceFlag()])
    return rows.map((r) => ({ entry: r.entry, addedAt: date(r.addedAt) }))
  }

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

  /** @returns {Promise<{ added: string[], alreadyPresent: string[], workspace: string }>} */
  async add(list, options) {
    const r = await this.#change('add', list, options)
    return { added: r.added ?? [], alreadyPresent: r.alreadyPresent ?? [], workspace: r.workspace }
  }

  /** @returns {Promise<{ removed: string[], notPresent: string[], workspace: string }>} */
  async remove(list, options) {
    const r = await this.#change('remove', list, options)
    return { removed: r.removed ?? [], notPresent: r.notPresent ?? [], workspace: r.workspace }
  }

  /** History of allowlist changes, oldest first. */
  async log(options) {
    const args = ['workspace', 'allowlist', 'log', ...this.#r.workspaceFlag()]
    const last = lastOption(options, ['last'])
    if (last !== undefined) args.push(`--last=${last}`)
    const rows = await this.#r.json(args)
    return rows.map((r) => ({ timestamp: date(r.timestamp), action: r.action, entry: r.entry }))
  }
}

function lastOption(options, allowed) {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('options must be an object')
  for (const k of Object.keys(options)) if (!allowed.includes(k)) throw invalid(`unknown option '${k}'; known: ${allowed.join(', ')}`)
  const last = options.last
  if (last === undefined) return undefined
  if (!Number.isInteger(last) || last < 0) throw invalid('last must be a non-negative integer')
  return last
}

/** An audit record: names, never values. */
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

const AUDIT_STATUS = ['OK', 'BLOCKED', 'ERROR']

/** `client.proxy`: the engine's lifecycle and audit log. */
class Proxy {
  #r
  constructor(runner) {
    this.#r = runner
  }

  /** Starts the engine in the background (no-op if it runs). */
  async start() {
    const args = ['proxy', 'start', '--detach']
    if (this.#r.port !== undefined) args.push(`--port=${this.#r.port}`)
    const r = await this.#r.json(args)
    return { pid: r.pid, port: r.port, socket: r.socket ?? null, alreadyRunning: r.alreadyRunning === true }
  }

  async stop() {
    const r = await this.#r.json(['proxy', 'stop'])
    return { stopped: r.stopped === true, pid: r.pid ?? null }
  }

  async status() {
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

  /** Audit events, oldest first; filter by `last`, `status`, `secret`. */
  async logs(options) {
    const last = lastOption(options, ['last', 'status', 'secret'])
    const args = ['proxy', 'logs']
    if (last !== undefined) args.push(`--last=${last}`)
    if (options?.status !== undefined) {
      if (!AUDIT_STATUS.includes(options.status)) throw invalid(`status must be one of ${AUDIT_STATUS.join(', ')}`)
      args.push(`--status=${options.status}`)
    }
    if (options?.secret !== undefined) args.push(`--secret=${name(options.secret, 'secret')}`)
    const rows = await this.#r.json(args)
    return rows.map(auditEvent)
  }
}

module.exports = {
  Runner,
  Secrets,
  Workspaces,
  Projects,
  Allowlist,
  Proxy,
  auditEvent,
  unsupported,
  TEAM_FIX,
  AUDIT_STATUS,
  name,
  secretKey,
  secretValue,
  domains,
  adminPassword,
  lastOption,
}
