// client.fetch() with backend: 'upstream-proxy' (the AgentSecrets Go proxy's
// wire format, imitated on loopback): legacy headers out, its own error
// bodies typed, an API's 403/502 passed through as answers.

import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, it } from 'node:test'
import { makeHome, rejection } from './helpers.mjs'
import { AgentSecrets, DomainNotAllowed, SecretNotFound } from '../index.mjs'

let legacy
let client
const seen = []

before(async () => {
  legacy = http.createServer((req, res) => {
    if (req.url === '/health') {
      res.setHeader('content-type', 'application/json')
      return res.end('{"project":"default","status":"ok"}')
    }
    seen.push(req.headers)
    const target = new URL(req.headers['x-as-target-url'])
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(body)
    }
    if (target.pathname === '/blocked') return send(403, `{"error":"domain_not_in_allowlist","domain":"${target.hostname}","message":"not allowed"}`)
    if (target.pathname === '/missing') return send(502, `{"error":"secret 'NOPE' not found in keychain"}\n`)
    if (target.pathname === '/api403') return send(403, '{"error":"forbidden","detail":"the API itself said no"}')
    if (target.pathname === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('one;')
      return setTimeout(() => res.end('two'), 5)
    }
    return send(200, '{"ok":true}')
  })
  await new Promise((r) => legacy.listen(0, '127.0.0.1', r))
  client = new AgentSecrets({ home: makeHome({ init: false }), backend: 'upstream-proxy', port: legacy.address().port, autoStart: false })
})

after(async () => {
  await client.close()
  legacy.closeAllConnections?.()
  await new Promise((r) => legacy.close(r))
})

describe('client.fetch() through the upstream AgentSecrets proxy', () => {
  it('sends legacy headers and streams the answer', async () => {
    const res = await client.fetch('https://api.example.com/stream', { bearer: 'STRIPE_KEY', header: { 'X-Org-ID': 'ORG' } })
    assert.equal(res.backend, 'upstream-proxy')
    assert.equal(await res.text(), 'one;two')
    assert.equal(await res.redacted, false)
    assert.equal(seen.at(-1)['x-as-inject-bearer'], 'STRIPE_KEY')
    assert.equal(seen.at(-1)['x-as-inject-header-x-org-id'], 'ORG')
  })

  it("maps the proxy's own error bodies; an API's 403 is an answer", async () => {
    assert.ok((await rejection(client.fetch('https://evil.example/blocked', { bearer: 'K' }))) instanceof DomainNotAllowed)
    assert.ok((await rejection(client.fetch('https://a.example/missing', { bearer: 'NOPE' }))) instanceof SecretNotFound)
    const res = await client.fetch('https://a.example/api403', { bearer: 'K' })
    assert.equal(res.status, 403)
    assert.deepEqual(await res.json(), { error: 'forbidden', detail: 'the API itself said no' })
  })
})
