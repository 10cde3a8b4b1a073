'use strict'

// The mock's management sub-clients: the same methods, argument checks and
// result shapes as lib/manage.js, on the in-memory World and Vault.

const { makeError } = require('../../errors.js')
const { AUDIT_STATUS } = require('../manage.js')
const { teamOnly } = require('../backends/engine.js')
const { invalid, nonEmpty, adminPassword, domains, lastOption, secretKey, secretValue } = require('../arguments.js')

/** @typedef {import('../../index').SecretsClient} SecretsClient */
/** @typedef {import('../../index').WorkspacesClient} WorkspacesClient */
/** @typedef {import('../../index').ProjectsClient} ProjectsClient */
/** @typedef {import('../../index').AllowlistClient} AllowlistClient */
/** @typedef {import('../../index').ProxyClient} ProxyClient */
/**
 * What the sub-clients of a mock work on.
 * @typedef {{ vault: import('./vault.js').Vault, world: import('./world.js').World, audit: import('../../index').AuditEvent[], scope: Readonly<import('../backends/engine.js').Scope> }} MockContext
 */

/** @param {string} key */
function secretNotFound(key) {
  return makeError({
    code: 'SECRET_NOT_FOUND',
    message: `secret ${key} does not exist in the scope used`,
    fix: `store it with \`agentsecrets secrets set ${key}\` (the value is read from stdin)`,
    key,
  })
}

/** @implements {SecretsClient} */
class MockSecrets {
  #ctx
  /** @param {MockContext} ctx */
  constructor(ctx) {
    this.#ctx = ctx
  }

  async list() {
    this.#ctx.world.checkScope(this.#ctx.scope.workspace, this.#ctx.scope.project)
    return this.#ctx.vault.list()
  }

  /**
   * Keeps the value in the mock's vault; nothing the mock returns shows it.
   * @param {string} key
   * @param {string | Uint8Array} value
   */
  async set(key, value) {
    secretKey(key)
    const bytes = secretValue(value)
    const { world, scope, vault } = this.#ctx
    world.checkScope(scope.workspace, scope.project)
    vault.set(key, bytes)
    bytes.fill(0)
    return { key, workspace: scope.workspace ?? world.active.workspace, project: scope.project ?? world.active.project }
  }

  /** @param {string} key */
  async delete(key) {
    nonEmpty(key, 'key')
    const { world, scope, vault } = this.#ctx
    world.checkScope(scope.workspace, scope.project)
    if (!vault.delete(key)) throw secretNotFound(key)
    return { key, workspace: scope.workspace ?? world.active.workspace, project: scope.project ?? world.active.project }
  }

  /** @returns {Promise<import('../../index').SecretsDiff>} */
  async diff() {
    throw teamOnly('secrets.diff()')
  }

  /** @returns {Promise<import('../../index').SecretsDiff>} */
  async sync() {
    throw teamOnly('secrets.sync()')
  }

  /** @returns {Promise<import('../../index').SecretsDiff>} */
  async push() {
    throw teamOnly('secrets.push()')
  }
}

/** @implements {WorkspacesClient} */
class MockWorkspaces {
  #ctx
  /** @param {MockContext} ctx */
  constructor(ctx) {
    this.#ctx = ctx
  }

  async list() {
    const { world } = this.#ctx
    return [...world.workspaces].map(([n, ws]) => ({ name: n, active: n === world.active.workspace, projects: [...ws.projects.keys()], createdAt: new Date(ws.createdAt) }))
  }

  /** @param {string} workspace */
  async create(workspace) {
    nonEmpty(workspace, 'workspace name')
    this.#ctx.world.addWorkspace(workspace)
    return { name: workspace, projects: ['default'] }
  }

  /** @param {string} workspace */
  async switch(workspace) {
    nonEmpty(workspace, 'workspace name')
    const { world } = this.#ctx
    world.workspace(workspace)
    world.active = { workspace, project: 'default' }
    return { workspaceName: workspace, projectName: 'default' }
  }

  /**
   * @param {string} _email
   * @param {{ role?: string }} [_options]
   * @returns {Promise<void>}
   */
  async invite(_email, _options) {
    throw teamOnly('workspaces.invite()')
  }

  async members() {
    this.#ctx.world.workspace(this.#ctx.scope.workspace)
    return [{ user: 'local', email: null, role: 'owner' }]
  }
}

/** @implements {ProjectsClient} */
class MockProjects {
  #ctx
  /** @param {MockContext} ctx */
  constructor(ctx) {
    this.#ctx = ctx
  }

  #ws() {
    return this.#ctx.scope.workspace ?? this.#ctx.world.active.workspace
  }

  async list() {
    const { world } = this.#ctx
    const ws = this.#ws()
    return [...world.workspace(ws).projects].map(([n, createdAt]) => ({
      name: n,
      active: ws === world.active.workspace && n === world.active.project,
      secretCount: null,
      createdAt: new Date(createdAt),
    }))
  }

  /** @param {string} project */
  async create(project) {
    nonEmpty(project, 'project name')
    this.#ctx.world.addProject(this.#ws(), project)
    return { name: project, workspace: this.#ws() }
  }

  /** @param {string} project */
  async delete(project) {
    nonEmpty(project, 'project name')
    const { world } = this.#ctx
    const ws = this.#ws()
    world.checkScope(ws, project)
    if (ws === world.active.workspace && project === world.active.project) throw invalid('the active project cannot be deleted; switch to another one first')
    world.workspace(ws).projects.delete(project)
    return { name: project, workspace: ws, deletedSecrets: 0 }
  }

  /** @param {string} project */
  async use(project) {
    nonEmpty(project, 'project name')
    const { world } = this.#ctx
    world.checkScope(world.active.workspace, project)
    world.active = { workspace: world.active.workspace, project }
    return { workspaceName: world.active.workspace, projectName: project }
  }
}

function denied() {
  return makeError({
    code: 'ALLOWLIST_MODIFICATION_DENIED',
    message: 'changing the allowlist needs the admin password',
    fix: 'pass { adminPassword } (the password chosen at `agentsecrets init`), or change the allowlist from a terminal',
  })
}

/** @implements {AllowlistClient} */
class MockAllowlist {
  #ctx
  /** @param {MockContext} ctx */
  constructor(ctx) {
    this.#ctx = ctx
  }

  #ws() {
    return this.#ctx.world.workspace(this.#ctx.scope.workspace)
  }

  #wsName() {
    return this.#ctx.scope.workspace ?? this.#ctx.world.active.workspace
  }

  async list() {
    return [...this.#ws().allowlist].map(([entry, addedAt]) => ({ entry, addedAt: new Date(addedAt) }))
  }

  /**
   * @param {'add' | 'remove'} action
   * @param {unknown} list
   * @param {unknown} options
   */
  #change(action, list, options) {
    const d = domains(list)
    if (adminPassword(options) === undefined) throw denied()
    const ws = this.#ws()
    /** @type {string[]} */
    const done = []
    /** @type {string[]} */
    const skipped = []
    for (const entry of d) {
      const present = ws.allowlist.has(entry)
      if (present === (action === 'add')) skipped.push(entry)
      else {
        if (action === 'add') ws.allowlist.set(entry, new Date())
        else ws.allowlist.delete(entry)
        ws.log.push({ timestamp: new Date(), action, entry })
        done.push(entry)
      }
    }
    return { done, skipped }
  }

  /**
   * @param {string | string[]} list
   * @param {import('../../index').AllowlistChangeOptions} [options]
   */
  async add(list, options) {
    const r = this.#change('add', list, options)
    return { added: r.done, alreadyPresent: r.skipped, workspace: this.#wsName() }
  }

  /**
   * @param {string | string[]} list
   * @param {import('../../index').AllowlistChangeOptions} [options]
   */
  async remove(list, options) {
    const r = this.#change('remove', list, options)
    return { removed: r.done, notPresent: r.skipped, workspace: this.#wsName() }
  }

  /** @param {{ last?: number }} [options] */
  async log(options) {
    const last = lastOption(options, ['last'])
    const rows = this.#ws().log.map((e) => ({ ...e, timestamp: new Date(e.timestamp) }))
    return last === undefined ? rows : rows.slice(Math.max(0, rows.length - last))
  }
}

/** @implements {ProxyClient} */
class MockProxy {
  #ctx
  /** @param {MockContext} ctx */
  constructor(ctx) {
    this.#ctx = ctx
  }

  async start() {
    const { world } = this.#ctx
    const alreadyRunning = world.proxyStartedAt !== null
    world.proxyStartedAt ??= Date.now()
    return { pid: process.pid, port: 0, socket: null, alreadyRunning }
  }

  async stop() {
    const { world } = this.#ctx
    const stopped = world.proxyStartedAt !== null
    world.proxyStartedAt = null
    return { stopped, pid: stopped ? process.pid : null }
  }

  async status() {
    const started = this.#ctx.world.proxyStartedAt
    const running = started !== null
    return {
      running,
      pid: running ? process.pid : null,
      port: running ? 0 : null,
      socket: null,
      uptimeSeconds: started !== null ? Math.floor((Date.now() - started) / 1000) : null,
      sessionValid: running,
      version: null,
    }
  }

  /**
   * The mock's audit events (one per call), oldest first.
   * @param {{ last?: number, status?: 'OK' | 'BLOCKED' | 'ERROR', secret?: string }} [options]
   */
  async logs(options) {
    const last = lastOption(options, ['last', 'status', 'secret'])
    if (options?.status !== undefined && !AUDIT_STATUS.includes(options.status)) throw invalid(`status must be one of ${AUDIT_STATUS.join(', ')}`)
    const secret = options?.secret === undefined ? undefined : nonEmpty(options.secret, 'secret')
    let rows = this.#ctx.audit.filter((e) => (options?.status === undefined || e.status === options.status) && (secret === undefined || e.secretKeys.includes(secret)))
    if (last !== undefined) rows = rows.slice(Math.max(0, rows.length - last))
    return rows.map((e) => ({ ...e, secretKeys: [...e.secretKeys], authStyles: [...e.authStyles], timestamp: e.timestamp === null ? null : new Date(e.timestamp) }))
  }
}

module.exports = { MockSecrets, MockWorkspaces, MockProjects, MockAllowlist, MockProxy, secretNotFound }
