// Every error class: the mapping of coded addon errors, the engine's errors
// through a real engine, timeouts and aborts, caller authentication, and the
// upstream Go proxy's error shapes (a stand-in speaking its wire format).

import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { createRequire } from 'node:module'
import { after, before, describe, it } from 'node:test'
import { makeHome, rejection, startEngine, startUpstream, stopEngine } from './helpers.mjs'
import * as sdk from '../index.mjs'

const require = createRequire(import.meta.url)
const cjs = require('../index.js')
const errors = require('../errors.js')

const {
  AgentSecrets,
  AgentSecretsError,
  AbortError,
  BackendUnsupported,
  ClientClosed,
  DomainNotAllowed,
  InjectionFailed,
  PermissionDenied,
  ProjectNotFound,
  ProxyAuthError,
  SecretNotFound,
  TimeoutError,
  UpstreamError,
  UpstreamUnreachable,
  WorkspaceNotFound,
  NotInitialized,
  AgentSecretsNotRunning,
  CLINotFound,
  CLIError,
  InvalidArgument,
} = sdk

function assertTyped(err, Cls, code) {
  assert.ok(err instanceof Cls, `expected ${Cls.name}, got ${err?.name}: ${err?.message}`)
  assert.ok(err instanceof AgentSecretsError)
  assert.ok(err instanceof Error)
  assert.equal(err.name, Cls.name)
  if (code) assert.equal(err.code, code)
  assert.equal(typeof err.fixHint, 'string', 'every error says what to do')
  assert.ok(err.fixHint.length > 0)
  assert.ok(err.cause instanceof Error, 'the addon error is kept as cause')
}

describe('the package exports', () => {
  it('the same classes from CommonJS and ESM, all extending AgentSecretsError', () => {
    const names = Object.keys(cjs).filter((k) => /^[A-Z]/.test(k) && k.endsWith('Error') || ['AgentSecretsNotRunning', 'NotInitialized', 'SessionExpired', 'SecretNotFound', 'DomainNotAllowed', 'PermissionDenied', 'WorkspaceNotFound', 'ProjectNotFound', 'CLINotFound', 'AllowlistModificationDenied', 'InvalidArgument', 'InjectionFailed', 'BackendUnsupported', 'ClientClosed', 'PlatformNotSupported', 'UpstreamUnreachable'].includes(k))
    assert.ok(names.length >= 20, names.join(','))
    for (const n of names) {
      assert.equal(sdk[n], cjs[n], n)
      assert.ok(n === 'AgentSecretsError' || cjs[n].prototype instanceof AgentSecretsError, `${n} extends AgentSecretsError`)
    }
    assert.equal(sdk.AgentSecrets, cjs.AgentSecrets)
  })

  it('resolve by package name for import and require', async () => {
    const byName = await import('@the-17/agentsecrets')
    assert.equal(byName.AgentSecrets, sdk.AgentSecrets)
    assert.equal(byName.default.AgentSecrets, sdk.AgentSecrets)
    assert.equal(require('@the-17/agentsecrets').UpstreamError, sdk.UpstreamError)
  })

  it('convertError maps every code to its class, keeping the original as cause', () => {
    for (const [code, Cls] of Object.entries(errors.CLASS_BY_CODE)) {
      const original = new Error(`${errors.ERROR_PREFIX}${JSON.stringify({ code, message: `m-${code}`, fix: `f-${code}`, key: 'K', domain: 'd.com', statusCode: 418, body: 'b', headers: { a: 'b' }, url: 'https://u/' })}`)
      const e = sdk.convertError(original)
      assert.ok(e instanceof Cls, code)
      assert.equal(e.code, code)
      assert.equal(e.fixHint, `f-${code}`)
      assert.equal(e.cause, original)
      assert.match(e.message, new RegExp(`m-${code}`))
      assert.match(e.message, new RegExp(`To fix: f-${code}`))
    }
    const e = sdk.convertError(new Error(`${errors.ERROR_PREFIX}${JSON.stringify({ code: 'SECRET_NOT_FOUND', message: 'x', key: 'STRIPE_KEY' })}`))
    assert.equal(e.key, 'STRIPE_KEY')
    const d = sdk.convertError(new Error(`${errors.ERROR_PREFIX}${JSON.stringify({ code: 'DOMAIN_NOT_ALLOWED', message: 'x', domain: 'a.com' })}`))
    assert.equal(d.domain, 'a.com')
    const u = sdk.convertError(new Error(`${errors.ERROR_PREFIX}${JSON.stringify({ code: 'UPSTREAM_HTTP', message: 'x', statusCode: 500, body: 'b', headers: { h: 'v' }, url: 'https://a/' })}`))
    assert.deepEqual([u.statusCode, u.body, u.headers.h, u.url], [500, 'b', 'v', 'https://a/'])
    // Unknown codes still give an AgentSecretsError; foreign errors pass through.
    assert.ok(sdk.convertError(new Error(`${errors.ERROR_PREFIX}{"code":"FUTURE_CODE","message":"m"}`)) instanceof sdk.EngineError)
    const foreign = new RangeError('x')
    assert.equal(sdk.convertError(foreign), foreign)
    assert.ok(sdk.convertError(new Error(`${errors.ERROR_PREFIX}not json`)) instanceof sdk.EngineError)
  })

  it('PLATFORM_NOT_SUPPORTED (the engine on Windows) is a PlatformNotSupported', () => {
    // The addon raises it only on Windows, where it is compile-checked; this is the JS half.
    const fix = "run your program in WSL 2, or pass { backend: 'upstream-proxy' }, or use MockAgentSecrets"
    const original = new Error(`${errors.ERROR_PREFIX}${JSON.stringify({ code: 'PLATFORM_NOT_SUPPORTED', message: 'the agentsecrets engine does not run on Windows yet', fix })}`)
    const e = sdk.convertError(original)
    assertTyped(e, sdk.PlatformNotSupported, 'PLATFORM_NOT_SUPPORTED')
    assert.equal(cjs.PlatformNotSupported, sdk.PlatformNotSupported)
    assert.match(e.message, /does not run on Windows yet\nTo fix: .*WSL 2/)
  })

  it('NotInitialized is an AgentSecretsNotRunning', () => {
    assert.ok(NotInitialized.prototype instanceof AgentSecretsNotRunning)
  })
})

describe('the code table (errors.js CLASS_BY_CODE)', () => {
  const ROOT = path.join(path.dirname(new URL(import.meta.url).pathname), '..')
  const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8')
  const matches = (text, re) => [...text.matchAll(re)].map((m) => m[1])
  const jsFiles = (dir) =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((d) => {
      const rel = path.join(dir, d.name)
      if (d.isDirectory()) return jsFiles(rel)
      return d.name.endsWith('.js') ? [rel] : []
    })
  // The engine's codes and the addon's own, as the addon lists them.
  const addonCodes = require('../lib/native.js').binding.errorCodes()
  // The JS layer's codes: every `makeError({ code: 'X'` and the upstream
  // CLI's failure table (`[/re/, 'CODE', fix]`).
  const jsText = ['errors.js', ...jsFiles('lib')].map(read).join('\n')
  const jsCodes = [...matches(jsText, /makeError\(\{\s*code: '([A-Z][A-Z_]+)'/g), ...matches(jsText, /^\s*\[\/.*\/i, '([A-Z_]+)',/gm)]
  // Every code is produced by the engine or the addon now.
  const PARITY_ONLY = []

  it('reads the codes from the addon and the JS sources', () => {
    assert.ok(addonCodes.length >= 30, addonCodes.join(','))
    assert.ok(addonCodes.includes('DOMAIN_NOT_ALLOWED') && addonCodes.includes('ENGINE_NOT_RUNNING'), addonCodes.join(','))
    assert.ok(jsCodes.includes('INVALID_ARGUMENT') && jsCodes.includes('WORKSPACE_NOT_FOUND'), jsCodes.join(','))
  })

  it('maps every engine, addon and JS code to a class of its own, not the fallback for unknown codes', () => {
    for (const code of new Set([...addonCodes, ...jsCodes])) {
      assert.ok(Object.hasOwn(errors.CLASS_BY_CODE, code), `${code} has no class in errors.js CLASS_BY_CODE`)
      const e = errors.makeError({ code, message: 'm', fix: 'f' })
      assert.ok(e instanceof AgentSecretsError && e.code === code && e.fixHint === 'f', code)
      assert.match(e.message, /^m\nTo fix: f$/)
    }
  })

  it('has no code nothing produces', () => {
    const produced = new Set([...addonCodes, ...jsCodes, ...PARITY_ONLY])
    for (const code of Object.keys(errors.CLASS_BY_CODE)) assert.ok(produced.has(code), `${code} is produced by nothing`)
  })

  it('uses the prefix the addon encodes its errors with', () => {
    const { binding } = require('../lib/native.js')
    assert.equal(errors.ERROR_PREFIX, binding.ERROR_PREFIX)
    const e = sdk.convertError(new Error(`${binding.ERROR_PREFIX}{"code":"TIMEOUT","message":"m","fix":"f"}`))
    assert.ok(e instanceof TimeoutError)
  })

  it('exports every class from CommonJS, ESM and the typings', () => {
    const dts = read('index.d.ts')
    for (const [name, Cls] of Object.entries(errors.CLASSES)) {
      assert.equal(cjs[name], Cls, name)
      assert.equal(sdk[name], Cls, `index.mjs exports ${name}`)
      assert.match(dts, new RegExp(`export declare class ${name} extends `), `index.d.ts declares ${name}`)
    }
    for (const Cls of Object.values(errors.CLASS_BY_CODE)) assert.ok(Object.values(errors.CLASSES).includes(Cls), Cls.name)
  })

  it('an unknown code is an EngineError that keeps its code', () => {
    const e = errors.makeError({ code: 'FUTURE_CODE', message: 'm' })
    assert.ok(e instanceof sdk.EngineError)
    assert.equal(e.code, 'FUTURE_CODE')
    assert.equal(e.message, 'm')
    assert.equal(e.fixHint, null)
  })
})

describe('errors from the real engine', () => {
  let up
  let home
  let ready
  let client

  before(async () => {
    up = await startUpstream((req, res) => {
      if (req.url.startsWith('/slow')) {
        setTimeout(() => res.end('late'), 3000).unref()
        return
      }
      return false
    })
    home = makeHome({ secrets: { KEY: 'cnry-err-1A2b', NOT_BASIC: 'cnry-nocolon-3C4d' }, allow: ['127.0.0.1', 'insecure.test', '169.254.169.254'] })
    ready = startEngine(home)
    client = new AgentSecrets({ home, autoStart: false })
  })

  after(async () => {
    await client.close()
    stopEngine(home)
    await up.close()
  })

  it('SecretNotFound carries the key', async () => {
    const e = await rejection(client.call(up.url, { bearer: 'NO_SUCH_KEY' }))
    assertTyped(e, SecretNotFound, 'SECRET_NOT_FOUND')
    assert.equal(e.key, 'NO_SUCH_KEY')
    assert.match(e.fixHint, /secrets set/)
  })

  it('DomainNotAllowed carries the domain', async () => {
    const e = await rejection(client.call(`http://localhost:${up.port}/`, { bearer: 'KEY' }))
    assertTyped(e, DomainNotAllowed, 'DOMAIN_NOT_ALLOWED')
    assert.equal(e.domain, 'localhost')
    assert.match(e.fixHint, /allowlist add localhost/)
  })

  it('WorkspaceNotFound and ProjectNotFound (per-call and per-client scope)', async () => {
    assertTyped(await rejection(client.call(up.url, { bearer: 'KEY', workspace: 'Nope' })), WorkspaceNotFound, 'WORKSPACE_NOT_FOUND')
    assertTyped(await rejection(client.call(up.url, { bearer: 'KEY', project: 'nope' })), ProjectNotFound, 'PROJECT_NOT_FOUND')
    const scoped = new AgentSecrets({ home, autoStart: false, project: 'other' })
    assertTyped(await rejection(scoped.call(up.url, { bearer: 'KEY' })), ProjectNotFound, 'PROJECT_NOT_FOUND')
    const ok = new AgentSecrets({ home, autoStart: false, workspace: 'Personal', project: 'default' })
    assert.equal((await ok.call(up.url, { bearer: 'KEY' })).statusCode, 200)
  })

  it('InjectionFailed', async () => {
    assertTyped(await rejection(client.call(up.url, { basic: 'NOT_BASIC' })), InjectionFailed, 'INJECTION_FAILED')
    assertTyped(await rejection(client.call(up.url, { method: 'POST', body: 'not json', bodyField: { a: 'KEY' } })), InjectionFailed, 'INJECTION_FAILED')
  })

  it('PermissionDenied for an insecure scheme and a metadata address', async () => {
    const a = await rejection(client.call('http://insecure.test/', { bearer: 'KEY' }))
    assertTyped(a, PermissionDenied, 'INSECURE_SCHEME')
    const b = await rejection(client.call('https://169.254.169.254/latest/meta-data', { bearer: 'KEY' }))
    assertTyped(b, PermissionDenied, 'ADDRESS_REFUSED')
  })

  it('UpstreamUnreachable', async () => {
    const closed = http.createServer()
    await new Promise((r) => closed.listen(0, '127.0.0.1', r))
    const port = closed.address().port
    await new Promise((r) => closed.close(r))
    assertTyped(await rejection(client.call(`http://127.0.0.1:${port}/`, { bearer: 'KEY' })), UpstreamUnreachable, 'UPSTREAM_UNREACHABLE')
    // Calls without injection too.
    assertTyped(await rejection(client.call(`http://127.0.0.1:${port}/`)), UpstreamUnreachable, 'UPSTREAM_UNREACHABLE')
  })

  it('TimeoutError within the timeout, with and without injection', async () => {
    for (const opts of [{ bearer: 'KEY' }, {}]) {
      const t0 = Date.now()
      const e = await rejection(client.call(`${up.url}/slow`, { ...opts, timeoutMs: 300 }))
      assertTyped(e, TimeoutError, 'TIMEOUT')
      const took = Date.now() - t0
      assert.ok(took >= 280 && took < 2000, `took ${took} ms`)
    }
    const c = new AgentSecrets({ home, autoStart: false, timeoutMs: 200 })
    assertTyped(await rejection(c.call(`${up.url}/slow`, { bearer: 'KEY' })), TimeoutError, 'TIMEOUT')
  })

  it('AbortError: aborted during the call, and before it (nothing sent)', async () => {
    const ac = new AbortController()
    const t0 = Date.now()
    setTimeout(() => ac.abort(new Error('stop now')), 150)
    const e = await rejection(client.call(`${up.url}/slow`, { bearer: 'KEY', signal: ac.signal }))
    assert.ok(e instanceof AbortError, e?.message)
    assert.equal(e.code, 'ABORTED')
    assert.equal(e.cause.message, 'stop now')
    assert.ok(Date.now() - t0 < 2000)

    const before = up.requests.length
    const pre = new AbortController()
    pre.abort()
    const e2 = await rejection(client.call(up.url, { bearer: 'KEY', signal: pre.signal }))
    assert.ok(e2 instanceof AbortError)
    assert.equal(up.requests.length, before, 'an aborted call sends nothing')

    const ac3 = new AbortController()
    setTimeout(() => ac3.abort(), 100)
    assert.ok((await rejection(client.call(`${up.url}/slow`, { signal: ac3.signal }))) instanceof AbortError)
    // A signal that never fires changes nothing.
    assert.equal((await client.call(up.url, { bearer: 'KEY', signal: new AbortController().signal })).statusCode, 200)
    // AbortSignal.timeout works as well.
    assert.ok((await rejection(client.call(`${up.url}/slow`, { bearer: 'KEY', signal: AbortSignal.timeout(100) }))) instanceof AbortError)
  })

  it('ProxyAuthError, with nothing sent, for an engine on the given port that cannot prove it holds this home\'s token', async () => {
    const other = makeHome({ init: false })
    fs.mkdirSync(path.join(other, 'run'), { recursive: true, mode: 0o700 })
    fs.writeFileSync(path.join(other, 'run', 'proxy.token'), 'f'.repeat(64), { mode: 0o600 })
    const before = up.requests.length
    const wrong = new AgentSecrets({ home: other, port: ready.port, autoStart: false })
    assertTyped(await rejection(wrong.connect()), ProxyAuthError, 'PROXY_AUTH_REQUIRED')
    assertTyped(await rejection(wrong.call(up.url, { bearer: 'KEY' })), ProxyAuthError, 'PROXY_AUTH_REQUIRED')

    const none = new AgentSecrets({ home: makeHome({ init: false }), port: ready.port, autoStart: false })
    const e = await rejection(none.call(up.url, { bearer: 'KEY' }))
    assertTyped(e, ProxyAuthError, 'PROXY_AUTH_REQUIRED')
    assert.match(e.message, /did not prove/)
    assert.match(e.fixHint, /AGENTSECRETS_HOME/)
    assert.equal(up.requests.length, before, 'nothing reached the upstream')
  })

  it('the explicit port of this home\'s engine uses its socket; with the right token TCP works', async () => {
    const same = new AgentSecrets({ home, port: ready.port, autoStart: false })
    const own = await same.connect()
    assert.equal(own.viaSocket, true)
    assert.equal(own.auth, 'unix-socket')
    // Another home holding this engine's token: reached over TCP with X-AS-Token.
    const other = makeHome({ init: false })
    fs.mkdirSync(path.join(other, 'run'), { recursive: true, mode: 0o700 })
    fs.copyFileSync(path.join(home, 'run', 'proxy.token'), path.join(other, 'run', 'proxy.token'))
    const tcp = new AgentSecrets({ home: other, port: ready.port, autoStart: false })
    const info = await tcp.connect()
    assert.equal(info.viaSocket, false)
    assert.equal(info.auth, 'engine-proof')
    assert.equal(info.baseUrl, `http://127.0.0.1:${ready.port}`)
    assert.equal((await tcp.call(up.url, { bearer: 'KEY' })).statusCode, 200)
  })

  it('ClientClosed after close()', async () => {
    const c = new AgentSecrets({ home, autoStart: false })
    await c.call(up.url, { bearer: 'KEY' })
    await c.close()
    assertTyped(await rejection(c.call(up.url, { bearer: 'KEY' })), ClientClosed, 'CLIENT_CLOSED')
  })
})

describe('errors before an engine runs', () => {
  it('AgentSecretsNotRunning when autoStart is off', async () => {
    const e = await rejection(new AgentSecrets({ home: makeHome({ init: false }), autoStart: false }).call('http://127.0.0.1:9/', { bearer: 'K' }))
    assertTyped(e, AgentSecretsNotRunning, 'ENGINE_NOT_RUNNING')
    assert.match(e.message, /agentsecrets init/)
  })

  it('NotInitialized when the home has no vault', async () => {
    const e = await rejection(new AgentSecrets({ home: makeHome({ init: false }) }).call('http://127.0.0.1:9/', { bearer: 'K' }))
    assertTyped(e, NotInitialized, 'NOT_INITIALIZED')
    assert.match(e.fixHint, /agentsecrets init/)
  })

  it('CLINotFound and CLIError', async () => {
    const home = makeHome({ init: false })
    assertTyped(await rejection(new AgentSecrets({ home, cli: '/nonexistent/agentsecrets' }).call('http://127.0.0.1:9/', { bearer: 'K' })), CLINotFound, 'CLI_NOT_FOUND')
    const e = await rejection(new AgentSecrets({ home, cli: '/bin/false' }).call('http://127.0.0.1:9/', { bearer: 'K' }))
    assertTyped(e, CLIError, 'CLI_ERROR')
    assert.equal(e.exitCode, 1)
  })

  it('a bad AGENTSECRETS_PORT is an InvalidArgument', () => {
    const saved = process.env.AGENTSECRETS_PORT
    process.env.AGENTSECRETS_PORT = 'eighty'
    try {
      assert.throws(() => new AgentSecrets(), InvalidArgument)
    } finally {
      process.env.AGENTSECRETS_PORT = saved
    }
  })
})

describe('the upstream AgentSecrets proxy (its wire format)', () => {
  const CANARY = 'cnry-legacy-8Kq2'
  let legacy
  let port
  const seen = []
  let client

  before(async () => {
    // Answers exactly like the upstream Go proxy (docs: upstream-proxy.md).
    legacy = http.createServer((req, res) => {
      if (req.url === '/health') {
        res.setHeader('content-type', 'application/json')
        return res.end('{"project":"default","status":"ok"}')
      }
      seen.push({ method: req.method, url: req.url, headers: req.headers })
      const target = new URL(req.headers['x-as-target-url'])
      const send = (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(body)
      }
      switch (target.pathname) {
        case '/blocked':
          return send(403, `{"error":"domain_not_in_allowlist","domain":"${target.hostname}","message":"${target.hostname} is not in your workspace allowlist. To authorize it, run: agentsecrets workspace allowlist add ${target.hostname}"}`)
        case '/empty':
          return send(403, `{"error":"empty_allowlist","domain":"${target.hostname}","message":"Your workspace allowlist is empty. ..."}`)
        case '/missing':
          return send(502, `{"error":"secret 'NOPE' not found in keychain — use list_secrets to see available keys, or add it with 'agentsecrets secrets set KEY=VALUE'"}\n`)
        case '/inject':
          return send(502, '{"error":"injection failed for CREDS (basic): value must contain \':\'"}\n')
        case '/unreach':
          return send(502, `{"error":"failed to reach upstream: Get \\"https://h/x?key=${CANARY}\\": dial tcp: connection refused"}\n`)
        case '/bad-request':
          return send(400, '{"error":"At least one X-AS-Inject-* header is required"}\n')
        case '/api403':
          return send(403, '{"error":"forbidden","detail":"the API itself said no"}')
        case '/api502':
          return send(502, '{"error":"bad gateway at the API"}\n')
        default:
          return send(200, JSON.stringify({ ok: true }))
      }
    })
    await new Promise((r) => legacy.listen(0, '127.0.0.1', r))
    port = legacy.address().port
    client = new AgentSecrets({ home: makeHome({ init: false }), backend: 'upstream-proxy', port, autoStart: false })
  })

  after(async () => {
    await client.close()
    legacy.closeAllConnections?.()
    await new Promise((r) => legacy.close(r))
  })

  it('is identified from /health and spoken to with legacy headers', async () => {
    assert.equal(client.backend, 'upstream-proxy')
    const info = await client.connect()
    assert.equal(info.kind, 'upstream-proxy')
    assert.equal(info.auth, 'none')
    const res = await client.call('https://api.example.com/v1/x', {
      bearer: 'STRIPE_KEY',
      query: { key: 'GMAP_KEY' },
      bodyField: { 'auth.key': 'NESTED' },
      header: { 'X-Org-ID': 'ORG' },
      headers: { 'Accept-Encoding': 'gzip', 'X-Plain': 'p' },
      method: 'POST',
      body: { a: 1 },
      agentId: 'agent-1',
    })
    assert.equal(res.backend, 'upstream-proxy')
    const h = seen.at(-1).headers
    assert.equal(seen.at(-1).url, '/proxy')
    assert.equal(h['x-as-target-url'], 'https://api.example.com/v1/x')
    assert.equal(h['x-as-method'], 'POST')
    assert.equal(h['x-as-inject-bearer'], 'STRIPE_KEY')
    assert.equal(h['x-as-inject-query-key'], 'GMAP_KEY')
    assert.equal(h['x-as-inject-body-auth-key'], 'NESTED')
    assert.equal(h['x-as-inject-header-x-org-id'], 'ORG')
    assert.equal(h['x-as-agent-id'], 'agent-1')
    assert.equal(h['x-plain'], 'p')
    assert.equal(h['x-as-inject'], undefined)
    assert.equal(h['x-as-token'], undefined)
    assert.equal(h['accept-encoding'], undefined, 'no compression request reaches a proxy that cannot redact through it')
  })

  it('maps its error bodies exactly', async () => {
    const d = await rejection(client.call('https://evil.example/blocked', { bearer: 'K' }))
    assertTyped(d, DomainNotAllowed, 'DOMAIN_NOT_ALLOWED')
    assert.equal(d.domain, 'evil.example')
    assert.equal((await rejection(client.call('https://e.example/empty', { bearer: 'K' }))).domain, 'e.example')
    const s = await rejection(client.call('https://a.example/missing', { bearer: 'NOPE' }))
    assertTyped(s, SecretNotFound, 'SECRET_NOT_FOUND')
    assert.equal(s.key, 'NOPE')
    assertTyped(await rejection(client.call('https://a.example/inject', { basic: 'CREDS' })), InjectionFailed, 'INJECTION_FAILED')
    assertTyped(await rejection(client.call('https://a.example/bad-request', { bearer: 'K' })), InvalidArgument, 'INVALID_REQUEST')
  })

  it('never leaks its "failed to reach upstream" text (it can hold a query-injected value)', async () => {
    const e = await rejection(client.call('https://a.example/unreach', { query: { key: 'K' } }))
    assertTyped(e, UpstreamUnreachable, 'UPSTREAM_UNREACHABLE')
    assert.ok(!JSON.stringify({ m: e.message, s: e.stack, c: e.cause.message, f: e.fixHint }).includes(CANARY))
  })

  it('an API 403/502 through it is an UpstreamError, not a proxy error', async () => {
    const a = await rejection(client.call('https://a.example/api403', { bearer: 'K' }))
    assert.ok(a instanceof UpstreamError && !(a instanceof DomainNotAllowed))
    assert.equal(a.statusCode, 403)
    const b = await rejection(client.call('https://a.example/api502', { bearer: 'K' }))
    assert.ok(b instanceof UpstreamError)
    assert.equal(b.statusCode, 502)
  })

  it('refuses per-request scope it cannot honour, before sending', async () => {
    const before = seen.length
    assertTyped(await rejection(client.call('https://a.example/', { bearer: 'K', project: 'payments' })), BackendUnsupported, 'BACKEND_UNSUPPORTED')
    const scoped = new AgentSecrets({ home: makeHome({ init: false }), backend: 'upstream-proxy', port, autoStart: false, workspace: 'Acme' })
    assertTyped(await rejection(scoped.call('https://a.example/', { bearer: 'K' })), BackendUnsupported, 'BACKEND_UNSUPPORTED')
    assert.equal(seen.length, before)
  })
})
