// S11: after every SDK operation — successes that the upstream echoes in
// every encoding, and every error class — the canary value is absent from
// every JS-visible object: responses, messages, stacks, own properties,
// cause chains. The canary is stored through the CLI's stdin only; the SDK
// is only ever given its NAME.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { assertNoCanary, cli, makeHome, startEngine, startUpstream, stopEngine } from './helpers.mjs'
import { AgentSecrets } from '../index.mjs'

const CANARY = 'cnry-S11-Xq7Lp2Vw9'
const BASIC = `user:${CANARY}`

let up
let home
let ready
let client
const observed = []

function jsonUnicodeEscape(s) {
  return [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')
}

/** Records the outcome of an operation (a response or an error) for inspection. */
async function op(label, fn) {
  try {
    const value = await fn()
    observed.push({ label, value })
    return value
  } catch (err) {
    observed.push({ label, value: err })
    return err
  }
}

before(async () => {
  up = await startUpstream((req, res, rec) => {
    const u = new URL(req.url, 'http://x')
    const auth = req.headers.authorization ?? ''
    let value = u.searchParams.get('key') ?? req.headers['x-api-key'] ?? null
    if (!value && auth.startsWith('Bearer ')) value = auth.slice(7)
    if (!value && auth.startsWith('Basic ')) value = Buffer.from(auth.slice(6), 'base64').toString()
    if (!value && rec.body) {
      try {
        value = JSON.parse(rec.body).client_secret
      } catch {
        value = new URLSearchParams(rec.body).get('api_key')
      }
    }
    value = value ?? 'nothing'
    if (u.pathname === '/slow') return void setTimeout(() => res.end(value), 2000).unref()
    if (u.pathname === '/redirect') {
      res.writeHead(302, { location: `https://elsewhere.example/?leak=${value}` })
      return void res.end(value)
    }
    const status = u.pathname === '/fail' ? 500 : 200
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-echo': value,
      'x-echo-b64': Buffer.from(value).toString('base64'),
      'www-authenticate': `Basic ${Buffer.from(value).toString('base64')}`,
    })
    // The value in every encoding an echo could use.
    res.end(
      JSON.stringify({
        raw: value,
        b64: Buffer.from(value).toString('base64'),
        b64url: Buffer.from(value).toString('base64url'),
        pct: encodeURIComponent(value),
        form: new URLSearchParams({ v: value }).toString(),
        received: rec,
      })+ `\n"${jsonUnicodeEscape(value)}"`,
    )
  })
  home = makeHome({ secrets: { CANARY_KEY: CANARY, CANARY_BASIC: BASIC }, allow: ['127.0.0.1', 'insecure.test', '169.254.169.254'] })
  ready = startEngine(home)
  client = new AgentSecrets({ home, autoStart: false })
})

after(async () => {
  await client.close()
  stopEngine(home)
  await up.close()
})

describe('S11: the canary never reaches JS', () => {
  it('successful calls with every injection style, echoed back in every encoding', async () => {
    const u = up.url
    const responses = [
      await op('bearer', () => client.call(`${u}/echo`, { bearer: 'CANARY_KEY' })),
      await op('basic', () => client.call(`${u}/echo`, { basic: 'CANARY_BASIC' })),
      await op('header', () => client.call(`${u}/echo`, { header: { 'X-Api-Key': 'CANARY_KEY' } })),
      await op('query', () => client.call(`${u}/echo?x=1`, { query: { key: 'CANARY_KEY' } })),
      await op('body', () => client.call(`${u}/echo`, { method: 'POST', body: { a: 1 }, bodyField: { client_secret: 'CANARY_KEY' } })),
      await op('form', () => client.call(`${u}/echo`, { method: 'POST', formField: { api_key: 'CANARY_KEY' } })),
      await op('gzip asked', () => client.call(`${u}/echo`, { bearer: 'CANARY_KEY', headers: { 'Accept-Encoding': 'gzip, br' } })),
      await op('redirect', () => client.call(`${u}/redirect`, { query: { key: 'CANARY_KEY' } })),
      await op('status 500, not thrown', () => client.call(`${u}/fail`, { bearer: 'CANARY_KEY', throwOnHttpError: false })),
    ]
    for (const r of responses) {
      assert.equal(r.constructor.name, 'AgentSecretsResponse', `${r.message ?? ''}`)
      assert.equal(r.redacted, true)
    }
    // The upstream did get the value: the injection really happened.
    assert.ok(up.requests.some((r) => r.headers.authorization === `Bearer ${CANARY}`))
  })

  it('every error class, with the canary injected where the call gets that far', async () => {
    const u = up.url
    const closed = http.createServer()
    await new Promise((r) => closed.listen(0, '127.0.0.1', r))
    const deadPort = closed.address().port
    await new Promise((r) => closed.close(r))
    const errs = [
      await op('UpstreamError', () => client.call(`${u}/fail`, { query: { key: 'CANARY_KEY' } })),
      await op('SecretNotFound', () => client.call(`${u}/echo`, { bearer: 'CANARY_KEY', query: { k: 'NO_SUCH' } })),
      await op('DomainNotAllowed', () => client.call(`http://localhost:${up.port}/?a=1`, { query: { key: 'CANARY_KEY' } })),
      await op('InsecureScheme', () => client.call('http://insecure.test/', { query: { key: 'CANARY_KEY' } })),
      await op('AddressRefused', () => client.call('https://169.254.169.254/', { query: { key: 'CANARY_KEY' } })),
      await op('UpstreamUnreachable (S5)', () => client.call(`http://127.0.0.1:${deadPort}/x`, { query: { key: 'CANARY_KEY' } })),
      await op('InjectionFailed', () => client.call(`${u}/echo`, { basic: 'CANARY_KEY' })),
      await op('InjectionFailed body', () => client.call(`${u}/echo`, { method: 'POST', body: 'not json', bodyField: { a: 'CANARY_KEY' } })),
      await op('TimeoutError', () => client.call(`${u}/slow`, { query: { key: 'CANARY_KEY' }, timeoutMs: 200 })),
      await op('AbortError', () => client.call(`${u}/slow`, { query: { key: 'CANARY_KEY' }, signal: AbortSignal.timeout(100) })),
      await op('WorkspaceNotFound', () => client.call(`${u}/echo`, { bearer: 'CANARY_KEY', workspace: 'Nope' })),
      await op('ProjectNotFound', () => client.call(`${u}/echo`, { bearer: 'CANARY_KEY', project: 'nope' })),
      await op('InvalidArgument', () => client.call(`${u}/echo`, { bearer: 'CANARY_KEY', headers: { 'X-A': 'a\r\nb' } })),
    ]
    const other = makeHome({ init: false })
    fs.mkdirSync(path.join(other, 'run'), { recursive: true, mode: 0o700 })
    fs.writeFileSync(path.join(other, 'run', 'proxy.token'), '0'.repeat(64), { mode: 0o600 })
    errs.push(await op('ProxyAuthError', () => new AgentSecrets({ home: other, port: ready.port, autoStart: false }).call(`${u}/echo`, { bearer: 'CANARY_KEY' })))
    const closedClient = new AgentSecrets({ home, autoStart: false })
    await closedClient.close()
    errs.push(await op('ClientClosed', () => closedClient.call(`${u}/echo`, { bearer: 'CANARY_KEY' })))
    errs.push(await op('NotRunning', () => new AgentSecrets({ home: makeHome({ init: false }), autoStart: false }).call(`${u}/echo`, { bearer: 'CANARY_KEY' })))
    errs.push(await op('NotInitialized', () => new AgentSecrets({ home: makeHome({ init: false }) }).call(`${u}/echo`, { bearer: 'CANARY_KEY' })))

    const names = errs.map((e) => e.name)
    for (const expected of [
      'UpstreamError',
      'SecretNotFound',
      'DomainNotAllowed',
      'PermissionDenied',
      'UpstreamUnreachable',
      'InjectionFailed',
      'TimeoutError',
      'AbortError',
      'WorkspaceNotFound',
      'ProjectNotFound',
      'InvalidArgument',
      'ProxyAuthError',
      'ClientClosed',
      'AgentSecretsNotRunning',
      'NotInitialized',
    ]) {
      assert.ok(names.includes(expected), `${expected} was produced (got ${names.join(', ')})`)
    }
    const upstreamError = errs[0]
    assert.equal(upstreamError.statusCode, 500)
    assert.match(upstreamError.body, /REDACTED_BY_AGENTSECRETS/)
  })

  it('nothing observed holds the value, in any encoding', () => {
    assert.ok(observed.length >= 25)
    for (const { label, value } of observed) assertNoCanary(assert, value, CANARY, label)
    // Basic credentials: the whole user:password in base64 too.
    for (const { label, value } of observed) assertNoCanary(assert, value, BASIC, label)
  })

  it('the detector finds a planted value (so the checks above can fail)', () => {
    const planted = [
      new Error('x', { cause: Object.assign(new Error('y'), { extra: { deep: [CANARY] } }) }),
      { buf: Buffer.from(`..${CANARY}..`) },
      Object.defineProperty({}, 'hidden', { value: Buffer.from(CANARY).toString('base64'), enumerable: false }),
      new (class { get body() { return encodeURIComponent(CANARY) } })(),
    ]
    for (const p of planted) assert.throws(() => assertNoCanary(assert, p, CANARY, 'planted'), assert.AssertionError)
  })

  it('the audit log read through the CLI holds names only', () => {
    const logs = cli(home, ['--json', 'proxy', 'logs'])
    assert.match(logs, /CANARY_KEY/)
    for (const form of [CANARY, Buffer.from(CANARY).toString('base64')]) assert.ok(!logs.includes(form))
  })
})
