'use strict'

// The upstream AgentSecrets CLI (github The-17/agentsecrets, Go) as the CLI
// backend (chosen in lib/backends/index.js), with the operations of
// lib/backends/engine.js.
//
// Every engine command the SDK would run (`--json ARGS`) is mapped to the
// upstream command and its text parsed (upstream_parse.js) into the JSON the
// engine would have printed. What the upstream cannot do safely or at all is
// refused by `unsupported()` (BackendUnsupported) before anything runs: a
// value in argv (`secrets set KEY=VALUE`), a per-request workspace/project
// (it has none), prompts that need a terminal, output that cannot be read
// reliably.

const { execFile } = require('node:child_process')
const os = require('node:os')
const path = require('node:path')
const { makeError } = require('../../errors.js')
const { invalid } = require('../arguments.js')
const parse = require('./upstream_parse.js')

/** @typedef {import('../../binding').NativeClient} NativeClient */
/** @typedef {import('../../binding').NativeEnvCommand} NativeEnvCommand */
/** @typedef {import('../spawn.js').NormalizedSpawn} NormalizedSpawn */
/** @typedef {import('./engine.js').Backend} Backend */

const RUN_TIMEOUT_MS = 60_000
const MAX_OUTPUT = 16 * 1024 * 1024
const BUNDLED_FIX = 'use the bundled engine (unset AGENTSECRETS_CLI and the `cli` option), which supports it'

/** The environment for upstream commands: no colours, no terminal. */
function quietEnv() {
  return { ...process.env, NO_COLOR: '1', TERM: 'dumb' }
}

/**
 * The one refusal of what the upstream CLI cannot do.
 * @param {string} what the operation
 * @param {string} why why the upstream cannot do it
 * @param {string} [fix]
 */
function unsupported(what, why, fix = BUNDLED_FIX) {
  return makeError({ code: 'BACKEND_UNSUPPORTED', message: `${what} is not supported with the upstream AgentSecrets CLI: ${why}`, fix })
}

const SCOPE_WHY = 'it has no per-request workspace or project (it uses the globally selected workspace and the project linked to the working directory), and using another one than asked would be wrong'
const SCOPE_FIX = 'drop the workspace/project (scoped client, option, AGENTSECRETS_WORKSPACE/AGENTSECRETS_PROJECT) and switch globally with `agentsecrets workspace switch` / `agentsecrets project use`, or use the bundled engine'

/**
 * Known upstream failures, by their message, to the SDK's codes.
 * @type {Array<[RegExp, string, string]>}
 */
const FAILURES = [
  [/workspace .* not found/i, 'WORKSPACE_NOT_FOUND', 'check the name with `workspaces.list()`'],
  [/secret .* does not exist|secret .* not found/i, 'SECRET_NOT_FOUND', 'check the name with `secrets.list()`'],
  [/no (?:active )?project|no project configured/i, 'PROJECT_NOT_FOUND', 'link a project to the working directory with `agentsecrets project use NAME`'],
  [/not logged in|no workspace selected/i, 'NOT_INITIALIZED', 'run `agentsecrets login` (or `agentsecrets init`) once, in a terminal'],
]

/**
 * @param {string} what
 * @param {string} text
 * @param {number | null} exitCode
 */
function failure(what, text, exitCode) {
  const line = parse.errorLine(parse.lines(text))
  const detail = line === null ? 'and printed no error' : line.replace(/^\[[A-Z0-9_-]+\] /, '').slice(0, 300)
  for (const [re, code, fix] of FAILURES) {
    if (line !== null && re.test(line)) return makeError({ code, message: `upstream \`agentsecrets ${what}\`: ${detail}`, fix })
  }
  return makeError({
    code: 'CLI_ERROR',
    message: `upstream \`agentsecrets ${what}\` failed (exit ${exitCode ?? 'signal'})${line === null ? ' ' : ': '}${detail}`,
    fix: `run \`agentsecrets ${what}\` by hand in a terminal to see the full error`,
    exitCode,
  })
}

/**
 * Runs `file args` (no stdin: a prompt fails at once instead of hanging) and
 * resolves with its stdout. Non-zero exit, or a `x ...` error line on exit 0
 * (several upstream commands print an error and exit 0), rejects.
 * @param {string} file
 * @param {string[]} args
 * @param {string} what
 * @returns {Promise<string>}
 */
function run(file, args, what) {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env: quietEnv(), timeout: RUN_TIMEOUT_MS, maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        const fix = `run \`agentsecrets ${what}\` by hand to see what blocks it`
        const why = err.killed ? `did not finish within ${RUN_TIMEOUT_MS} ms` : `could not run: ${err.code ?? err.message}`
        reject(makeError({ code: err.killed ? 'TIMEOUT' : 'CLI_ERROR', message: `upstream \`agentsecrets ${what}\` ${why}`, fix }))
        return
      }
      const text = `${stdout}\n${stderr}`
      // A number: the exit code of a run that failed.
      if (err) return reject(failure(what, text, typeof err.code === 'number' ? err.code : null))
      if (parse.errorLine(parse.lines(stdout)) !== null) return reject(failure(what, text, 0))
      resolve(stdout)
    })
    child.stdin?.end()
  })
}

/**
 * Splits engine argv into words, `--flag[=value]`s and operands after `--`.
 * @param {string[]} args
 */
function splitArgs(args) {
  const words = []
  /** @type {Record<string, string | true | undefined>} */
  const flags = {}
  const operands = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === '--') {
      operands.push(...args.slice(i + 1))
      break
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      if (eq < 0) flags[a.slice(2)] = true
      else flags[a.slice(2, eq)] = a.slice(eq + 1)
    } else words.push(a)
  }
  return { op: words.join(' '), flags, operands }
}

/**
 * One operand that the upstream's cobra must not take for a flag.
 * @param {string[]} operands
 * @param {string} what
 */
function operand(operands, what) {
  if (operands.length !== 1 || operands[0].startsWith('-')) throw invalid(`${what} takes one name that does not start with '-'`)
  return operands[0]
}

/** The upstream keeps its state in ~/.agentsecrets whatever AGENTSECRETS_HOME says. */
function upstreamHome() {
  return path.join(os.homedir(), '.agentsecrets')
}

/**
 * The JSON our engine prints for `--json ARGS`, produced by the upstream CLI
 * `info.file`. Rejects with BackendUnsupported for what it cannot do.
 * @param {{ file: string, version: string }} info
 * @param {string[]} args
 */
async function upstreamJson(info, args) {
  const { op, flags, operands } = splitArgs(args)
  const f = info.file
  if (flags.workspace !== undefined || flags.project !== undefined) throw unsupported(`a workspace/project scope on \`${op}\``, SCOPE_WHY, SCOPE_FIX)
  switch (op) {
    case 'status': {
      const { loggedIn, ...s } = parse.parseStatus(await run(f, ['status'], 'status'))
      if (!loggedIn) {
        const fix = 'run `agentsecrets login` (or `agentsecrets init`) once, in a terminal'
        throw makeError({ code: 'NOT_INITIALIZED', message: 'the upstream AgentSecrets CLI is not logged in', fix })
      }
      const p = parse.parseProxyStatus(await run(f, ['proxy', 'status'], 'proxy status'))
      return { ...s, proxyRunning: p.running, storageMode: null, home: upstreamHome() }
    }
    case 'secrets list':
      return parse.parseSecretsList(await run(f, ['secrets', 'list'], 'secrets list'))
    case 'secrets set':
      throw unsupported(
        'secrets.set()',
        'its `secrets set KEY=VALUE` puts the value in argv, where any local process can read it in /proc/*/cmdline',
        'store the secret with the bundled engine (the value goes on stdin), or type `agentsecrets secrets set` yourself in a terminal',
      )
    case 'secrets delete': {
      const key = operand(operands, 'secrets.delete()')
      const out = await run(f, ['secrets', 'delete', '--', key], 'secrets delete')
      if (parse.lines(out).some((l) => l.trim().endsWith('Delete cancelled.'))) {
        throw unsupported('secrets.delete() in the production environment', 'the upstream asks for a confirmation and the password on a terminal', 'delete it by hand in a terminal')
      }
      const deleted = parse.successLine(out, /^\* Deleted (.+) from cloud and local files\.$/, 'secrets delete')
      if (deleted !== key) throw parse.malformed('secrets delete', 'it reports another key deleted')
      return { key, workspace: null, project: null }
    }
    case 'workspace list': {
      const rows = parse.parseWorkspaceList(await run(f, ['workspace', 'list'], 'workspace list'))
      if (rows === null) {
        const fix = 'run `agentsecrets login` once, in a terminal, to sync the workspaces'
        throw makeError({ code: 'NOT_INITIALIZED', message: 'the upstream AgentSecrets CLI has no workspaces (not logged in)', fix })
      }
      return rows
    }
    case 'workspace create': {
      const name = operand(operands, 'workspaces.create()')
      const made = parse.successLine(await run(f, ['workspace', 'create', '--', name], 'workspace create'), /^\* Workspace (.+) created and selected!$/, 'workspace create')
      if (made !== name) throw parse.malformed('workspace create', 'it reports another workspace created')
      return { workspace: name, projects: null }
    }
    case 'workspace switch': {
      const name = operand(operands, 'workspaces.switch()')
      const now = parse.successLine(await run(f, ['workspace', 'switch', '--', name], 'workspace switch'), /^\* Switched to workspace: (.+)$/, 'workspace switch')
      return { workspaceName: now, projectName: null }
    }
    case 'workspace members':
      return parse.parseMembers(await run(f, ['workspace', 'members'], 'workspace members'))
    case 'project list':
      return parse.parseProjectList(await run(f, ['project', 'list'], 'project list'))
    case 'project create':
      throw unsupported('projects.create()', 'its `project create` always asks for a description on a terminal', 'create the project by hand in a terminal (`agentsecrets project create NAME`)')
    case 'project delete':
      throw unsupported('projects.delete()', 'it has no command to delete a project')
    case 'project use': {
      const name = operand(operands, 'projects.use()')
      const now = parse.successLine(await run(f, ['project', 'use', '--', name], 'project use'), /^\* Now using project '(.+)'!$/, 'project use')
      return { workspaceName: null, projectName: now }
    }
    case 'workspace allowlist list':
      return parse.parseAllowlist(await run(f, ['workspace', 'allowlist', 'list'], 'workspace allowlist list'))
    case 'workspace allowlist add':
    case 'workspace allowlist remove':
      throw unsupported(
        `allowlist.${op.split(' ')[2]}()`,
        'it reads the account password only from a terminal, so no program can pass it; nothing was changed',
        `a person runs \`agentsecrets ${op} DOMAIN\` in a terminal`,
      )
    case 'workspace allowlist log': {
      const rows = parse.parseAllowlistLog(await run(f, ['workspace', 'allowlist', 'log'], 'workspace allowlist log'))
      return typeof flags.last === 'string' ? rows.slice(Math.max(0, rows.length - Number(flags.last))) : rows
    }
    case 'proxy start':
      throw unsupported('proxy.start()', 'its `proxy start` runs in the foreground until stopped and has no detached mode', 'start it yourself (`agentsecrets proxy start` in a terminal or a service manager)')
    case 'proxy stop':
      return parse.parseProxyStop(await run(f, ['proxy', 'stop'], 'proxy stop'))
    case 'proxy status': {
      const p = parse.parseProxyStatus(await run(f, ['proxy', 'status'], 'proxy status'))
      return { ...p, socket: null, sessionValid: false, version: info.version }
    }
    case 'proxy logs': {
      const a = ['logs', '--json']
      if (typeof flags.last === 'string') a.push(`--limit=${flags.last}`)
      if (typeof flags.secret === 'string') a.push(`--credential=${flags.secret}`)
      if (flags.status === 'BLOCKED') a.push('--blocked')
      const events = parse.parseAuditJsonl(await run(f, a, 'logs --json'))
      return typeof flags.status === 'string' ? events.filter((e) => e.status === flags.status) : events
    }
    default:
      throw unsupported(`\`${op}\``, 'there is no matching upstream command')
  }
}

/** Why the operations the engine leaves to a team backend are not offered on the upstream CLI either, and what to run instead. */
/** @type {Record<string, [string, string]>} */
const TEAM_GAPS = {
  'secrets.diff()': ['its `secrets diff` text (secrets and allowlist sections named after environments) is not parsed by this SDK', 'secrets diff'],
  'secrets.sync()': ['its `secrets pull` asks how to resolve conflicts on a terminal', 'secrets pull'],
  'secrets.push()': ['its `secrets push` asks what to do with cloud-only keys on a terminal', 'secrets push'],
  'workspaces.invite()': ['its `workspace invite` asks for the role and the account password on a terminal', 'workspace invite EMAIL'],
}

/**
 * BackendUnsupported for `what` (a key of TEAM_GAPS) on the upstream CLI.
 * @param {string} what
 */
function teamGap(what) {
  const [why, command] = TEAM_GAPS[what]
  return unsupported(what, why, `run \`agentsecrets ${command}\` by hand in a terminal`)
}

/**
 * The command that runs `request` under the upstream's `env -- CMD ARGS`.
 * That `env` injects every secret of the linked project and does not mask
 * what the child prints, so nothing the child prints may come back to this
 * process: only inherited or ignored stdio, no scope, no `only`.
 * @param {string} file
 * @param {NormalizedSpawn} normalized
 */
function upstreamEnvCommand(file, normalized) {
  const { request, capture, stdio } = normalized
  const what = 'spawning'
  if (capture || stdio === 'pipe') {
    throw unsupported(
      `${what} with \`capture: true\` or \`stdio: 'pipe'\``,
      "its `env` does not mask the child's output (and injects every secret of the project), so piped output could carry a secret value into this process",
      "use `stdio: 'inherit'` or `'ignore'`, or " + BUNDLED_FIX.replace(/^use/, 'switch to'),
    )
  }
  if (request.only !== undefined) {
    throw unsupported(`${what} with \`only\``, 'its `env` always injects every secret of the project')
  }
  if (request.workspace !== undefined || request.project !== undefined) throw unsupported(`${what} with a workspace/project`, SCOPE_WHY, SCOPE_FIX)
  if ([request.command, ...request.args].some((a) => a.includes('\0'))) {
    throw invalid('the command and its arguments must not contain NUL characters')
  }
  return { file, args: ['env', '--', request.command, ...request.args] }
}

/** @implements {Backend} */
class UpstreamCliBackend {
  #native

  /**
   * @param {NativeClient} native
   * @param {string} file
   * @param {string} version
   */
  constructor(native, file, version) {
    this.#native = native
    /** @type {'upstream'} */
    this.kind = 'upstream'
    this.file = file
    this.version = version
  }

  /**
   * The upstream has no stdin input for any mapped command: `stdin` is never needed.
   * @template T
   * @param {string[]} args
   * @returns {Promise<T>}
   */
  json(args) {
    // Each operation's JSON is the shape the engine prints for it, which the caller names as T.
    return /** @type {Promise<T>} */ (/** @type {Promise<unknown>} */ (upstreamJson(this, args)))
  }

  /** @param {NormalizedSpawn} normalized */
  envCommand(normalized) {
    return { ...upstreamEnvCommand(this.file, normalized), home: this.#native.home }
  }

  /** The upstream has no scope or `only` to check (both are refused). */
  precheck() {
    return undefined
  }

  /** @param {string} what */
  teamOnly(what) {
    return teamGap(what)
  }
}

module.exports = { UpstreamCliBackend }
