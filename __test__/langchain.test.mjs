// @the-17/agentsecrets/langchain against the real engine and a loopback
// upstream: the tools through @langchain/core's tool interface, inside a
// LangGraph ToolNode driven by a scripted fake chat model, the pins refusing
// prompt-injected arguments before anything is sent, and a hostile upstream
// whose echoes never reach the model.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { AIMessageChunk, HumanMessage } from '@langchain/core/messages'
import { FakeListChatModel, FakeStreamingChatModel } from '@langchain/core/utils/testing'
import { ToolNode } from '@langchain/langgraph/prebuilt'
import { AgentSecrets, DependencyMissing, InvalidArgument } from '../index.mjs'
import { MockAgentSecrets } from '../testing.mjs'
import { createApiCallTool, createSecretTools } from '../langchain.mjs'
import { makeHome, startEngine, startUpstream, assertNoCanary, canaryForms } from './helpers.mjs'

const CANARY = 'sk-lc-canary-5f1e9a7c3b2d4e6f'
const OTHER = 'sk-lc-other-0a9b8c7d6e5f4a3b'
const BASIC = 'svc:pw-lc-basic-77e1c0ffee'
let home
let client
let upstream

before(async () => {
  home = makeHome({ secrets: { API_KEY: CANARY, OTHER_KEY: OTHER, BASIC_CRED: BASIC } })
  startEngine(home)
  upstream = await startUpstream()
  client = new AgentSecrets({ home })
})

after(async () => {
  await client?.close()
  await upstream?.close()
})

/** Requests the upstream received from now on. */
function received() {
  const start = upstream.requests.length
  return () => upstream.requests.slice(start)
}

test('api_call injects every style by name and answers with status and body', async () => {
  const tool = createApiCallTool(client)
  const seen = received()
  const out = await tool.invoke({
    url: `${upstream.url}/v1/items?x=1`,
    method: 'post',
    headers: { 'X-Trace': 'abc' },
    body: { auth: { note: 'n' } },
    injections: { bearer: 'API_KEY', 'header:X-Api-Key': 'OTHER_KEY', 'query:key': 'API_KEY', 'body:auth.key': 'OTHER_KEY' },
  })
  assert.equal(typeof out, 'string')
  assert.match(out, /^HTTP 200\ncontent-type: application\/json/)
  const [r] = seen()
  assert.equal(r.method, 'POST')
  assert.equal(r.headers.authorization, `Bearer ${CANARY}`)
  assert.equal(r.headers['x-api-key'], OTHER)
  assert.equal(r.headers['x-trace'], 'abc')
  assert.equal(new URL(r.url, 'http://x').searchParams.get('key'), CANARY)
  assert.deepEqual(JSON.parse(r.body), { auth: { note: 'n', key: OTHER } })
  // The default upstream echoes the path, query included: the value comes back redacted.
  assert.match(out, /REDACTED_BY_AGENTSECRETS/)
  assertNoCanary(assert, out, CANARY, 'api_call answer')
})

test('basic and form injections', async () => {
  const tool = createApiCallTool(client)
  const seen = received()
  await tool.invoke({ url: `${upstream.url}/basic`, injections: { basic: 'BASIC_CRED' } })
  await tool.invoke({ url: `${upstream.url}/form`, method: 'POST', body: { a: '1' }, injections: { 'form:token': 'OTHER_KEY' } })
  const [b, f] = seen()
  assert.equal(b.headers.authorization, `Basic ${Buffer.from(BASIC).toString('base64')}`)
  assert.equal(new URLSearchParams(f.body).get('token'), OTHER)
  assert.equal(new URLSearchParams(f.body).get('a'), '1')
})

test('an upstream error status is an answer, not an error', async () => {
  const up = await startUpstream((req, res) => {
    res.statusCode = 404
    res.end('no such item')
  })
  try {
    const out = await createApiCallTool(client).invoke({ url: `${up.url}/missing`, injections: { bearer: 'API_KEY' } })
    assert.equal(out, 'HTTP 404\n\nno such item')
  } finally {
    await up.close()
  }
})

test('a redirect is not followed: the model sees where it points', async () => {
  const up = await startUpstream((req, res) => {
    res.statusCode = 302
    res.setHeader('location', 'https://elsewhere.example/next')
    res.end()
  })
  try {
    assert.equal(await createApiCallTool(client).invoke({ url: `${up.url}/old`, injections: { bearer: 'API_KEY' } }), 'HTTP 302\nlocation: https://elsewhere.example/next\n\n')
    assert.equal(up.requests.length, 1)
  } finally {
    await up.close()
  }
})

test('the body is truncated to maxOutputChars with a note', async () => {
  const up = await startUpstream((req, res) => res.end('x'.repeat(5000)))
  try {
    const out = await createApiCallTool(client, { maxOutputChars: 100 }).invoke({ url: `${up.url}/big` })
    assert.match(out, /\n\nx{100}\n\[truncated: showing the first 100 of 5000 characters; ask the API for less/)
    const full = await createApiCallTool(client).invoke({ url: `${up.url}/big` })
    assert.ok(full.endsWith('x'.repeat(5000)), 'the default (16000) shows 5000 characters whole')
  } finally {
    await up.close()
  }
})

test('a binary body is described, not shown', async () => {
  const up = await startUpstream((req, res) => res.end(Buffer.from([0xff, 0xfe, 0x00, 0x81])))
  try {
    assert.match(await createApiCallTool(client).invoke({ url: `${up.url}/bin` }), /\[4 bytes of binary content, not shown\]$/)
  } finally {
    await up.close()
  }
})

test('errors become one line the model can act on, never a stack', async () => {
  const tool = createApiCallTool(client)
  const missing = await tool.invoke({ url: `${upstream.url}/x`, injections: { bearer: 'NOPE' } })
  assert.match(missing, /^Error \(SECRET_NOT_FOUND\): .*NOPE.* To fix: .* Call list_secrets for the names you may use\.$/)
  const host = await tool.invoke({ url: 'http://localhost:9/x', injections: { bearer: 'API_KEY' } })
  assert.match(host, /^Error \(DOMAIN_NOT_ALLOWED\): .*localhost.*a person runs: agentsecrets workspace allowlist add localhost/)
  const style = await tool.invoke({ url: `${upstream.url}/x`, injections: { cookie: 'API_KEY' } })
  assert.match(style, /^Error \(INVALID_ARGUMENT\): unknown injection style 'cookie'; use one of: bearer, basic, header:NAME/)
  for (const out of [missing, host, style]) {
    assert.ok(!out.includes('\n'), 'one line')
    assert.ok(!/\bat .*\.js:\d+/.test(out), 'no stack trace')
  }
})

test('the description names the pins (names only, never values)', () => {
  const tool = createApiCallTool(client, { allowUrls: ['https://api.example.com/v1'], allowMethods: ['get'], allowSecrets: ['API_KEY'] })
  assert.equal(tool.name, 'api_call')
  assert.match(tool.description, /Allowed URLs \(prefixes\): https:\/\/api\.example\.com\/v1\./)
  assert.match(tool.description, /Allowed methods: GET\./)
  assert.match(tool.description, /Secrets you may use: API_KEY\./)
  assert.ok(!tool.description.includes(CANARY))
  assert.equal(createApiCallTool(client, { name: 'stripe_api' }).name, 'stripe_api')
})

test('bad tool options throw InvalidArgument when the tool is made', () => {
  assert.throws(() => createApiCallTool(client, { allowUrls: ['not a url'] }), InvalidArgument)
  assert.throws(() => createApiCallTool(client, { allowUrls: ['https://u:p@api.x.com'] }), InvalidArgument)
  assert.throws(() => createApiCallTool(client, { allowSecrets: [] }), InvalidArgument)
  assert.throws(() => createApiCallTool(client, { allowedUrls: ['https://api.x.com'] }), /unknown tool option 'allowedUrls'/)
  assert.throws(() => createApiCallTool({}), InvalidArgument)
  assert.throws(() => createSecretTools(client, { spawn: true }), /spawn must be false or \{ commands/)
  assert.throws(() => createSecretTools(client, { spawn: { commands: [] } }), /spawn\.commands must list/)
})

test('prompt-injected arguments outside the pins are refused before anything is sent', async () => {
  const base = `${upstream.url}/v1`
  const tool = createApiCallTool(client, { allowUrls: [base], allowMethods: ['GET', 'POST'], allowSecrets: ['API_KEY'] })
  const host = upstream.url.replace('http://', '')
  const attacks = {
    'another path': { url: `${upstream.url}/v2/x` },
    'a longer segment': { url: `${upstream.url}/v10/x` },
    'dot segments': { url: `${base}/../admin` },
    'encoded dot segments': { url: `${base}/%2e%2e/admin` },
    'an encoded slash': { url: `${base}/..%2Fadmin` },
    'an encoded backslash': { url: `${base}/..%5Cadmin` },
    'a suffixed host': { url: `http://127.0.0.1.nip.io:${upstream.port}/v1/x` },
    'userinfo': { url: `http://${host}@127.0.0.2:${upstream.port}/v1/x` },
    'userinfo on the pinned host': { url: `http://user:pw@${host}/v1/x` },
    'another port': { url: `http://127.0.0.1:${upstream.port + 1}/v1/x` },
    'another scheme': { url: `https://${host}/v1/x` },
    'a relative URL': { url: '/v1/x' },
    'a CRLF in the URL': { url: `${base}/x\r\nX-Evil: 1` },
    'a method outside the pins': { url: `${base}/x`, method: 'DELETE' },
    'a bad method': { url: `${base}/x`, method: 'GET /admin HTTP/1.1\r\n' },
    'a secret outside the pins': { url: `${base}/x`, injections: { bearer: 'OTHER_KEY' } },
    'a secret outside the pins, in a header': { url: `${base}/x`, injections: { 'header:X-Key': 'OTHER_KEY' } },
    'a value instead of a name': { url: `${base}/x`, injections: { bearer: 'sk live value with spaces' } },
    'a CRLF in a header value': { url: `${base}/x`, headers: { 'X-A': 'a\r\nAuthorization: Bearer x' } },
    'a CRLF in a header name': { url: `${base}/x`, headers: { 'X-A\r\nX-B': 'b' } },
    'a CRLF in an injected header name': { url: `${base}/x`, injections: { 'header:X-A\r\nX-B': 'API_KEY' } },
    'the engine protocol header': { url: `${base}/x`, headers: { 'X-AS-Inject-Bearer': 'OTHER_KEY' } },
    'the engine protocol header, lower case': { url: `${base}/x`, headers: { 'x-as-inject': 'bearer=OTHER_KEY' } },
    'a Host header': { url: `${base}/x`, headers: { Host: 'evil.example' } },
    'a Transfer-Encoding header': { url: `${base}/x`, headers: { 'Transfer-Encoding': 'chunked' } },
  }
  const seen = received()
  for (const [what, args] of Object.entries(attacks)) {
    const out = await tool.invoke(args)
    assert.match(out, /^Error \(INVALID_ARGUMENT\): /, `${what}: ${out}`)
  }
  assert.deepEqual(seen(), [], 'nothing reached the upstream')
  // Inside the pins, the call goes through.
  assert.match(await tool.invoke({ url: `${base}/x`, injections: { bearer: 'API_KEY' } }), /^HTTP 200/)
  assert.match(await tool.invoke({ url: `${base}` }), /^HTTP 200/)
})

test('a hostile upstream echoing the value in every encoding: the model sees none of it', async () => {
  const hostile = await startUpstream((req, res) => {
    const forms = canaryForms(CANARY)
    res.setHeader('content-type', 'text/plain')
    res.setHeader('x-echo', CANARY)
    res.end(`${forms.join(' | ')} | ${Buffer.from(CANARY).toString('hex')} | ${req.headers.authorization}`)
  })
  try {
    const out = await createApiCallTool(client).invoke({ url: `${hostile.url}/echo`, injections: { bearer: 'API_KEY' } })
    assert.match(out, /^HTTP 200\ncontent-type: text\/plain\nnote: the API echoed a credential/)
    assertNoCanary(assert, out, CANARY, 'hostile echo')
    assert.ok(!out.includes(Buffer.from(CANARY).toString('hex')))
  } finally {
    await hostile.close()
  }
})

test('list_secrets gives names only (only the allowed ones when pinned); spawn is off by default', async () => {
  const tools = createSecretTools(client)
  assert.deepEqual(tools.map((t) => t.name), ['list_secrets'])
  const out = await tools[0].invoke({})
  assert.match(out, /\nAPI_KEY\nBASIC_CRED\nOTHER_KEY$/)
  assertNoCanary(assert, out, CANARY, 'list_secrets')
  const [pinned] = createSecretTools(client, { allowSecrets: ['OTHER_KEY'] })
  assert.match(await pinned.invoke({}), /\nOTHER_KEY$/)
})

test('run_with_secrets runs only the allowed commands, its output masked', async () => {
  const tools = createSecretTools(client, { spawn: { commands: [process.execPath], only: ['API_KEY'] } })
  const run = tools.find((t) => t.name === 'run_with_secrets')
  const script = 'console.log(process.env.API_KEY, process.env.OTHER_KEY === undefined ? "no-other" : "other")'
  const out = await run.invoke({ command: process.execPath, args: ['-e', script] })
  assert.match(out, /^exit code: 0\nstdout:\n\[REDACTED_BY_AGENTSECRETS\] no-other\n/)
  assertNoCanary(assert, out, CANARY, 'spawn output')
  assert.match(await run.invoke({ command: 'sh', args: ['-c', 'env'] }), /^Error \(INVALID_ARGUMENT\): the command must be one of /)
})

test('inside an agent loop: scripted models ask for the tools, a ToolNode runs them, the model answers', async () => {
  const apiCall = createApiCallTool(client, { allowUrls: [`${upstream.url}/v1`], allowSecrets: ['API_KEY'] })
  const [listSecrets] = createSecretTools(client)
  const call = (id, name, args) => ({ id, name, args, type: 'tool_call' })
  const model = new FakeStreamingChatModel({
    sleep: 0,
    chunks: [
      new AIMessageChunk({
        content: '',
        tool_calls: [
          call('c1', 'list_secrets', {}),
          call('c2', 'api_call', { url: `${upstream.url}/v1/me`, injections: { bearer: 'API_KEY' } }),
          // Prompt-injected: another secret, another path.
          call('c3', 'api_call', { url: `${upstream.url}/admin`, injections: { bearer: 'OTHER_KEY' } }),
        ],
      }),
    ],
  }).bindTools([apiCall, listSecrets])
  // The second turn reads the tool messages and answers.
  const answerer = new FakeListChatModel({ responses: ['You are user 1.'] }).bindTools([apiCall, listSecrets])
  const toolNode = new ToolNode([apiCall, listSecrets])
  const seen = received()
  // The agent loop: ask the model, run its tool calls, until it answers.
  const messages = [new HumanMessage('Who am I on the API?')]
  for (const turn of [model, answerer]) {
    const ai = await turn.invoke(messages)
    messages.push(ai)
    if (!ai.tool_calls?.length) break
    messages.push(...(await toolNode.invoke({ messages })).messages)
  }
  assert.equal(messages.length, 6, 'question, tool calls, three tool messages, answer')
  assert.equal(messages.at(-1).content, 'You are user 1.')
  const byId = Object.fromEntries(messages.filter((m) => m.tool_call_id).map((m) => [m.tool_call_id, String(m.content)]))
  assert.match(byId.c1, /API_KEY/)
  assert.match(byId.c2, /^HTTP 200/)
  assert.match(byId.c3, /^Error \(INVALID_ARGUMENT\): .*outside what this tool may call/)
  assert.deepEqual(seen().map((r) => [r.url, r.headers.authorization]), [['/v1/me', `Bearer ${CANARY}`]])
  assertNoCanary(assert, messages, CANARY, 'tool messages')
  assertNoCanary(assert, messages, OTHER, 'tool messages')
})

test('works on MockAgentSecrets (no engine) for the program\'s own tests', async () => {
  const mock = new MockAgentSecrets({ secrets: { API_KEY: 'mock-value-123456' } })
  mock.respond({ method: 'POST' }, { statusCode: 201, body: 'made' })
  const out = await createApiCallTool(mock).invoke({ url: 'https://api.example.com/v1/x', method: 'POST', injections: { bearer: 'API_KEY' } })
  assert.equal(out, 'HTTP 201\n\nmade')
})

test('a missing optional peer says what to install', async () => {
  const { requirePeer } = (await import('../lib/tools/peer.js')).default
  assert.throws(
    () => requirePeer('@langchain/not-installed', '@the-17/agentsecrets/langchain', '@langchain/core zod'),
    (e) => e instanceof DependencyMissing && e.code === 'PEER_DEPENDENCY_MISSING' && /needs @langchain\/not-installed, which is not installed\.\nTo fix: npm install @langchain\/core zod$/.test(e.message),
  )
})

test('URL pins: what passes and what does not, on the parsed URL', async () => {
  const { makePins, checkUrl } = (await import('../lib/tools/pinning.js')).default
  const pins = makePins({ allowUrls: ['https://API.Example.com:443/v1/', 'http://[::1]:8080', 'https://api.other.com/a/b'] })
  const passes = [
    'https://api.example.com/v1',
    'https://api.example.com/v1/',
    'https://api.example.com/v1/users?limit=5#top',
    'https://API.EXAMPLE.COM/v1/users',
    'https://api.example.com:443/v1/x',
    'https://api.example.com/v1/./users',
    'http://[::1]:8080/anything',
    'https://api.other.com/a/b/c',
  ]
  for (const url of passes) assert.doesNotThrow(() => checkUrl(pins, url), url)
  const refused = [
    'https://api.example.com/v2',
    'https://api.example.com/v1x',
    'https://api.example.com/',
    'https://api.example.com:8443/v1',
    'http://api.example.com/v1',
    'https://api.example.com./v1',
    'https://api.example.com.evil.net/v1',
    'https://api.example.com@evil.net/v1',
    'https://evil.net/api.example.com/v1',
    'https://evil.net?https://api.example.com/v1',
    'https://api.example.com/v1/%2e%2e/admin',
    'https://api.example.com/v1/..%2fadmin',
    'https://api.example.com/v1\\..\\..\\admin',
    'http://[::1]:8081/x',
    'https://api.other.com/a',
    'https://api.other.com/a/bc',
    'ftp://api.example.com/v1',
    'file:///etc/passwd',
  ]
  for (const url of refused) assert.throws(() => checkUrl(pins, url), InvalidArgument, url)
  // What is sent is the URL that was checked.
  assert.equal(checkUrl(pins, 'https://API.example.com:443/v1/./a').href, 'https://api.example.com/v1/a')
})
