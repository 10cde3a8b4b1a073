'use strict'

// The mock's workspaces, projects, allowlist and proxy state, kept in memory
// and shared by a mock and its scoped clients. Missing names give the same
// typed errors as the engine.

const { makeError } = require('../../errors.js')

/**
 * @param {'workspace' | 'project'} what
 * @param {string} name
 * @param {string} fix
 */
function notFound(what, name, fix) {
  return makeError({ code: `${what.toUpperCase()}_NOT_FOUND`, message: `${what} '${name}' does not exist`, fix, [what]: name })
}

/**
 * @param {string} what
 * @param {string} name
 */
function exists(what, name) {
  return makeError({ code: 'ALREADY_EXISTS', message: `${what} '${name}' already exists`, fix: `choose another ${what} name` })
}

/**
 * @typedef {object} MockWorkspace
 * @property {Date} createdAt
 * @property {Map<string, Date>} projects project name → created at
 * @property {Map<string, Date>} allowlist entry → added at
 * @property {Array<{ timestamp: Date, action: string, entry: string }>} log allowlist changes
 */

class World {
  /** @param {{ workspace?: string, project?: string, allowlist?: string[] }} [options] */
  constructor({ workspace = 'default', project = 'default', allowlist } = {}) {
    /** @type {Map<string, MockWorkspace>} */
    this.workspaces = new Map()
    this.active = { workspace, project }
    /** @type {number | null} when `proxy.start()` ran (ms since the epoch) */
    this.proxyStartedAt = null
    this.enforceAllowlist = allowlist !== undefined
    this.addWorkspace(workspace)
    this.addProject(workspace, project)
    for (const d of allowlist ?? []) this.workspace(workspace).allowlist.set(d, new Date())
  }

  /** @param {string} name */
  addWorkspace(name) {
    if (this.workspaces.has(name)) throw exists('workspace', name)
    this.workspaces.set(name, { createdAt: new Date(), projects: new Map([['default', new Date()]]), allowlist: new Map(), log: [] })
  }

  workspace(name = this.active.workspace) {
    const ws = this.workspaces.get(name)
    if (ws === undefined) throw notFound('workspace', name, 'list them with `agentsecrets workspace list`, or create it')
    return ws
  }

  /**
   * @param {string} workspace
   * @param {string} name
   */
  addProject(workspace, name) {
    const ws = this.workspace(workspace)
    if (ws.projects.has(name) && name !== 'default') throw exists('project', name)
    ws.projects.set(name, ws.projects.get(name) ?? new Date())
  }

  /** Throws ProjectNotFound unless `project` is in `workspace` (defaults: the active ones). */
  checkScope(workspace = this.active.workspace, project = this.active.project) {
    const ws = this.workspace(workspace)
    if (!ws.projects.has(project)) throw notFound('project', project, 'list them with `agentsecrets project list`, or create it')
  }

  /**
   * Whether `host` is on the allowlist of `workspace` (exact, or `*.suffix`).
   * @param {string} host
   * @param {string} [workspace]
   */
  allows(host, workspace) {
    if (!this.enforceAllowlist) return true
    for (const entry of this.workspace(workspace).allowlist.keys()) {
      if (entry === host || (entry.startsWith('*.') && host.endsWith(entry.slice(1)))) return true
    }
    return false
  }
}

module.exports = { World }
