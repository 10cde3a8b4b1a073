// Types of @the-17/agentsecrets/mcp. Needs the optional peers
// @modelcontextprotocol/sdk (1.x) and zod.

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { AgentSecretsClient } from './index.js'
import type { ApiCallOptions, ApiCallInput, InjectionMap, PinOptions } from './lib/tools/types.js'

export type { ApiCallOptions, ApiCallInput, InjectionMap, PinOptions }

/** Options of `createMcpServer()`: the `api_call` tool's, and the server's name. */
export interface McpServerOptions extends ApiCallOptions {
  /** Server name announced to clients. Default `'agentsecrets'`. */
  name?: string
}

/**
 * An MCP server with the tools `api_call`, `list_secrets` and `status`;
 * connect it to a transport, e.g. `await server.connect(new StdioServerTransport())`.
 */
export declare function createMcpServer(client: AgentSecretsClient, options?: McpServerOptions): McpServer
