// MockAgentSecrets.fetch(): the engine path's `fetch` for tests, answered
// like `call()` (scripts, checks, records, redaction) as a global Response,
// so code written against client.fetch() / createFetch() runs on the mock.

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MockAgentSecrets } from '@the-17/agentsecrets/testing'
import { AgentSecretsFetchResponse, createFetch, DomainNotAllowed, PlaceholderNotInjectable, secretRef, SecretNotFound } from '@the-17/agentsecrets'

const VALUE = 'sk_mock_fetch_5e1b7c9d'

describe('MockAgentSecrets.fetch()', () => {
  it('answers as a Response, records the injection by name, and says whether it redacted', async () => {
    const mock = new MockAgentSecrets({ secrets: { OPENAI_KEY: VALUE } })
    mock.respond('https://api.openai.com/v1/chat/completions', () => ({ headers: { 'X-Echo': VALUE }, body: { echoed: VALUE } }))
    const res = await mock.fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'm' }), bearer: 'OPENAI_KEY',
    })
    assert.ok(res instanceof Response && res instanceof AgentSecretsFetchResponse)
    assert.equal(res.status, 200)
    assert.equal(await res.redacted, true)
    assert.equal(res.headers.get('x-echo'), '[REDACTED_BY_AGENTSECRETS]')
    const text = await res.text()
    assert.equal(text.includes(VALUE), false)
    assert.deepEqual(JSON.parse(text), { echoed: '[REDACTED_BY_AGENTSECRETS]' })
    assert.equal(mock.calls[0].bearer, 'OPENAI_KEY')
    assert.equal(mock.calls[0].method, 'POST')
  })

  it('resolves HTTP error statuses, rejects refusals with the typed error', async () => {
    const mock = new MockAgentSecrets({ secrets: { K: VALUE }, allowlist: ['api.a.test'] })
    mock.respond('https://api.a.test/missing', { statusCode: 404, body: 'nope' })
    const res = await mock.fetch('https://api.a.test/missing', { bearer: 'K' })
    assert.equal(res.status, 404)
    assert.equal(await res.text(), 'nope')
    await assert.rejects(mock.fetch('https://api.evil.test/', { bearer: 'K' }), DomainNotAllowed)
    await assert.rejects(mock.fetch('https://api.a.test/', { bearer: 'MISSING' }), SecretNotFound)
  })

  it('reads a streamed body whole, and a 204 or HEAD has no body', async () => {
    const mock = new MockAgentSecrets()
    mock.respond({ method: 'PUT' }, (r) => ({ body: `got ${r.body.length} bytes` }))
    mock.respond({ method: 'DELETE' }, { statusCode: 204 })
    const upload = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('abc')); c.enqueue(new TextEncoder().encode('de')); c.close() } })
    const put = await mock.fetch('https://up.test/f', { method: 'PUT', body: upload, duplex: 'half' })
    assert.equal(await put.text(), 'got 5 bytes')
    const del = await mock.fetch('https://up.test/f', { method: 'DELETE' })
    assert.equal(del.status, 204)
    assert.equal(del.body, null)
  })

  it('serves createFetch(): placeholders become injections, misplaced ones fail closed', async () => {
    const mock = new MockAgentSecrets({ secrets: { OPENAI_KEY: VALUE } })
    const f = createFetch(mock)
    const res = await f('https://api.openai.com/v1/models', { headers: { Authorization: `Bearer ${secretRef('OPENAI_KEY')}` } })
    assert.equal(res.status, 200)
    assert.equal(mock.calls[0].bearer, 'OPENAI_KEY')
    await assert.rejects(f(`https://api.openai.com/v1/${secretRef('OPENAI_KEY')}`), PlaceholderNotInjectable)
    assert.equal(mock.calls.length, 1)
  })
})
