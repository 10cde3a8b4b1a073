'use strict'

// `agentsecrets-mcp --wrap -- CMD ARGS`: another stdio MCP server run by the
// engine's `env` (as `client.spawn`), with the secrets in its environment.
//
// The engine gets this process's stdin, stdout and stderr as they are
// (`stdio: 'inherit'`): JSON-RPC flows between the MCP client and the
// wrapped server without passing through Node, so an echoed value cannot
// enter this process. The engine masks the server's stdout and stderr when
// they are not terminals (an MCP client's pipes never are), writing each
// chunk on as soon as it is read; its redactor holds back only a tail that
// could still become a value, so a message ending in a newline is never
// delayed (unless a stored value starts with a newline).

/**
 * Runs the wrapped server; resolves with the exit code to end with.
 * @param {import('../../index').AgentSecretsClient} client
 * @param {import('./mcp-cli.js').McpArgs} args
 * @returns {Promise<number>}
 */
async function runWrapped(client, args) {
  const [command, ...rest] = args.command
  const result = await client.spawn(command, rest, { stdio: 'inherit', only: args.secrets })
  // 128+N when it died of signal N (shell convention, see SpawnResult).
  return result.exitCode ?? 1
}

module.exports = { runWrapped }
