'use strict'

// Parsers for the text the upstream AgentSecrets CLI (github The-17/agentsecrets,
// Go, cobra + lipgloss) prints, which has no `--json` for most commands. Each
// parser turns one command's output into the JSON our engine prints for the
// same operation, so lib/manage.js maps both the same way. Anything that does
// not look exactly like the documented format throws BAD_ENGINE_RESPONSE:
// never a guess, never a silent default.
//
// Formats followed (cmd/agentsecrets/commands/ and pkg/ui/ui.go upstream):
// * `ui.StatusRow(k, v)`    -> "  " + k padded to 30 columns + " " + v
// * `ui.Success(m)`         -> "* " + m;  `ui.Error(m)` -> "x " + m;  `ui.Warning(m)` -> "! " + m
// * `ui.Banner(t)`          -> t and an empty line; `ui.Divider()` -> "  " + 30 x "─"
// * `ui.RenderTable(h, r)`  -> a lipgloss RoundedBorder table (╭ ┬ ╮ │ ├ ┼ ┤ ╰ ┴ ╯)
// Colours are off when stdout is not a terminal; ANSI codes are stripped anyway.

const { makeError } = require('../../errors.js')

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g // eslint-disable-line no-control-regex
const DIVIDER = /^\s*─{10,}\s*$/

/**
 * @param {string} what
 * @param {string} why
 */
function malformed(what, why) {
  return makeError({
    code: 'BAD_ENGINE_RESPONSE',
    message: `the upstream AgentSecrets CLI's \`${what}\` printed output this SDK cannot read (${why})`,
    fix: 'check the upstream CLI version (`agentsecrets --version`) against the formats listed in the SDK README, or use the bundled engine',
  })
}

/**
 * Lines without colours and without the update banner the upstream prints
 * before most commands ("Update Available: a → b", two hints, a divider).
 * @param {string} text
 */
function lines(text) {
  const out = text
    .replace(ANSI, '')
    .split('\n')
    .map((l) => {
      // A spinner redraws with CR: keep what was drawn last.
      const cr = l.lastIndexOf('\r')
      return (cr >= 0 && cr < l.length - 1 ? l.slice(cr + 1) : l.replace(/\r$/, '')).replace(/\s+$/, '')
    })
  const first = out.findIndex((l) => l.trim() !== '')
  if (first >= 0 && out[first].trim().startsWith('Update Available:')) {
    const end = out.findIndex((l, i) => i > first && DIVIDER.test(l))
    if (end > first) return out.slice(end + 1)
  }
  return out
}

/**
 * The message of the first `ui.Error` line ("x ..."), if any.
 * @param {string[]} ls
 */
function errorLine(ls) {
  const l = ls.find((x) => /^x \S/.test(x.trim()))
  return l === undefined ? null : l.trim().slice(2)
}

/**
 * `ui.StatusRow` lines: `{ 'Logged in as:': 'a@b.c', ... }`.
 * @param {string[]} ls
 */
function statusRows(ls) {
  const rows = new Map()
  for (const l of ls) {
    const m = /^ {2}(\S[^:]*:)\s+(.*)$/.exec(l)
    if (m) rows.set(m[1], m[2].trim())
  }
  return rows
}

/**
 * @param {string[]} ls
 * @param {string} title
 */
function hasBanner(ls, title) {
  return ls.some((l) => l.trim() === title)
}

/**
 * The rows of the lipgloss table whose header row is exactly `headers`, as
 * arrays of trimmed cells. Null when there is no such table.
 * @param {string[]} ls
 * @param {string[]} headers
 * @param {string} what
 * @returns {string[][] | null}
 */
function table(ls, headers, what) {
  /** @param {string} l @returns {string[] | null} */
  const cells = (l) => {
    const t = l.trim()
    if (!t.startsWith('│') || !t.endsWith('│')) return null
    return t.slice(1, -1).split('│').map((c) => c.trim())
  }
  const start = ls.findIndex((l) => {
    const c = cells(l)
    return c !== null && c.length === headers.length && c.every((x, i) => x === headers[i])
  })
  if (start < 0) return null
  const rows = []
  for (let i = start + 1; i < ls.length; i++) {
    const t = ls[i].trim()
    if (t.startsWith('├') || t === '') continue
    if (t.startsWith('╰')) return rows
    const c = cells(ls[i])
    if (c === null || c.length !== headers.length) throw malformed(what, `a table row has an unexpected shape: ${JSON.stringify(t.slice(0, 120))}`)
    rows.push(c)
  }
  throw malformed(what, 'the table is not closed')
}

/**
 * The lines of a `Banner(title)` + `Divider()` section, up to the next empty line.
 * @param {string[]} ls
 * @param {string} title
 * @param {string} what
 */
function section(ls, title, what) {
  const b = ls.findIndex((l) => l.trim() === title || l.trim().endsWith(` ${title}`))
  if (b < 0) return null
  let i = b + 1
  while (i < ls.length && ls[i].trim() === '') i++
  if (i >= ls.length || !DIVIDER.test(ls[i])) throw malformed(what, `no divider under "${title}"`)
  const out = []
  for (i++; i < ls.length && ls[i].trim() !== ''; i++) out.push(ls[i].trim())
  return out
}

const NONE = '—'

/**
 * `2025-01-15 09:30` (the upstream cuts the server's UTC ISO time to minutes).
 * @param {string} s
 * @param {string} what
 */
function minuteDate(s, what) {
  if (s === '' || s === NONE) return null
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})$/.exec(s)
  if (!m) throw malformed(what, `unexpected time ${JSON.stringify(s.slice(0, 40))}`)
  return `${m[1]}T${m[2]}:00Z`
}

/**
 * "personal-ws (personal)" -> "personal-ws".
 * @param {string} v
 */
function withoutKind(v) {
  return v.replace(/ \((?:personal|shared)\)$/, '')
}

/**
 * `status` (status.go) -> the engine's status fields this output carries.
 * @param {string} text
 */
function parseStatus(text) {
  const what = 'status'
  const ls = lines(text)
  if (!hasBanner(ls, 'AgentSecrets Status')) throw malformed(what, 'no "AgentSecrets Status" banner')
  const rows = statusRows(ls)
  if (rows.get('Logged in:') === 'No') return { loggedIn: false }
  const email = rows.get('Logged in as:')
  if (email === undefined) throw malformed(what, 'neither "Logged in:" nor "Logged in as:"')
  const ws = rows.get('Selected Workspace:')
  const proj = rows.get('Current Project:')
  if (ws === undefined || proj === undefined) throw malformed(what, 'no "Selected Workspace:" or "Current Project:" row')
  let lastPull = null
  const activity = rows.get('Activity:')
  if (activity !== undefined) {
    const m = /\| Last Pull: (.+)$/.exec(activity)
    if (!m) throw malformed(what, 'unexpected "Activity:" row')
    if (m[1] !== 'Never') {
      if (Number.isNaN(new Date(m[1]).getTime())) throw malformed(what, 'unreadable last pull time')
      lastPull = m[1]
    }
  }
  return {
    loggedIn: true,
    userEmail: email,
    workspaceName: ws === NONE ? null : withoutKind(ws),
    projectName: proj === NONE ? null : proj.replace(/ \(in [^()]*\)$/, ''),
    lastPull,
  }
}

/**
 * @param {string} s
 * @param {string} what
 */
function parseUptime(s, what) {
  const m = /^(?:(\d+)h (\d+)m|(\d+)m (\d+)s|(\d+)s)$/.exec(s)
  if (!m) throw malformed(what, `unexpected uptime ${JSON.stringify(s.slice(0, 40))}`)
  if (m[1] !== undefined) return Number(m[1]) * 3600 + Number(m[2]) * 60
  if (m[3] !== undefined) return Number(m[3]) * 60 + Number(m[4])
  return Number(m[5])
}

/**
 * @param {string} s
 * @param {string} what
 * @param {string} field
 */
function int(s, what, field) {
  if (!/^\d+$/.test(s ?? '')) throw malformed(what, `"${field}" is not a number`)
  return Number(s)
}

/**
 * `proxy status` (proxy.go runProxyStatus).
 * @param {string} text
 */
function parseProxyStatus(text) {
  const what = 'proxy status'
  const ls = lines(text)
  if (!hasBanner(ls, 'Proxy Status')) throw malformed(what, 'no "Proxy Status" banner')
  const rows = statusRows(ls)
  const state = rows.get('Proxy status:')
  if (state === 'not running') return { running: false, pid: null, port: null, uptimeSeconds: null }
  if (state !== 'running') throw malformed(what, 'no "Proxy status:" running / not running row')
  return {
    running: true,
    pid: int(rows.get('PID:'), what, 'PID:'),
    port: int(rows.get('Port:'), what, 'Port:'),
    uptimeSeconds: parseUptime(rows.get('Uptime:') ?? '', what),
  }
}

/**
 * `proxy stop` (proxy.go runProxyStop).
 * @param {string} text
 */
function parseProxyStop(text) {
  const what = 'proxy stop'
  const ls = lines(text).map((l) => l.trim())
  if (ls.includes('No running proxy found (no PID file).')) return { stopped: false, pid: null }
  for (const l of ls) {
    const dead = /^Proxy process (\d+) is already dead\.$/.exec(l)
    if (dead) return { stopped: false, pid: Number(dead[1]) }
  }
  const stopping = ls.map((l) => /^Stopping proxy \(PID (\d+)\)\.\.\.$/.exec(l)).find(Boolean)
  if (stopping && (ls.includes('* Proxy stopped.') || ls.includes('* Proxy force-killed.'))) return { stopped: true, pid: Number(stopping[1]) }
  throw malformed(what, 'no recognised outcome line')
}

/**
 * The column label `secrets list` uses for an environment (envColumnLabel).
 * @param {string} env
 */
function envLabel(env) {
  if (env === 'development') return 'DEV'
  if (env === 'production') return 'PROD'
  return env.toUpperCase()
}

/**
 * `secrets list` (secrets.go runSecretsList): a Key | DEV | STAGING | PROD
 * presence table under "Environment: <env>". Returns the keys present in the
 * active environment, the ones `env --` would inject.
 * @param {string} text
 */
function parseSecretsList(text) {
  const what = 'secrets list'
  const ls = lines(text)
  if (ls.some((l) => l.trim() === '! No secrets found locally in any environment.')) return []
  const envLine = ls.map((l) => /^Environment: (\S+)$/.exec(l.trim())).find(Boolean)
  if (!envLine) throw malformed(what, 'no "Environment:" line')
  const header = ls
    .map((l) => l.trim())
    .find((l) => l.startsWith('│') && l.slice(1).trim().startsWith('Key '))
  if (header === undefined) throw malformed(what, 'no Key table')
  const headers = header.slice(1, -1).split('│').map((c) => c.trim())
  const col = headers.indexOf(envLabel(envLine[1]))
  if (col < 1) throw malformed(what, `no column for environment ${envLine[1]}`)
  const rows = table(ls, headers, what)
  if (rows === null) throw malformed(what, 'no Key table')
  return rows
    .filter((r) => {
      if (!r.slice(1).every((c) => c === '*' || c === '-')) throw malformed(what, 'a presence cell is neither * nor -')
      if (!/^[^\s=]+$/.test(r[0])) throw malformed(what, 'a key cell is not a secret name')
      return r[col] === '*'
    })
    .map((r) => ({ key: r[0], createdAt: null, updatedAt: null }))
}

/**
 * `workspace list` (workspace.go runWorkspaceList): "→  Name (type)" lines.
 * @param {string} text
 */
function parseWorkspaceList(text) {
  const what = 'workspace list'
  const ls = lines(text)
  const entries = section(ls, 'Workspaces', what)
  if (entries === null) {
    if (ls.some((l) => l.trim().startsWith('No workspaces found.'))) return null
    throw malformed(what, 'no "Workspaces" banner')
  }
  return entries.map((l) => {
    const m = /^(→\s+)?(\S.*?) \(([^()]+)\)$/.exec(l)
    if (!m) throw malformed(what, `unexpected workspace line ${JSON.stringify(l.slice(0, 120))}`)
    return { name: m[2], active: m[1] !== undefined, projects: null, createdAt: null }
  })
}

/**
 * `workspace members`: "email (role) status" lines under "👥 Workspace Members".
 * @param {string} text
 */
function parseMembers(text) {
  const what = 'workspace members'
  const entries = section(lines(text), 'Workspace Members', what)
  if (entries === null) throw malformed(what, 'no "Workspace Members" banner')
  return entries.map((l) => {
    const m = /^(\S+@\S+) \(([^()]+)\) (\S+)$/.exec(l)
    if (!m) throw malformed(what, `unexpected member line ${JSON.stringify(l.slice(0, 120))}`)
    return { user: m[1], email: m[1], role: m[2] }
  })
}

/**
 * The rows of a command that prints either `empty` (an info line: no rows)
 * or a table with exactly `headers`.
 * @param {string} text
 * @param {string} what
 * @param {string} empty
 * @param {string[]} headers
 */
function listTable(text, what, empty, headers) {
  const ls = lines(text)
  if (ls.some((l) => l.trim().startsWith(empty))) return []
  const rows = table(ls, headers, what)
  if (rows === null) throw malformed(what, `no ${headers.join(' | ')} table`)
  return rows
}

/**
 * `project list` (project.go runProjectList): Project | Workspace | Description.
 * @param {string} text
 */
function parseProjectList(text) {
  return listTable(text, 'project list', 'No projects found.', ['Project', 'Workspace', 'Description']).map((r) => ({
    name: r[0],
    active: null,
    secretCount: null,
    createdAt: null,
  }))
}

/**
 * `workspace allowlist list` (allowlist.go): Domain | Added By | Added At.
 * @param {string} text
 */
function parseAllowlist(text) {
  const what = 'workspace allowlist list'
  return listTable(text, what, 'No domains in allowlist.', ['Domain', 'Added By', 'Added At']).map((r) => ({ entry: r[0], addedAt: minuteDate(r[2], what) }))
}

/** @type {Record<string, string | undefined>} */
const LOG_ACTIONS = { ADDED: 'add', REMOVED: 'remove' }

/**
 * `workspace allowlist log` (allowlist.go): Time | Domain | User | Action, as listed.
 * @param {string} text
 */
function parseAllowlistLog(text) {
  const what = 'workspace allowlist log'
  return listTable(text, what, 'No allowlist activity found.', ['Time', 'Domain', 'User', 'Action']).map((r) => {
    const action = LOG_ACTIONS[r[3]]
    if (action === undefined) throw malformed(what, `unknown action ${JSON.stringify(r[3].slice(0, 20))}`)
    return { timestamp: minuteDate(r[0], what), action, entry: r[1] }
  })
}

const AUDIT_FIELDS = ['timestamp', 'method', 'target_url', 'status']

/**
 * `logs --json` (log.go): one JSON audit event per line, newest first.
 * Returns them oldest first, in the engine's field names.
 * @param {string} text
 */
function parseAuditJsonl(text) {
  const what = 'logs --json'
  const out = []
  for (const l of lines(text)) {
    const t = l.trim()
    if (t === '') continue
    let e
    try {
      e = JSON.parse(t)
    } catch {
      throw malformed(what, 'a line is not JSON')
    }
    if (e === null || typeof e !== 'object' || Array.isArray(e) || AUDIT_FIELDS.some((f) => typeof e[f] !== 'string')) {
      throw malformed(what, 'a line is not an audit event')
    }
    out.push({
      timestamp: e.timestamp,
      method: e.method,
      target_url: e.target_url,
      domain: typeof e.domain === 'string' ? e.domain : null,
      secret_keys: Array.isArray(e.secret_keys) ? e.secret_keys.filter((/** @type {unknown} */ k) => typeof k === 'string') : [],
      auth_styles: Array.isArray(e.auth_styles) ? e.auth_styles.filter((/** @type {unknown} */ k) => typeof k === 'string') : [],
      status_code: Number.isInteger(e.status_code) ? e.status_code : null,
      status: e.status,
      reason: typeof e.reason === 'string' ? e.reason : null,
      redacted: e.redacted === true,
      duration_ms: Number.isInteger(e.duration_ms) ? e.duration_ms : null,
      agent_id: typeof e.agent_id === 'string' && e.agent_id !== '' ? e.agent_id : null,
      workspace: typeof e.workspace_id === 'string' && e.workspace_id !== '' ? e.workspace_id : null,
      project: typeof e.project_id === 'string' && e.project_id !== '' ? e.project_id : null,
    })
  }
  return out.reverse()
}

/**
 * The first capture of `re` on a "* ..." success line, else BAD_ENGINE_RESPONSE.
 * @param {string} text
 * @param {RegExp} re
 * @param {string} what
 */
function successLine(text, re, what) {
  for (const l of lines(text)) {
    const m = re.exec(l.trim())
    if (m) return m[1]
  }
  throw malformed(what, 'no success line')
}

module.exports = {
  lines,
  errorLine,
  malformed,
  parseStatus,
  parseProxyStatus,
  parseProxyStop,
  parseSecretsList,
  parseWorkspaceList,
  parseMembers,
  parseProjectList,
  parseAllowlist,
  parseAllowlistLog,
  parseAuditJsonl,
  successLine,
}
