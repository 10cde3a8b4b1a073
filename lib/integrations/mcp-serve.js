'use strict'

// `agentsecrets-mcp` (serve mode): the tools over stdio until the client
// closes the connection.

const { createMcpServer, whenIdle } = require('./mcp.js')
const { requirePeer } = require('../tools/peer.js')

/**
 * @param {import('../../index').AgentSecretsClient} client
 * @param {import('./mcp-cli.js').McpArgs} args
 * @returns {Promise<void>} resolves when the transport closes
 */
async function serveStdio(client, args) {
  const server = createMcpServer(client, {
    allowUrls: args.allowUrls,
    allowSecrets: args.allowSecrets,
    allowMethods: args.allowMethods,
    maxOutputChars: args.maxOutputChars === undefined ? undefined : Number(args.maxOutputChars),
  })
  const { StdioServerTransport } = requirePeer('@modelcontextprotocol/sdk/server/stdio.js', 'agentsecrets-mcp', '@modelcontextprotocol/sdk zod')
  const transport = new StdioServerTransport()
  const closed = new Promise((resolve) => {
    transport.onclose = () => resolve(undefined)
    // The client closing stdin is the end of the session.
    process.stdin.once('end', () => resolve(undefined))
  })
  await server.connect(transport)
  await closed
  // Answer what was asked before stdin closed, then stop: let the requests
  // read last reach their handlers, wait for those, let the answers go out.
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  await turn()
  await whenIdle(server)
  await turn()
  await server.close()
}

module.exports = { serveStdio }
