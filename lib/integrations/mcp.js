'use strict'

// @the-17/agentsecrets/mcp: an MCP server (tools `api_call`, `list_secrets`,
// `status`) on `client.call()`. Failures come back as tool errors
// (`isError: true`) with text the model can act on; no value can appear in a
// result, since only the engine ever holds one.

const { requirePeer } = require('../tools/peer.js')
const { apiCallConfig, runApiCall } = require('../tools/api-call.js')
const { listSecretsText, statusText } = require('../tools/secrets.js')
const { apiCallShape } = require('../tools/schema.js')
const { makeError } = require('../../errors.js')
const { tracked, whenIdle } = require('./in-flight.js')
const { version } = require('../../package.json')

const FEATURE = '@the-17/agentsecrets/mcp'
const INSTALL = '@modelcontextprotocol/sdk zod'

/**
 * @param {{ text: string, isError: boolean }} answer
 */
function toResult(answer) {
  return { content: [{ type: /** @type {const} */ ('text'), text: answer.text }], isError: answer.isError }
}

/**
 * The pins as lines for `status`.
 * @param {import('../tools/pinning.js').Pins} pins
 */
function pinLines(pins) {
  return [
    `allowed URLs: ${pins.urls ? pins.urls.map((p) => p.text).join(', ') : 'any host on the workspace allowlist'}`,
    `allowed methods: ${pins.methods ? pins.methods.join(', ') : 'any'}`,
    `allowed secrets: ${pins.secrets ? pins.secrets.join(', ') : 'any of the project'}`,
  ]
}

/**
 * An MCP server with the tools registered; connect it to a transport
 * (`server.connect(new StdioServerTransport())`).
 * @param {import('../../index').AgentSecretsClient} client
 * @param {import('../../mcp').McpServerOptions} [options]
 */
function createMcpServer(client, options) {
  const c = /** @type {any} */ (client)
  if (!c || typeof c.call !== 'function') {
    throw makeError({ code: 'INVALID_ARGUMENT', message: 'the first argument must be an AgentSecrets client', fix: 'pass new AgentSecrets()' })
  }
  const { McpServer } = requirePeer('@modelcontextprotocol/sdk/server/mcp.js', FEATURE, INSTALL)
  const z = requirePeer('zod', FEATURE, INSTALL)
  const { name = 'agentsecrets', ...toolOptions } = options ?? {}
  const config = apiCallConfig(toolOptions, 'mcp')
  const server = new McpServer({ name, version })
  server.registerTool(
    'api_call',
    { title: 'Call an API with a stored credential', description: config.description, inputSchema: z.object(apiCallShape(z)) },
    tracked(
      server,
      /**
       * @param {Record<string, unknown>} args
       * @param {{ signal?: AbortSignal }} extra
       */
      async (args, extra) => toResult(await runApiCall(client, config, args, extra?.signal)),
    ),
  )
  server.registerTool(
    'list_secrets',
    { title: 'List secret names', description: 'Lists the names of the secrets you can name in api_call injections (never their values).' },
    tracked(server, async () => toResult(await listSecretsText(client, config.pins.secrets))),
  )
  server.registerTool(
    'status',
    { title: 'AgentSecrets status', description: 'Shows the workspace and project in use, whether the engine runs, and what api_call may reach.' },
    tracked(server, async () => toResult(await statusText(client, pinLines(config.pins)))),
  )
  return server
}

module.exports = { createMcpServer, whenIdle }
