'use strict'

// The other tools' work, shared by LangChain and MCP: secret names
// (`list_secrets`), the engine's state (`status`) and, only when the program
// turns it on for named commands, running a command with the project's
// secrets in its environment (`run_with_secrets`, output masked by the engine).

const { errorText, DEFAULT_MAX_OUTPUT_CHARS } = require('./describe.js')
const { makeError } = require('../../errors.js')
const { SECRET_NAME } = require('./injections.js')

/** Default time limit of `run_with_secrets`. */
const DEFAULT_SPAWN_TIMEOUT_MS = 60_000

/**
 * @typedef {object} SpawnConfig
 * @property {string[]} commands the only programs the model may run
 * @property {string[] | undefined} only the only secrets they get (default: all of the project)
 * @property {number} timeoutMs
 * @property {number} maxOutputChars
 */

/** @param {string} message */
function invalidOption(message) {
  return makeError({ code: 'INVALID_ARGUMENT', message, fix: 'correct the spawn option of createSecretTools()' })
}

/**
 * `spawn: false` (default) → null; `{ commands, only?, timeoutMs?, maxOutputChars? }` → checked.
 * @param {unknown} spawn
 * @returns {SpawnConfig | null}
 */
function spawnConfig(spawn) {
  if (spawn === undefined || spawn === false || spawn === null) return null
  if (typeof spawn !== 'object' || Array.isArray(spawn)) throw invalidOption('spawn must be false or { commands: [...] }')
  const s = /** @type {Record<string, any>} */ (spawn)
  const commands = s.commands
  if (!Array.isArray(commands) || commands.length === 0 || commands.some((c) => typeof c !== 'string' || c.length === 0)) {
    throw invalidOption('spawn.commands must list the programs the model may run (a model choosing any program could send the secrets anywhere)')
  }
  const only = s.only === undefined ? undefined : s.only
  if (only !== undefined && (!Array.isArray(only) || only.some((n) => typeof n !== 'string' || !SECRET_NAME.test(n)))) {
    throw invalidOption('spawn.only must be an array of secret names')
  }
  return {
    commands: commands.slice(),
    only: only?.slice(),
    timeoutMs: Number.isSafeInteger(s.timeoutMs) && s.timeoutMs > 0 ? s.timeoutMs : DEFAULT_SPAWN_TIMEOUT_MS,
    maxOutputChars: Number.isSafeInteger(s.maxOutputChars) && s.maxOutputChars > 0 ? s.maxOutputChars : DEFAULT_MAX_OUTPUT_CHARS,
  }
}

/**
 * @typedef {{ text: string, isError: boolean }} ToolAnswer
 */

/**
 * The names of the project's secrets (only the allowed ones when pinned).
 * @param {import('../../index').AgentSecretsClient} client
 * @param {string[] | null} allowed
 * @returns {Promise<ToolAnswer>}
 */
async function listSecretsText(client, allowed) {
  try {
    const names = (await client.secrets.list()).map((s) => s.key).filter((k) => !allowed || allowed.includes(k))
    if (names.length === 0) return { text: 'No secrets are available to this tool.', isError: false }
    return { text: `Secrets available (names only; values are never shown):\n${names.join('\n')}`, isError: false }
  } catch (err) {
    return { text: errorText(err), isError: true }
  }
}

/**
 * The engine's state: workspace, project, whether it runs, where values are kept.
 * @param {import('../../index').AgentSecretsClient} client
 * @param {string[]} extra lines to add (the pins)
 * @returns {Promise<ToolAnswer>}
 */
async function statusText(client, extra) {
  try {
    const s = await client.status()
    const scope = client.scope
    const lines = [
      `workspace: ${scope.workspace ?? s.workspaceName ?? '(none)'}`,
      `project: ${scope.project ?? s.projectName ?? '(none)'}`,
      `engine running: ${s.proxyRunning ? 'yes' : 'no (it starts on the first call)'}`,
      `key storage: ${s.storageMode ?? 'unknown'}`,
      ...extra,
    ]
    return { text: lines.join('\n'), isError: false }
  } catch (err) {
    return { text: errorText(err), isError: true }
  }
}

/**
 * @param {string} text
 * @param {number} max
 */
function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max)}\n[truncated: ${text.length - max} more characters]` : text
}

/**
 * Runs one of the allowed commands with the project's secrets in its
 * environment; answers with its exit code and masked output.
 * @param {import('../../index').AgentSecretsClient} client
 * @param {SpawnConfig} config
 * @param {{ command?: unknown, args?: unknown }} input
 * @returns {Promise<ToolAnswer>}
 */
async function runWithSecrets(client, config, input) {
  try {
    const { command, args } = input
    if (typeof command !== 'string' || !config.commands.includes(command)) {
      throw makeError({ code: 'INVALID_ARGUMENT', message: `the command must be one of ${config.commands.join(', ')}` })
    }
    if (args !== undefined && (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))) {
      throw makeError({ code: 'INVALID_ARGUMENT', message: 'args must be an array of strings' })
    }
    const r = await client.spawn(command, /** @type {string[] | undefined} */ (args), {
      capture: true,
      only: config.only,
      timeoutMs: config.timeoutMs,
    })
    const out = [`exit code: ${r.exitCode}${r.signal ? ` (signal ${r.signal})` : ''}`, `stdout:\n${r.stdout ?? ''}`, `stderr:\n${r.stderr ?? ''}`]
    return { text: truncate(out.join('\n'), config.maxOutputChars), isError: r.exitCode !== 0 }
  } catch (err) {
    return { text: errorText(err), isError: true }
  }
}

module.exports = { spawnConfig, listSecretsText, statusText, runWithSecrets }
