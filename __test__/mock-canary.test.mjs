// Zero knowledge of the test double: a canary secret value, given to the
// mock and echoed back in every way a scripted answer or a command can, is
// never visible in a record, response, error, listing or audit event.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assertNoCanary } from './helpers.mjs'
import { MockAgentSecrets } from '@the-17/agentsecrets/testing'
import { UpstreamError, InvalidArgument, PermissionDenied } from '@the-17/agentsecrets'

const CANARY = 'canary-sk_live 7c1e9a/+=&"q'
const OTHER = 'canary-set-later-4d2f'

function echoAll(value) {
  const b64 = Buffer.from(value).toString('base64')
  return {
    raw: value,
    b64,
    b64url: Buffer.from(value).toString('base64url'),
    uri: encodeURIComponent(value),
    auth: `Basic ${b64}`,
    hex: Buffer.from(value).toString('hex'),
    form: new URLSearchParams({ v: value }).toString(),
  }
}

async function outcome(promise) {
  return promise.then(
    (v) => v,
    (e) => e,
  )
}

describe('MockAgentSecrets: no secret value anywhere', () => {
  it('redacts echoes in bodies, headers, UpstreamError and captured output', async () => {
    const mock = new MockAgentSecrets({ secrets: { STRIPE_KEY: CANARY } })
    await mock.secrets.set('LATER', OTHER)
    const echo = (r) => ({ headers: { 'X-Echo': CANARY, 'X-Later': OTHER }, body: { ...echoAll(CANARY), later: echoAll(OTHER), bearer: r.bearer } })
    mock.respond('https://api.test/echo', echo)
    mock.respond('https://api.test/fail', (r) => ({ ...echo(r), statusCode: 401 }))
    mock.respond('https://api.test/bytes', { body: Buffer.from(`\xff${CANARY}\xfe`, 'latin1') })
    mock.respondSpawn('env', { stdout: `STRIPE_KEY=${CANARY}\n`, stderr: echoAll(OTHER).b64 })

    const seen = []
    const res = await mock.call('https://api.test/echo', { bearer: 'STRIPE_KEY', header: { 'X-Later': 'LATER' } })
    assert.equal(res.redacted, true)
    assert.match(res.body, /\[REDACTED_BY_AGENTSECRETS\]/)
    assert.equal(res.json().bearer, 'STRIPE_KEY')
    seen.push(res)
    const err = await outcome(mock.call('https://api.test/fail', { basic: 'STRIPE_KEY' }))
    assert.ok(err instanceof UpstreamError)
    seen.push(err)
    const bin = await mock.call('https://api.test/bytes', { bearer: 'STRIPE_KEY' })
    assert.equal(bin.redacted, true)
    seen.push(bin)
    seen.push(await mock.spawn('env', [], { capture: true, only: ['STRIPE_KEY', 'LATER'] }))
    seen.push(await outcome(mock.call('https://api.test/', { bearer: 'MISSING' })))
    seen.push(await outcome(mock.call('http://plain.test/', { bearer: 'STRIPE_KEY' })))
    seen.push(mock.calls, mock.spawns, await mock.secrets.list(), await mock.proxy.logs(), await mock.status(), mock)
    for (const canary of [CANARY, OTHER]) {
      assertNoCanary(assert, seen, canary, 'mock outputs')
      for (const s of [Buffer.from(canary).toString('hex'), new URLSearchParams({ v: canary }).toString().slice(2)]) {
        assert.ok(!JSON.stringify(seen).includes(s), `an encoded form ${s} is visible`)
      }
    }
  })

  it('redacts a value the caller put in a request, and refuses errors that carry one', async () => {
    const mock = new MockAgentSecrets({ secrets: { K: CANARY } })
    await mock.call('https://api.test/', { body: `oops ${CANARY}`, headers: { 'X-Oops': CANARY } })
    assertNoCanary(assert, mock.calls, CANARY, 'records')
    assert.throws(() => mock.failNext(new PermissionDenied(`denied ${CANARY}`)), InvalidArgument)
    mock.respond('https://api.test/throw', () => {
      throw new UpstreamError('bad', { body: CANARY })
    })
    const e = await outcome(mock.call('https://api.test/throw'))
    assert.ok(e instanceof InvalidArgument)
    assertNoCanary(assert, e, CANARY, 'error')
  })
})
