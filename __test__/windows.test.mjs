// What a Windows user gets: the addon loads, MockAgentSecrets works, and
// everything that needs the engine rejects with PlatformNotSupported before
// anything is started or sent. The engine-facing cases can only run on
// Windows (the release workflow's Windows job); elsewhere they are skipped.

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AgentSecrets, PlatformNotSupported } from '../index.mjs'
import { MockAgentSecrets } from '../testing.mjs'

const onWindows = process.platform === 'win32'
const windowsOnly = { skip: !onWindows && 'the engine is refused on Windows only' }

/** Asserts `p` rejects with PlatformNotSupported and its advice. */
async function refused(p) {
  const e = await p.then(
    () => assert.fail('resolved'),
    (err) => err,
  )
  assert.ok(e instanceof PlatformNotSupported, `${e?.name}: ${e?.message}`)
  assert.equal(e.code, 'PLATFORM_NOT_SUPPORTED')
  assert.match(e.message, /WSL 2/)
  assert.match(e.message, /upstream-proxy/)
  assert.match(e.message, /MockAgentSecrets/)
}

describe('Windows', () => {
  it('MockAgentSecrets works with no engine', async () => {
    const mock = new MockAgentSecrets({ secrets: { STRIPE_KEY: 'sk_test_mock' } })
    const res = await mock.call('https://api.stripe.com/v1/balance', { bearer: 'STRIPE_KEY' })
    assert.equal(res.statusCode, 200)
    assert.equal(mock.calls[0].bearer, 'STRIPE_KEY')
  })

  it('a call on the default backend is refused before anything is sent', windowsOnly, async () => {
    const client = new AgentSecrets({ autoStart: true })
    await refused(client.call('http://127.0.0.1:9/never', { bearer: 'KEY' }))
    await client.close()
  })

  it('status, management and spawn are refused', windowsOnly, async () => {
    const client = new AgentSecrets()
    await refused(client.status())
    await refused(client.secrets.list())
    await refused(client.spawn('cmd', ['/c', 'exit', '0']))
    await client.close()
  })
})
