'use strict'

// @the-17/agentsecrets/langchain: LangChain.js tools on `client.call()`.
// The model names secrets; the engine injects their values, so they never
// enter this process, the model's context, or a tool's answer.

const { requirePeer } = require('../tools/peer.js')
const { apiCallConfig, runApiCall } = require('../tools/api-call.js')
const { makePins } = require('../tools/pinning.js')
const { spawnConfig, listSecretsText, runWithSecrets } = require('../tools/secrets.js')
const { apiCallShape, spawnShape } = require('../tools/schema.js')
const { makeError } = require('../../errors.js')

const FEATURE = '@the-17/agentsecrets/langchain'
const INSTALL = '@langchain/core zod'

function peers() {
  const { tool } = requirePeer('@langchain/core/tools', FEATURE, INSTALL)
  const z = requirePeer('zod', FEATURE, INSTALL)
  return { tool, z }
}

/** @param {unknown} client */
function checkClient(client) {
  const c = /** @type {any} */ (client)
  if (!c || typeof c.call !== 'function' || typeof c.spawn !== 'function') {
    throw makeError({ code: 'INVALID_ARGUMENT', message: 'the first argument must be an AgentSecrets client', fix: 'pass new AgentSecrets() (or a MockAgentSecrets in tests)' })
  }
}

/**
 * The `api_call` tool (name configurable): the model gives `{ url, method?,
 * headers?, body?, injections }`; the answer is text (status + redacted,
 * truncated body, or an error to act on).
 * @param {import('../../index').AgentSecretsClient} client
 * @param {import('../../langchain').ApiCallToolOptions} [options]
 */
function createApiCallTool(client, options) {
  checkClient(client)
  const { tool, z } = peers()
  const config = apiCallConfig(options, 'langchain')
  return tool(
    /**
     * @param {Record<string, unknown>} input
     * @param {{ signal?: AbortSignal } | undefined} runConfig
     */
    async (input, runConfig) => (await runApiCall(client, config, input, runConfig?.signal)).text,
    { name: options?.name ?? 'api_call', description: config.description, schema: z.object(apiCallShape(z)) },
  )
}

/**
 * `list_secrets` (names only) and, with `spawn: { commands }`, `run_with_secrets`.
 * @param {import('../../index').AgentSecretsClient} client
 * @param {import('../../langchain').SecretToolsOptions} [options]
 */
function createSecretTools(client, options) {
  checkClient(client)
  const { tool, z } = peers()
  const o = options ?? {}
  const allowed = makePins({ allowSecrets: o.allowSecrets }).secrets
  const tools = [
    tool(async () => (await listSecretsText(client, allowed)).text, {
      name: 'list_secrets',
      description: 'Lists the names of the secrets you can name in injections (never their values).',
      schema: z.object({}),
    }),
  ]
  const spawn = spawnConfig(o.spawn)
  if (spawn) {
    tools.push(
      tool(/** @param {{ command?: unknown, args?: unknown }} input */ async (input) => (await runWithSecrets(client, spawn, input)).text, {
        name: 'run_with_secrets',
        description: `Runs ${spawn.commands.join(', ')} with the project's secrets in its environment. Its output is returned with any credential masked.`,
        schema: z.object(spawnShape(z, spawn.commands)),
      }),
    )
  }
  return tools
}

module.exports = { createApiCallTool, createSecretTools }
