'use strict'

// The `agentsecrets-mcp` command line: serve the tools over stdio, or with
// `--wrap -- CMD ARGS` run another stdio MCP server with secrets in its
// environment. Flags are read here; each mode lives in its own module.

const USAGE = `Usage:
  agentsecrets-mcp [options]
      Serves the tools api_call, list_secrets and status over stdio.
  agentsecrets-mcp --wrap [--secret NAME]... [--workspace W] [--project P] -- COMMAND [ARGS...]
      Runs another stdio MCP server with the project's secrets (all, or only
      each --secret NAME) in its environment. Its stdin and stdout pass
      straight through the engine, which masks any echoed value.

Options (serve mode):
  --allow-url PREFIX     api_call may only call URLs under PREFIX (repeatable;
                         env AGENTSECRETS_MCP_ALLOW_URLS, comma-separated)
  --allow-secret NAME    api_call may only inject NAME (repeatable;
                         env AGENTSECRETS_MCP_ALLOW_SECRETS)
  --allow-method METHOD  api_call may only use METHOD (repeatable;
                         env AGENTSECRETS_MCP_ALLOW_METHODS)
  --max-output-chars N   characters of a response body shown (default 16000)
Options (both modes):
  --workspace NAME       workspace to use (env AGENTSECRETS_WORKSPACE; default: the active one)
  --project NAME         project to use (env AGENTSECRETS_PROJECT; default: the active one)
  --help                 shows this text
The engine home, binary and port come from AGENTSECRETS_HOME, AGENTSECRETS_CLI
and AGENTSECRETS_PORT, as for the SDK; the engine starts when needed.
`

/** Flags that take a value, and the list each fills (repeatable) or the field it sets. */
const LISTS = /** @type {const} */ ({ '--allow-url': 'allowUrls', '--allow-secret': 'allowSecrets', '--allow-method': 'allowMethods', '--secret': 'secrets' })
const SINGLES = /** @type {const} */ ({ '--workspace': 'workspace', '--project': 'project', '--max-output-chars': 'maxOutputChars' })
/** Environment variables of the lists, used when no flag gives that list. */
const LIST_ENV = /** @type {const} */ ({ allowUrls: 'AGENTSECRETS_MCP_ALLOW_URLS', allowSecrets: 'AGENTSECRETS_MCP_ALLOW_SECRETS', allowMethods: 'AGENTSECRETS_MCP_ALLOW_METHODS' })

/**
 * @typedef {object} McpArgs
 * @property {'serve' | 'wrap' | 'help'} mode
 * @property {string[]} [allowUrls]
 * @property {string[]} [allowSecrets]
 * @property {string[]} [allowMethods]
 * @property {string[]} [secrets] wrap mode: the only secrets given
 * @property {string} [workspace]
 * @property {string} [project]
 * @property {string} [maxOutputChars]
 * @property {string[]} command wrap mode: the server to run
 */

class UsageError extends Error {}

/**
 * @param {string[]} argv without node and the script
 * @param {NodeJS.ProcessEnv} env
 * @returns {McpArgs}
 */
function parseArgs(argv, env) {
  /** @type {McpArgs} */
  const out = { mode: 'serve', command: [] }
  /** @type {Record<string, any>} */
  const fields = out
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      out.command = argv.slice(i + 1)
      break
    }
    if (arg === '--help' || arg === '-h') return { mode: 'help', command: [] }
    if (arg === '--wrap') {
      out.mode = 'wrap'
      continue
    }
    const eq = arg.indexOf('=')
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg
    let value = eq > 0 && flag !== arg ? arg.slice(eq + 1) : undefined
    const list = Object.hasOwn(LISTS, flag) ? LISTS[/** @type {keyof typeof LISTS} */ (flag)] : undefined
    const single = Object.hasOwn(SINGLES, flag) ? SINGLES[/** @type {keyof typeof SINGLES} */ (flag)] : undefined
    if (!list && !single) throw new UsageError(`unknown argument '${arg}'`)
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`)
      value = argv[++i]
    }
    if (list) (fields[list] ??= []).push(value)
    else fields[/** @type {string} */ (single)] = value
  }
  for (const [field, name] of Object.entries(LIST_ENV)) {
    if (fields[field] === undefined && env[name]) fields[field] = env[name].split(',').map((s) => s.trim()).filter(Boolean)
  }
  if (out.maxOutputChars !== undefined && !/^[1-9][0-9]{0,8}$/.test(out.maxOutputChars)) {
    throw new UsageError('--max-output-chars needs a positive whole number')
  }
  checkMode(out, argv)
  return out
}

/**
 * Refuses flags of one mode given to the other.
 * @param {McpArgs} a
 * @param {string[]} argv
 */
function checkMode(a, argv) {
  if (a.mode === 'wrap') {
    if (a.command.length === 0) throw new UsageError('--wrap needs the server to run after --, e.g. agentsecrets-mcp --wrap -- npx some-mcp-server')
    const serveOnly = ['--allow-url', '--allow-secret', '--allow-method', '--max-output-chars']
    const given = argv.slice(0, argv.indexOf('--')).find((x) => serveOnly.includes(x.split('=')[0]))
    if (given) throw new UsageError(`${given.split('=')[0]} applies to the api_call tool, not to --wrap (use --secret NAME to choose the secrets given)`)
  } else {
    if (a.command.length > 0) throw new UsageError('a command after -- needs --wrap')
    if (a.secrets) throw new UsageError('--secret applies to --wrap; to pin the secrets api_call may use, give --allow-secret')
  }
}

module.exports = { parseArgs, UsageError, USAGE }
