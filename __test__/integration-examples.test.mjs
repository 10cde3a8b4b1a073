// The README's LangChain.js and MCP examples, run as they are against the
// real engine and a loopback upstream (readme-examples.test.mjs checks that
// the README shows each file exactly), and the tools' JSON schemas as the
// README documents them.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { makeHome, startEngine, startUpstream, assertNoCanary, engineEnv } from './helpers.mjs'
import schema from '../lib/tools/schema.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
const EXAMPLES = ['examples/langchain-api-tool.mjs', 'examples/mcp-embed.mjs']
const CANARY = 'sk-example-canary-2b4d6f8a0c1e3a5c'
let home
let upstream

before(async () => {
  home = makeHome({ secrets: { OPENAI_API_KEY: CANARY, STRIPE_KEY: CANARY.replace('example', 'stripe') } })
  startEngine(home)
  upstream = await startUpstream((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ data: [{ id: 'model-1' }], path: req.url }))
  })
})

after(async () => {
  await upstream?.close()
})

/** The code block that follows `marker` in the README. */
function blockAfter(marker, lang) {
  const at = README.indexOf(marker)
  assert.ok(at >= 0, `README has ${marker}`)
  const m = README.slice(at + marker.length).match(new RegExp(`^\\n\`\`\`${lang}\\n([\\s\\S]*?)\`\`\`\\n`))
  assert.ok(m, `a \`\`\`${lang} block follows ${marker}`)
  return m[1]
}

test('the README documents the tools\' JSON schemas as they are', () => {
  const json = (shape) => {
    const s = z.toJSONSchema(z.object(shape))
    delete s.$schema
    return s
  }
  assert.deepEqual(JSON.parse(blockAfter('<!-- schema: api_call -->', 'json')), json(schema.apiCallShape(z)))
  assert.deepEqual(JSON.parse(blockAfter('<!-- schema: run_with_secrets -->', 'json')), json(schema.spawnShape(z, ['COMMAND'])))
})

test('examples/langchain-api-tool.mjs: lists names, calls under its pin, refuses the attacker URL', async () => {
  const start = upstream.requests.length
  // Asynchronously: the upstream answers from this process.
  const { stdout: out } = await promisify(execFile)(process.execPath, [path.join(ROOT, EXAMPLES[0])], {
    env: { ...engineEnv(home), OPENAI_BASE_URL: `${upstream.url}/v1` },
    encoding: 'utf8',
  })
  assert.match(out, /^Secrets available \(names only; values are never shown\):\nOPENAI_API_KEY\nSTRIPE_KEY\n/)
  assert.match(out, /\nHTTP 200\ncontent-type: application\/json\n\n\{"data":\[\{"id":"model-1"\}\],"path":"\/v1\/models"\}\n/)
  assert.match(out, /\nError \(INVALID_ARGUMENT\): https:\/\/attacker\.example\/collect is outside what this tool may call\. To fix: call a URL under http:\/\/127\.0\.0\.1:\d+\/v1/)
  const got = upstream.requests.slice(start)
  assert.deepEqual(got.map((r) => [r.method, r.url, r.headers.authorization]), [['GET', '/v1/models', `Bearer ${CANARY}`]])
  assertNoCanary(assert, out, CANARY, 'example output')
})

test('examples/mcp-embed.mjs: an MCP client calls its api_call over stdio', async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.join(ROOT, EXAMPLES[1])],
    env: { ...engineEnv(home), STRIPE_BASE_URL: `${upstream.url}/v1` },
    stderr: 'pipe',
  })
  const client = new Client({ name: 'example-test', version: '1.0.0' })
  await client.connect(transport)
  try {
    assert.equal(client.getServerVersion().name, 'billing-tools')
    const ok = await client.callTool({ name: 'api_call', arguments: { url: `${upstream.url}/v1/balance`, injections: { bearer: 'STRIPE_KEY' } } })
    assert.equal(ok.isError, false)
    assert.match(ok.content[0].text, /^HTTP 200\n/)
    const refused = await client.callTool({ name: 'api_call', arguments: { url: `${upstream.url}/v1/balance`, injections: { bearer: 'OPENAI_API_KEY' } } })
    assert.equal(refused.isError, true)
    assert.match(refused.content[0].text, /may not use the secret OPENAI_API_KEY/)
  } finally {
    await client.close()
  }
})
