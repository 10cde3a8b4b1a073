// secretRef() and createFetch() against the real engine and a loopback
// upstream: each place a placeholder can stand becomes exactly one
// injection; anywhere else fails closed before a byte is sent, including
// what a prompt-injected agent would try.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertNoCanary, makeHome, rejection, startEngine, startUpstream, stopEngine } from './helpers.mjs'
import { AgentSecrets, DomainNotAllowed, InvalidArgument, PlaceholderNotInjectable, SecretNotFound, createFetch, secretRef } from '../index.mjs'

const S = { API_KEY: 'cnry-cf-api-6Tq1', 'BASIC.CREDS': 'bob:cnry-cf-basic-2Wn8', ORG_ID: 'cnry-cf-org-9Xc4' }

let up
let home
let client
let f

before(async () => {
  // Echoes each request, so the engine has something to redact.
  up = await startUpstream((req, res, rec) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(rec))
  })
  home = makeHome({ secrets: S })
  startEngine(home)
  client = new AgentSecrets({ home, autoStart: false })
  f = createFetch(client)
})

after(async () => {
  await client.close()
  stopEngine(home)
  await up.close()
})

const last = () => up.requests.at(-1)

describe('secretRef()', () => {
  it('returns AS_SECRET_<NAME> for a vault name, and refuses anything else', () => {
    assert.equal(secretRef('OPENAI_KEY'), 'AS_SECRET_OPENAI_KEY')
    assert.equal(secretRef('a.b-c_1'), 'AS_SECRET_a.b-c_1')
    for (const bad of ['', '-x', 'a b', 'a/b', 'x'.repeat(257), 42, undefined]) {
      assert.throws(() => secretRef(/** @type {string} */ (bad)), InvalidArgument, String(bad))
    }
  })
})

describe('createFetch(): placeholders become injections', () => {
  it('Authorization: Bearer <placeholder>', async () => {
    const res = await f(`${up.url}/v1/a`, { headers: { Authorization: `Bearer ${secretRef('API_KEY')}` } })
    assert.equal(last().headers.authorization, `Bearer ${S.API_KEY}`)
    const body = await res.json()
    assert.equal(await res.redacted, true)
    assertNoCanary(assert, [res, body], S.API_KEY, 'bearer echo')
  })

  it('Authorization: Basic base64(<placeholder>) injects the user:password secret', async () => {
    const basic = Buffer.from(secretRef('BASIC.CREDS')).toString('base64')
    await (await f(`${up.url}/v1/b`, { headers: { authorization: `Basic ${basic}` } })).text()
    assert.equal(last().headers.authorization, `Basic ${Buffer.from(S['BASIC.CREDS']).toString('base64')}`)
  })

  it('any header value, and query values (other parameters untouched), in a Request too', async () => {
    const req = new Request(`${up.url}/v1/c?x=a%20b&key=${secretRef('API_KEY')}&y=2`, {
      method: 'POST',
      headers: { 'X-Org-Id': secretRef('ORG_ID'), 'content-type': 'application/json' },
      body: '{"q":1}',
    })
    await (await f(req)).text()
    const r = last()
    assert.equal(r.method, 'POST')
    assert.equal(r.headers['x-org-id'], S.ORG_ID)
    const u = new URL(r.url, 'http://x')
    assert.equal(u.searchParams.get('key'), S.API_KEY)
    assert.ok(r.url.startsWith('/v1/c?x=a%20b&y=2'), r.url)
    assert.equal(r.body, '{"q":1}')
  })

  it('no placeholder: sent through the engine without injection; or refused with requirePlaceholder', async () => {
    const res = await f(`${up.url}/plain`, { headers: { 'x-plain': 'yes' } })
    assert.equal(res.status, 200)
    assert.equal(last().headers['x-plain'], 'yes')
    const before = up.requests.length
    const strict = createFetch(client, { requirePlaceholder: true })
    assert.ok((await rejection(strict(`${up.url}/plain`))) instanceof InvalidArgument)
    assert.equal(up.requests.length, before)
  })

  it('a prompt-injected agent sending a placeholder to a host off the allowlist gets DomainNotAllowed; nothing leaves', async () => {
    const other = await startUpstream()
    try {
      const err = await rejection(f(`http://localhost:${other.port}/collect`, { headers: { authorization: `Bearer ${secretRef('API_KEY')}` } }))
      assert.ok(err instanceof DomainNotAllowed, String(err))
      assert.equal(other.requests.length, 0)
    } finally {
      await other.close()
    }
  })

  it('a placeholder naming a missing secret rejects SecretNotFound', async () => {
    const err = await rejection(f(`${up.url}/x`, { headers: { authorization: `Bearer ${secretRef('NOPE')}` } }))
    assert.ok(err instanceof SecretNotFound, String(err))
  })
})

describe('createFetch(): placeholders where no value can go fail closed, nothing sent', () => {
  const ph = 'AS_SECRET_API_KEY'
  const cases = [
    ['path', () => [`${up.url}/v1/${ph}/x`]],
    ['percent-encoded path', () => [`${up.url}/v1/AS%5FSECRET%5FAPI_KEY`]],
    ['fragment', () => [`${up.url}/v1#${ph}`]],
    ['user info', () => [`http://${ph}:x@127.0.0.1:${up.port}/`]],
    ['query name', () => [`${up.url}/v1?${ph}=1`]],
    ['part of a query value', () => [`${up.url}/v1?k=pre${ph}`]],
    ['part of a header value', () => [`${up.url}/v1`, { headers: { 'x-key': `token=${ph}` } }]],
    ['cookie', () => [`${up.url}/v1`, { headers: { cookie: `s=${ph}` } }]],
    ['Bearer with extra text', () => [`${up.url}/v1`, { headers: { authorization: `Bearer ${ph} extra` } }]],
    ['Basic encoding user:placeholder', () => [`${up.url}/v1`, { headers: { authorization: `Basic ${Buffer.from(`u:${ph}`).toString('base64')}` } }]],
    ['JSON body', () => [`${up.url}/v1`, { method: 'POST', body: JSON.stringify({ key: ph }) }]],
    ['form body', () => [`${up.url}/v1`, { method: 'POST', body: new URLSearchParams({ key: ph }) }]],
    ['streamed body', () => [`${up.url}/v1`, { method: 'POST', body: new Blob([ph]).stream(), duplex: 'half' }]],
    ['query placeholder given twice', () => [`${up.url}/v1?k=${ph}&k=${ph}`]],
  ]
  for (const [what, args] of cases) {
    it(what, async () => {
      const before = up.requests.length
      const err = await rejection(f(...args()))
      assert.ok(err instanceof PlaceholderNotInjectable, `${what}: ${err}`)
      assert.ok(err instanceof InvalidArgument)
      assert.match(err.message, /nothing was sent/)
      assert.equal(up.requests.length, before, `${what}: a request reached the upstream`)
    })
  }
})
