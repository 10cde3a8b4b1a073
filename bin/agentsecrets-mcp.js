#!/usr/bin/env node
'use strict'

// `agentsecrets-mcp`: an MCP server over stdio with the tools api_call,
// list_secrets and status, or (`--wrap -- CMD ARGS`) another stdio MCP
// server run with the project's secrets in its environment. stdout carries
// only the protocol; stderr only our own messages (secret names, never values).

const { AgentSecrets, AgentSecretsError } = require('../index.js')
const { parseArgs, UsageError, USAGE } = require('../lib/integrations/mcp-cli.js')

async function main() {
  let args
  try {
    args = parseArgs(process.argv.slice(2), process.env)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    process.stderr.write(`agentsecrets-mcp: ${e.message}\n\n${USAGE}`)
    return 2
  }
  if (args.mode === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  const client = new AgentSecrets({ workspace: args.workspace, project: args.project })
  try {
    if (args.mode === 'wrap') return await require('../lib/integrations/mcp-wrap.js').runWrapped(client, args)
    await require('../lib/integrations/mcp-serve.js').serveStdio(client, args)
    return 0
  } finally {
    await client.close()
  }
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    // Our errors (and a missing peer's) say what to do; another's first line only, no stack.
    const ours = err instanceof AgentSecretsError || err?.code === 'PEER_DEPENDENCY_MISSING'
    const message = ours ? err.message : String(err?.message ?? err).split('\n')[0]
    process.stderr.write(`agentsecrets-mcp: ${message}\n`)
    process.exitCode = 1
  },
)
