// MockAgentSecrets under jest, with no setup: run by __test__/mock-runners.test.mjs.
const { describe, expect, it } = require('@jest/globals')
const { MockAgentSecrets } = require('@the-17/agentsecrets/testing')
const { DomainNotAllowed, UpstreamError } = require('@the-17/agentsecrets')

describe('MockAgentSecrets under jest', () => {
  it('records names, answers scripts and simulates errors', async () => {
    const mock = new MockAgentSecrets({ secrets: { STRIPE_KEY: 'sk_test_mock' } })
    mock.respond('https://api.stripe.com/v1/charges', { statusCode: 402, body: { error: 'card_declined' } })
    const res = await mock.call('https://api.stripe.com/v1/balance', { bearer: 'STRIPE_KEY' })
    expect(res.json()).toEqual({ ok: true })
    expect(mock.calls[0]).toMatchObject({ url: 'https://api.stripe.com/v1/balance', bearer: 'STRIPE_KEY' })
    await expect(mock.call('https://api.stripe.com/v1/charges', { method: 'POST', bearer: 'STRIPE_KEY' })).rejects.toBeInstanceOf(UpstreamError)
    mock.failNext(new DomainNotAllowed('not allowed', { code: 'DOMAIN_NOT_ALLOWED' }))
    await expect(mock.call('https://evil.test/', { bearer: 'STRIPE_KEY' })).rejects.toBeInstanceOf(DomainNotAllowed)
    expect(JSON.stringify(mock.calls)).not.toContain('sk_test_mock')
  })
})
