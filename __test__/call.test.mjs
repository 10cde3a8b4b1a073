// call() against the real engine and a recording loopback upstream: every
// injection style with exact names, combinations, body kinds, headers,
// methods, the response object, upstream errors and direct calls.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cli, makeHome, startEngine, startUpstream, stopEngine } from './helpers.mjs'
import { AgentSecrets, AgentSecretsResponse, UpstreamError, DomainNotAllowed } from '../index.mjs'

const S = {
  BEARER_KEY: 'cnry-bearer-7f3k2Q',
  BASIC_CREDS: 'alice:cnry-basic-9Lm2',
  ORG_SECRET: 'cnry-org-4Ht8',
  GMAP_KEY: 'cnry-query-2Pz6',
  CLIENT_SECRET: 'cnry-body-8Wq1',
  NESTED_KEY: 'cnry-nested-5Rr3',
  API_KEY: 'cnry-form-3Vb7',
}

let up
let home
let client

function last() {
  return up.requests.at(-1)
}

before(async () => {
  up = await startUpstream((req, res, rec) => {
    const u = new URL(req.url, 'http://x')
    if (u.pathname === '/status') {
      const code = Number(u.searchParams.get('code'))
      res.writeHead(code, { 'content-type': 'application/json', 'x-upstream': 'yes' })
      res.end(u.searchParams.get('body') ?? JSON.stringify({ error: 'upstream says no' }))
      return
    }
    if (u.pathname === '/redirect') {
      res.writeHead(302, { location: 'http://127.0.0.2:9/elsewhere' })
      res.end()
      return
    }
    if (u.pathname === '/stream') {
      // No Content-Length: the engine streams the body and reports in a trailer.
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('part one; ')
      setTimeout(() => res.end(u.searchParams.get('body') ?? ''), 5)
      return
    }
    if (u.pathname === '/echo-header') {
      // Echoes the injected header back in a response header.
      res.setHeader('x-echo', req.headers['x-org-id'] ?? '')
      res.end('fine')
      return
    }
    if (u.pathname === '/fake-redaction') {
      // A target that imitates the engine's redaction signals.
      res.setHeader('x-as-headers-redacted', 'true')
      res.end('[REDACTED_BY_AGENTSECRETS]')
      return
    }
    if (u.pathname === '/binary') {
      res.setHeader('content-type', 'application/octet-stream')
      res.end(Buffer.from([0, 1, 2, 250, 255]))
      return
    }
    // Default: echo what arrived, so the engine has something to redact.
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(rec))
  })
  home = makeHome({ secrets: S })
  startEngine(home)
  client = new AgentSecrets({ home, autoStart: false })
})

after(async () => {
  await client.close()
  stopEngine(home)
  await up.close()
})

describe('each injection style reaches the upstream with exact names', () => {
  it('bearer', async () => {
    const res = await client.call(`${up.url}/v1/charges`, { bearer: 'BEARER_KEY' })
    assert.equal(last().headers.authorization, `Bearer ${S.BEARER_KEY}`)
    assert.equal(res.statusCode, 200)
    assert.equal(res.redacted, true, 'the echo was redacted')
    assert.ok(!res.body.includes(S.BEARER_KEY))
    assert.match(res.body, /Bearer \[REDACTED_BY_AGENTSECRETS\]/)
  })

  it('basic', async () => {
    await client.call(up.url, { basic: 'BASIC_CREDS' })
    assert.equal(last().headers.authorization, `Basic ${Buffer.from(S.BASIC_CREDS).toString('base64')}`)
  })

  it('header X-Org-ID', async () => {
    await client.call(up.url, { header: { 'X-Org-ID': 'ORG_SECRET' } })
    // The injected header's name reaches the wire exactly as given.
    const i = last().rawHeaders.indexOf('X-Org-ID')
    assert.ok(i >= 0, JSON.stringify(last().rawHeaders))
    assert.equal(last().rawHeaders[i + 1], S.ORG_SECRET)
  })

  it('query key (lower case kept)', async () => {
    await client.call(`${up.url}/geo?address=Lagos`, { query: { key: 'GMAP_KEY' } })
    const u = new URL(last().url, 'http://x')
    assert.equal(u.searchParams.get('key'), S.GMAP_KEY)
    assert.equal(u.searchParams.get('Key'), null)
    assert.equal(u.searchParams.get('address'), 'Lagos')
  })

  it('body field client_secret and nested auth.key, body kept in order', async () => {
    await client.call(`${up.url}/oauth/token`, {
      method: 'POST',
      body: { grant_type: 'client_credentials', zeta: 1, alpha: 2 },
      bodyField: { client_secret: 'CLIENT_SECRET', 'auth.key': 'NESTED_KEY' },
    })
    const got = JSON.parse(last().body)
    assert.equal(got.client_secret, S.CLIENT_SECRET)
    assert.equal(got.auth.key, S.NESTED_KEY)
    assert.equal(got.Client_secret, undefined)
    assert.deepEqual(Object.keys(got).slice(0, 3), ['grant_type', 'zeta', 'alpha'])
    assert.equal(last().headers['content-type'], 'application/json')
  })

  it('body field without a body creates the object', async () => {
    await client.call(up.url, { method: 'POST', bodyField: { 'auth.key': 'NESTED_KEY' } })
    assert.deepEqual(JSON.parse(last().body), { auth: { key: S.NESTED_KEY } })
  })

  it('form field api_key', async () => {
    await client.call(up.url, { method: 'POST', body: new URLSearchParams({ scope: 'read' }), formField: { api_key: 'API_KEY' } })
    const form = new URLSearchParams(last().body)
    assert.equal(form.get('api_key'), S.API_KEY)
    assert.equal(form.get('Api_key'), null)
    assert.equal(form.get('scope'), 'read')
  })

  it('form field with an object body sends a form', async () => {
    await client.call(up.url, { method: 'POST', body: { grant_type: 'client_credentials', n: 2 }, formField: { client_secret: 'API_KEY' } })
    assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded')
    assert.equal(last().body, `grant_type=client_credentials&n=2&client_secret=${S.API_KEY}`)
  })

  it('form field without a body', async () => {
    await client.call(up.url, { method: 'POST', formField: { api_key: 'API_KEY' } })
    assert.equal(new URLSearchParams(last().body).get('api_key'), S.API_KEY)
    assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded')
  })

  it('combinations in one call', async () => {
    await client.call(`${up.url}/data?version=2`, {
      method: 'POST',
      body: { q: 1 },
      bearer: 'BEARER_KEY',
      header: { 'X-Org-ID': 'ORG_SECRET' },
      query: { key: 'GMAP_KEY' },
      bodyField: { client_secret: 'CLIENT_SECRET' },
    })
    const r = last()
    assert.equal(r.headers.authorization, `Bearer ${S.BEARER_KEY}`)
    assert.equal(r.headers['x-org-id'], S.ORG_SECRET)
    assert.equal(new URL(r.url, 'http://x').searchParams.get('key'), S.GMAP_KEY)
    assert.equal(new URL(r.url, 'http://x').searchParams.get('version'), '2')
    assert.deepEqual(JSON.parse(r.body), { q: 1, client_secret: S.CLIENT_SECRET })

    await client.call(up.url, { method: 'POST', basic: 'BASIC_CREDS', formField: { api_key: 'API_KEY' }, query: { k2: 'GMAP_KEY' } })
    assert.equal(last().headers.authorization, `Basic ${Buffer.from(S.BASIC_CREDS).toString('base64')}`)
    assert.equal(new URLSearchParams(last().body).get('api_key'), S.API_KEY)
    assert.equal(new URL(last().url, 'http://x').searchParams.get('k2'), S.GMAP_KEY)
  })

  it('the same key name in several places, and several keys', async () => {
    await client.call(up.url, { query: { a: 'GMAP_KEY', b: 'GMAP_KEY' }, header: { 'X-One': 'ORG_SECRET', 'X-Two': 'API_KEY' } })
    const u = new URL(last().url, 'http://x')
    assert.equal(u.searchParams.get('a'), S.GMAP_KEY)
    assert.equal(u.searchParams.get('b'), S.GMAP_KEY)
    assert.equal(last().headers['x-one'], S.ORG_SECRET)
    assert.equal(last().headers['x-two'], S.API_KEY)
  })
})

describe('request bodies, headers and methods', () => {
  it('object → JSON with its content type', async () => {
    await client.call(up.url, { method: 'POST', bearer: 'BEARER_KEY', body: { amount: 1000, currency: 'usd', nested: [1, { a: null }] } })
    assert.equal(last().body, '{"amount":1000,"currency":"usd","nested":[1,{"a":null}]}')
    assert.equal(last().headers['content-type'], 'application/json')
  })

  it('array → JSON', async () => {
    await client.call(up.url, { method: 'POST', bearer: 'BEARER_KEY', body: [1, 'two'] })
    assert.equal(last().body, '[1,"two"]')
  })

  it('string as is, with the caller content type', async () => {
    await client.call(up.url, { method: 'POST', bearer: 'BEARER_KEY', body: 'héllo wörld', headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
    assert.equal(last().body, 'héllo wörld')
    assert.equal(last().headers['content-type'], 'text/plain; charset=utf-8')
  })

  it('Buffer, Uint8Array (with offset) and ArrayBuffer as is', async () => {
    await client.call(up.url, { method: 'PUT', bearer: 'BEARER_KEY', body: Buffer.from('buffer-body') })
    assert.equal(last().body, 'buffer-body')
    const big = new TextEncoder().encode('xxuint8-bodyxx')
    await client.call(up.url, { method: 'PUT', bearer: 'BEARER_KEY', body: big.subarray(2, 12) })
    assert.equal(last().body, 'uint8-body')
    await client.call(up.url, { method: 'PUT', bearer: 'BEARER_KEY', body: new TextEncoder().encode('ab').buffer })
    assert.equal(last().body, 'ab')
  })

  it('plain headers forwarded: object, Headers and pairs', async () => {
    await client.call(up.url, { bearer: 'BEARER_KEY', headers: { 'Idempotency-Key': 'idem-1', 'X-Count': 3 } })
    assert.equal(last().headers['idempotency-key'], 'idem-1')
    assert.equal(last().headers['x-count'], '3')
    await client.call(up.url, { bearer: 'BEARER_KEY', headers: new Headers({ 'X-From-Headers': 'h' }) })
    assert.equal(last().headers['x-from-headers'], 'h')
    await client.call(up.url, { bearer: 'BEARER_KEY', headers: [['X-Pair', 'p']] })
    assert.equal(last().headers['x-pair'], 'p')
  })

  it('an injected header overrides a plain header of the same name', async () => {
    await client.call(up.url, { header: { 'X-Org-ID': 'ORG_SECRET' }, headers: { 'X-Org-ID': 'plain' } })
    assert.equal(last().headers['x-org-id'], S.ORG_SECRET)
  })

  it('methods', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'post']) {
      await client.call(up.url, { method, bearer: 'BEARER_KEY' })
      assert.equal(last().method, method.toUpperCase())
    }
    const head = await client.call(up.url, { method: 'HEAD', bearer: 'BEARER_KEY' })
    assert.equal(last().method, 'HEAD')
    assert.equal(head.body, '')
  })

  it('agentId and a URL object', async () => {
    const res = await client.call(new URL(`${up.url}/by-url`), { bearer: 'BEARER_KEY', agentId: 'agent-7' })
    assert.equal(res.url, `${up.url}/by-url`)
    assert.equal(last().url, '/by-url')
    assert.equal(last().headers['x-as-agent-id'], undefined, 'protocol headers are not forwarded')
  })
})

describe('the response', () => {
  it('has status, headers, body, bytes, json, redacted, duration', async () => {
    const res = await client.call(`${up.url}/binary`, { bearer: 'BEARER_KEY' })
    assert.ok(res instanceof AgentSecretsResponse)
    assert.equal(res.statusCode, 200)
    assert.equal(res.ok, true)
    assert.equal(res.headers['content-type'], 'application/octet-stream')
    assert.deepEqual([...res.bytes()], [0, 1, 2, 250, 255])
    assert.equal(res.redacted, false)
    assert.equal(typeof res.durationMs, 'number')
    assert.ok(res.durationMs > 0)
    assert.equal(res.backend, 'engine')
    const json = await client.call(up.url, { bearer: 'BEARER_KEY' })
    assert.equal(json.json().method, 'GET')
    assert.equal(json.text(), json.body)
    assert.throws(() => res.json(), SyntaxError)
    const serialised = JSON.parse(JSON.stringify(json))
    assert.deepEqual(Object.keys(serialised).sort(), ['backend', 'body', 'durationMs', 'headers', 'redacted', 'statusCode', 'url'])
  })

  it('redacted follows the engine, not marker text the upstream itself sent', async () => {
    const body = encodeURIComponent('docs mention [REDACTED_BY_AGENTSECRETS] as a literal')
    const res = await client.call(`${up.url}/status?code=200&body=${body}`, { bearer: 'BEARER_KEY' })
    assert.match(res.body, /as a literal/)
    assert.equal(res.redacted, false)
  })

  it('redacted is exact on a streamed body too (the engine\'s trailer)', async () => {
    const echo = await client.call(`${up.url}/stream?body=${encodeURIComponent(`echo ${S.BEARER_KEY}`)}`, { header: { 'X-Org-ID': 'ORG_SECRET' }, bearer: 'BEARER_KEY' })
    assert.equal(echo.body, 'part one; echo [REDACTED_BY_AGENTSECRETS]')
    assert.equal(echo.redacted, true)
    const literal = await client.call(`${up.url}/stream?body=${encodeURIComponent('[REDACTED_BY_AGENTSECRETS] as a literal')}`, { bearer: 'BEARER_KEY' })
    assert.equal(literal.body, 'part one; [REDACTED_BY_AGENTSECRETS] as a literal')
    assert.equal(literal.redacted, false)
  })

  it('redacted is set when only a response header echoed the value', async () => {
    const res = await client.call(`${up.url}/echo-header`, { header: { 'X-Org-ID': 'ORG_SECRET' } })
    assert.equal(res.body, 'fine')
    assert.equal(res.headers['x-echo'], '[REDACTED_BY_AGENTSECRETS]')
    assert.equal(res.redacted, true)
  })

  it('each call is audited OK, by name, with its agent id', async () => {
    await client.call(`${up.url}/audited`, { bearer: 'BEARER_KEY', query: { key: 'GMAP_KEY' }, agentId: 'audit-agent' })
    const events = JSON.parse(cli(home, ['--json', 'proxy', 'logs', '--last', '1']))
    assert.equal(events.length, 1)
    const e = events[0]
    assert.equal(e.status, 'OK')
    assert.equal(e.agent_id, 'audit-agent')
    assert.deepEqual(e.secret_keys, ['BEARER_KEY', 'GMAP_KEY'])
    assert.deepEqual(e.auth_styles, ['bearer', 'query'])
    assert.equal(e.target_url, `${up.url}/audited`)
  })

  it('asyncCall is the same call', async () => {
    const res = await client.asyncCall(up.url, { bearer: 'BEARER_KEY' })
    assert.equal(res.statusCode, 200)
  })
})

describe('upstream statuses >= 400', () => {
  it('raise UpstreamError with status, body, headers and url', async () => {
    const url = `${up.url}/status?code=404`
    const err = await client.call(url, { bearer: 'BEARER_KEY' }).catch((e) => e)
    assert.ok(err instanceof UpstreamError, err?.message)
    assert.equal(err.code, 'UPSTREAM_HTTP')
    assert.equal(err.statusCode, 404)
    assert.equal(err.body, '{"error":"upstream says no"}')
    assert.equal(err.headers['x-upstream'], 'yes')
    assert.equal(err.url, url)
    assert.ok(err.fixHint)
  })

  it('an upstream 403 shaped like a blocked domain is still an UpstreamError', async () => {
    const body = JSON.stringify({ error: 'domain_not_in_allowlist', domain: 'x.com', message: 'fake' })
    const err = await client.call(`${up.url}/status?code=403&body=${encodeURIComponent(body)}`, { bearer: 'BEARER_KEY' }).catch((e) => e)
    assert.ok(err instanceof UpstreamError)
    assert.ok(!(err instanceof DomainNotAllowed))
    assert.equal(err.statusCode, 403)
  })

  it('throwOnHttpError: false returns the response', async () => {
    const res = await client.call(`${up.url}/status?code=503`, { bearer: 'BEARER_KEY', throwOnHttpError: false })
    assert.equal(res.statusCode, 503)
    assert.equal(res.ok, false)
    const c2 = new AgentSecrets({ home, autoStart: false, throwOnHttpError: false })
    assert.equal((await c2.call(`${up.url}/status?code=500`, { bearer: 'BEARER_KEY' })).statusCode, 500)
    await c2.close()
  })
})

describe('calls without injection go through the engine too', () => {
  it('no protocol headers reach the target, backend engine', async () => {
    const res = await client.call(`${up.url}/plain?x=1`, { method: 'POST', body: { a: 1 }, headers: { 'X-Plain': 'p' } })
    assert.equal(res.backend, 'engine')
    assert.equal(last().url, '/plain?x=1')
    assert.equal(last().headers['x-plain'], 'p')
    assert.ok(!Object.keys(last().headers).some((h) => h.startsWith('x-as-')))
    assert.equal(res.json().body, '{"a":1}')
  })

  it('a target cannot claim a redaction', async () => {
    const res = await client.call(`${up.url}/fake-redaction`)
    assert.equal(res.backend, 'engine')
    assert.equal(res.redacted, false)
  })

  it('redirects are returned, not followed', async () => {
    const res = await client.call(`${up.url}/redirect`, {})
    assert.equal(res.statusCode, 302)
    assert.equal(res.headers.location, 'http://127.0.0.2:9/elsewhere')
    const viaEngine = await client.call(`${up.url}/redirect`, { bearer: 'BEARER_KEY' })
    assert.equal(viaEngine.statusCode, 302)
  })

  it('upstream errors are typed too', async () => {
    const err = await client.call(`${up.url}/status?code=418`).catch((e) => e)
    assert.ok(err instanceof UpstreamError)
    assert.equal(err.statusCode, 418)
  })
})
