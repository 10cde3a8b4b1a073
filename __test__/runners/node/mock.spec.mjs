// MockAgentSecrets under node --test, with no setup: run by __test__/mock-runners.test.mjs.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MockAgentSecrets } from '@the-17/agentsecrets/testing'
import { DomainNotAllowed, UpstreamError } from '@the-17/agentsecrets'

describe('MockAgentSecrets under node --test', () => {
  it('records names, answers scripts and simulates errors', async () => {
    const mock = new MockAgentSecrets({ secrets: { STRIPE_KEY: 'sk_test_mock' } })
    mock.respond('https://api.stripe.com/v1/charges', { statusCode: 402, body: { error: 'card_declined' } })
    const res = await mock.call('https://api.stripe.com/v1/balance', { bearer: 'STRIPE_KEY' })
    assert.deepEqual(res.json(), { ok: true })
    assert.equal(mock.calls[0].url, 'https://api.stripe.com/v1/balance')
    assert.equal(mock.calls[0].bearer, 'STRIPE_KEY')
    await assert.rejects(mock.call('https://api.stripe.com/v1/charges', { method: 'POST', bearer: 'STRIPE_KEY' }), UpstreamError)
    mock.failNext(new DomainNotAllowed('not allowed', { code: 'DOMAIN_NOT_ALLOWED' }))
    await assert.rejects(mock.call('https://evil.test/', { bearer: 'STRIPE_KEY' }), DomainNotAllowed)
    assert.ok(!JSON.stringify(mock.calls).includes('sk_test_mock'))
  })
})
