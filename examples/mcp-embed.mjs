import { AgentSecrets } from '@the-17/agentsecrets'
import { createMcpServer } from '@the-17/agentsecrets/mcp'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'

const baseUrl = process.env.STRIPE_BASE_URL ?? 'https://api.stripe.com/v1'
const client = new AgentSecrets()

// api_call, list_secrets and status, pinned to one API and one secret.
const server = createMcpServer(client, {
  name: 'billing-tools',
  allowUrls: [baseUrl],
  allowSecrets: ['STRIPE_KEY'],
})
// Add your own tools with server.registerTool(...), then serve over stdio.
await server.connect(new StdioServerTransport())
