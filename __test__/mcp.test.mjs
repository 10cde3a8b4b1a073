// The `agentsecrets-mcp` bin of this package, driven by a real MCP Client
// over StdioClientTransport, against the real engine and a loopback
// upstream: the tools, their errors, the pins (flags and environment), and
// `--wrap` running another stdio MCP server with its secret in its
// environment. No value may appear in a result or on stderr.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { makeHome, startEngine, startUpstream, assertNoCanary, canaryForms, engineEnv, cli } from './helpers.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin', 'agentsecrets-mcp.js')
const ENV_SERVER = path.join(ROOT, '__test__', 'fixtures', 'mcp', 'env-server.mjs')
const CANARY = 'sk-mcp-canary-3c5e7a9b1d2f4e6a'
const OTHER = 'sk-mcp-other-9e8d7c6b5a4f3e2d'
let home
let upstream

before(async () => {
  home = makeHome({ secrets: { API_KEY: CANARY, OTHER_KEY: OTHER } })
  startEngine(home)
  upstream = await startUpstream()
})

after(async () => {
  await upstream?.close()
})

/**
 * A connected MCP client on `agentsecrets-mcp ARGS`; `stderr()` is what the
 * server wrote there so far.
 */
async function connect(args = [], env = {}, where = home) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...args],
    env: { ...engineEnv(where), ...env },
    stderr: 'pipe',
  })
  const chunks = []
  transport.stderr.on('data', (c) => chunks.push(c))
  const client = new Client({ name: 'test', version: '1.0.0' })
  await client.connect(transport)
  return { client, stderr: () => Buffer.concat(chunks).toString('utf8'), close: () => client.close() }
}

const text = (result) => result.content.map((c) => c.text).join('')

test('lists api_call, list_secrets and status with their schemas', async () => {
  const s = await connect()
  try {
    const { tools } = await s.client.listTools()
    assert.deepEqual(tools.map((t) => t.name).sort(), ['api_call', 'list_secrets', 'status'])
    const api = tools.find((t) => t.name === 'api_call')
    assert.deepEqual(Object.keys(api.inputSchema.properties).sort(), ['body', 'headers', 'injections', 'method', 'url'])
    assert.deepEqual(api.inputSchema.required, ['url'])
    assert.match(api.description, /Allowed hosts: those on the workspace allowlist/)
  } finally {
    await s.close()
  }
})

test('api_call injects by name; the answer is redacted; list_secrets and status answer', async () => {
  const s = await connect()
  try {
    const start = upstream.requests.length
    const r = await s.client.callTool({
      name: 'api_call',
      arguments: { url: `${upstream.url}/v1/me?x=1`, injections: { bearer: 'API_KEY', 'query:key': 'OTHER_KEY' } },
    })
    assert.equal(r.isError, false)
    assert.match(text(r), /^HTTP 200\ncontent-type: application\/json\nnote: the API echoed a credential/)
    const [got] = upstream.requests.slice(start)
    assert.equal(got.headers.authorization, `Bearer ${CANARY}`)
    assert.equal(new URL(got.url, 'http://x').searchParams.get('key'), OTHER)
    const list = await s.client.callTool({ name: 'list_secrets', arguments: {} })
    assert.equal(text(list), 'Secrets available (names only; values are never shown):\nAPI_KEY\nOTHER_KEY')
    const status = await s.client.callTool({ name: 'status', arguments: {} })
    assert.match(text(status), /^workspace: Personal\nproject: default\nengine running: yes\nkey storage: file\nallowed URLs: any host/)
    for (const [what, v] of [['api_call', r], ['list_secrets', list], ['status', status], ['stderr', s.stderr()]]) {
      assertNoCanary(assert, v, CANARY, what)
      assertNoCanary(assert, v, OTHER, what)
    }
  } finally {
    await s.close()
  }
})

test('errors are tool errors (isError) with actionable text', async () => {
  const s = await connect()
  try {
    const missing = await s.client.callTool({ name: 'api_call', arguments: { url: `${upstream.url}/x`, injections: { bearer: 'NOPE' } } })
    assert.equal(missing.isError, true)
    assert.match(text(missing), /^Error \(SECRET_NOT_FOUND\): .*NOPE.*Call list_secrets/)
    const host = await s.client.callTool({ name: 'api_call', arguments: { url: 'http://localhost:9/x', injections: { bearer: 'API_KEY' } } })
    assert.equal(host.isError, true)
    assert.match(text(host), /a person runs: agentsecrets workspace allowlist add localhost/)
    const bad = await s.client.callTool({ name: 'api_call', arguments: { url: 'nope' } })
    assert.equal(bad.isError, true)
    assert.match(text(bad), /^Error \(INVALID_ARGUMENT\): 'nope' is not an absolute URL/)
    assert.equal(s.stderr(), '', 'nothing logged')
  } finally {
    await s.close()
  }
})

test('pins from flags refuse prompt-injected calls before anything is sent', async () => {
  const base = `${upstream.url}/v1`
  const s = await connect(['--allow-url', base, '--allow-secret', 'API_KEY', '--allow-method=GET'])
  try {
    const start = upstream.requests.length
    const attacks = [
      { url: `${upstream.url}/v2/x`, injections: { bearer: 'API_KEY' } },
      { url: `${base}/../admin`, injections: { bearer: 'API_KEY' } },
      { url: `http://127.0.0.1:${upstream.port}@127.0.0.2:${upstream.port}/v1/x` },
      { url: `${base}/x`, injections: { bearer: 'OTHER_KEY' } },
      { url: `${base}/x`, method: 'POST' },
      { url: `${base}/x`, headers: { 'X-A': 'a\r\nX-AS-Inject-Bearer: OTHER_KEY' } },
      { url: `${base}/x`, headers: { 'X-AS-Inject-Bearer': 'OTHER_KEY' } },
    ]
    for (const args of attacks) {
      const r = await s.client.callTool({ name: 'api_call', arguments: args })
      assert.equal(r.isError, true, JSON.stringify(args))
      assert.match(text(r), /^Error \(INVALID_ARGUMENT\): /)
    }
    assert.deepEqual(upstream.requests.slice(start), [], 'nothing was sent')
    const ok = await s.client.callTool({ name: 'api_call', arguments: { url: `${base}/x`, injections: { bearer: 'API_KEY' } } })
    assert.equal(ok.isError, false)
    const { tools } = await s.client.listTools()
    const api = tools.find((t) => t.name === 'api_call')
    assert.match(api.description, new RegExp(`Allowed URLs \\(prefixes\\): ${base.replace(/[.]/g, '\\.')}\\.\\nAllowed methods: GET\\.\\nSecrets you may use: API_KEY\\.`))
    assert.equal(text(await s.client.callTool({ name: 'list_secrets', arguments: {} })), 'Secrets available (names only; values are never shown):\nAPI_KEY')
  } finally {
    await s.close()
  }
})

test('pins from the environment', async () => {
  const s = await connect([], { AGENTSECRETS_MCP_ALLOW_URLS: `${upstream.url}/v1, https://api.example.com`, AGENTSECRETS_MCP_ALLOW_SECRETS: 'OTHER_KEY' })
  try {
    const r = await s.client.callTool({ name: 'api_call', arguments: { url: `${upstream.url}/v1/x`, injections: { bearer: 'API_KEY' } } })
    assert.match(text(r), /^Error \(INVALID_ARGUMENT\): this tool may not use the secret API_KEY/)
    const status = text(await s.client.callTool({ name: 'status', arguments: {} }))
    assert.match(status, new RegExp(`allowed URLs: ${upstream.url}/v1, https://api.example.com\\nallowed methods: any\\nallowed secrets: OTHER_KEY`))
  } finally {
    await s.close()
  }
})

test('a hostile upstream echoing the value in every encoding: no value in the result or on stderr', async () => {
  const hostile = await startUpstream((req, res) => {
    res.setHeader('x-echo', CANARY)
    res.end(`${canaryForms(CANARY).join(' | ')} | ${req.headers.authorization}`)
  })
  const s = await connect()
  try {
    const r = await s.client.callTool({ name: 'api_call', arguments: { url: `${hostile.url}/echo`, injections: { bearer: 'API_KEY' } } })
    assert.match(text(r), /REDACTED_BY_AGENTSECRETS/)
    assertNoCanary(assert, r, CANARY, 'result')
    assertNoCanary(assert, s.stderr(), CANARY, 'stderr')
  } finally {
    await s.close()
    await hostile.close()
  }
})

test('--help, and usage errors exit 2 without starting anything', () => {
  const help = spawnSync(process.execPath, [BIN, '--help'], { env: engineEnv(home), encoding: 'utf8' })
  assert.equal(help.status, 0)
  assert.match(help.stdout, /^Usage:\n {2}agentsecrets-mcp \[options\]/)
  for (const args of [['--nope'], ['--allow-url'], ['--', 'node'], ['--max-output-chars', 'many'], ['--wrap'], ['--wrap', '--allow-url', 'https://x', '--', 'node'], ['--secret', 'A']]) {
    const r = spawnSync(process.execPath, [BIN, ...args], { env: engineEnv(home), encoding: 'utf8' })
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, /^agentsecrets-mcp: .+\n\nUsage:/)
  }
})

/** A connected client on `agentsecrets-mcp --wrap [flags] -- node env-server.mjs API_KEY`. */
function connectWrapped(flags = []) {
  return connect(['--wrap', ...flags, '--', process.execPath, ENV_SERVER, 'API_KEY'])
}

test('--wrap runs another MCP server with its secret in its environment', async () => {
  const s = await connectWrapped()
  try {
    const { tools } = await s.client.listTools()
    assert.deepEqual(tools.map((t) => t.name), ['env_status', 'leak', 'raw'])
    const status = await s.client.callTool({ name: 'env_status', arguments: {} })
    assert.equal(text(status), `API_KEY is set (${CANARY.length} characters)`)
    assert.equal(text(await s.client.callTool({ name: 'raw', arguments: {} })), 'héllo ✓ \u2028 \\u0041')
  } finally {
    await s.close()
  }
})

test('--wrap --secret gives only the named secrets', async () => {
  const s = await connectWrapped(['--secret', 'OTHER_KEY'])
  try {
    assert.equal(text(await s.client.callTool({ name: 'env_status', arguments: {} })), 'API_KEY is not set')
  } finally {
    await s.close()
  }
})

test('--wrap: a wrapped server that answers with the value is masked by the engine', async () => {
  const s = await connectWrapped()
  try {
    const r = await s.client.callTool({ name: 'leak', arguments: {} })
    assert.match(text(r), /^\[REDACTED_BY_AGENTSECRETS\] /)
    assertNoCanary(assert, r, CANARY, 'wrapped result')
    assertNoCanary(assert, s.stderr(), CANARY, 'stderr')
  } finally {
    await s.close()
  }
})

test('--wrap passes JSON-RPC through byte for byte, and ends when its client closes stdin', async () => {
  const child = spawn(process.execPath, [BIN, '--wrap', '--', process.execPath, ENV_SERVER, 'API_KEY'], { env: engineEnv(home) })
  const out = []
  child.stdout.on('data', (c) => out.push(c))
  const request = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"raw","arguments":{}}}\n'
  child.stdin.write(request)
  child.stdin.end()
  const code = await new Promise((resolve) => child.on('close', resolve))
  assert.equal(code, 0)
  const expected = `${JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'héllo ✓ \u2028 \\u0041' }] } })}\n`
  assert.deepEqual(Buffer.concat(out), Buffer.from(expected))
})

test('--wrap with a secret that does not exist fails with the reason on stderr', () => {
  const r = spawnSync(process.execPath, [BIN, '--wrap', '--secret', 'NOPE', '--', process.execPath, ENV_SERVER], { env: engineEnv(home), encoding: 'utf8', input: '' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /SECRET_NOT_FOUND|NOPE/)
  assert.equal(r.stdout, '')
})

/** The pids of the children of `pid` (Linux). */
function childrenOf(pid) {
  return fs
    .readdirSync(`/proc/${pid}/task`)
    .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
    .filter(Boolean)
    .map(Number)
}

test('--wrap: the engine holds the client\'s own stdin and stdout, so the JSON-RPC bytes never pass through Node', { skip: process.platform !== 'linux' }, async () => {
  const child = spawn(process.execPath, [BIN, '--wrap', '--', process.execPath, ENV_SERVER, 'API_KEY'], { env: engineEnv(home) })
  try {
    // The engine is up once the wrapped server answers.
    child.stdin.write('{"jsonrpc":"2.0","id":1,"method":"tools/list"}\n')
    await new Promise((resolve) => child.stdout.once('data', resolve))
    const [engine] = childrenOf(child.pid)
    const [server] = childrenOf(engine)
    const fd = (pid, n) => fs.readlinkSync(`/proc/${pid}/fd/${n}`)
    assert.match(fs.readlinkSync(`/proc/${engine}/exe`), /agentsecrets$/)
    assert.equal(fd(engine, 0), fd(child.pid, 0), 'the engine reads the client\'s pipe itself')
    assert.equal(fd(engine, 1), fd(child.pid, 1), 'the engine writes the client\'s pipe itself')
    assert.equal(fd(server, 0), fd(child.pid, 0), 'the wrapped server reads the client\'s requests directly')
    assert.notEqual(fd(server, 1), fd(child.pid, 1), 'the wrapped server\'s output goes through the engine\'s masking')
  } finally {
    child.stdin.end()
    await new Promise((resolve) => child.on('close', resolve))
  }
})

test('a client that sends its last request and closes stdin at once still gets the answer', async () => {
  const child = spawn(process.execPath, [BIN], { env: engineEnv(home) })
  const out = []
  child.stdout.on('data', (c) => out.push(c))
  child.stdin.write('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n')
  child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
  child.stdin.end(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"api_call","arguments":{"url":"${upstream.url}/last","injections":{"bearer":"API_KEY"}}}}\n`)
  const code = await new Promise((resolve) => child.on('close', resolve))
  assert.equal(code, 0)
  const answers = Buffer.concat(out).toString('utf8').trim().split('\n').map((l) => JSON.parse(l))
  assert.deepEqual(answers.map((a) => a.id), [1, 2])
  assert.match(answers[1].result.content[0].text, /^HTTP 200/)
})

test('the engine starts on the first call, as with the SDK', async () => {
  const fresh = makeHome({ secrets: { API_KEY: CANARY } })
  const s = await connect([], {}, fresh)
  try {
    assert.match(text(await s.client.callTool({ name: 'status', arguments: {} })), /\nengine running: no \(it starts on the first call\)\n/)
    const r = await s.client.callTool({ name: 'api_call', arguments: { url: `${upstream.url}/auto`, injections: { bearer: 'API_KEY' } } })
    assert.match(text(r), /^HTTP 200/)
    assert.match(text(await s.client.callTool({ name: 'status', arguments: {} })), /\nengine running: yes\n/)
  } finally {
    await s.close()
    cli(fresh, ['proxy', 'stop'])
  }
})

test('--project and AGENTSECRETS_PROJECT choose the project, in both modes', async () => {
  cli(home, ['project', 'create', 'payments'])
  cli(home, ['secrets', 'set', 'PAY_KEY', '--project', 'payments'], OTHER)
  for (const [args, env] of [[['--project', 'payments'], {}], [[], { AGENTSECRETS_PROJECT: 'payments' }]]) {
    const s = await connect(args, env)
    try {
      assert.equal(text(await s.client.callTool({ name: 'list_secrets', arguments: {} })), 'Secrets available (names only; values are never shown):\nPAY_KEY')
      assert.match(text(await s.client.callTool({ name: 'status', arguments: {} })), /^workspace: .*\nproject: payments\n/)
      const start = upstream.requests.length
      await s.client.callTool({ name: 'api_call', arguments: { url: `${upstream.url}/pay`, injections: { bearer: 'PAY_KEY' } } })
      assert.equal(upstream.requests[start].headers.authorization, `Bearer ${OTHER}`)
    } finally {
      await s.close()
    }
  }
  const wrapped = await connect(['--wrap', '--project', 'payments', '--', process.execPath, ENV_SERVER, 'PAY_KEY'])
  try {
    assert.equal(text(await wrapped.client.callTool({ name: 'env_status', arguments: {} })), `PAY_KEY is set (${OTHER.length} characters)`)
  } finally {
    await wrapped.close()
  }
})
