'use strict'

// @the-17/agentsecrets/mcp: an MCP server with the tools api_call,
// list_secrets and status. Needs @modelcontextprotocol/sdk and zod (optional peers).

const { createMcpServer } = require('./lib/integrations/mcp.js')

module.exports = { createMcpServer }
