// Bad input is refused with InvalidArgument before anything is sent: no
// request reaches the upstream and no engine is looked for or started.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startUpstream, makeHome } from './helpers.mjs'
import { AgentSecrets, InvalidArgument, AgentSecretsError, AgentSecretsNotRunning } from '../index.mjs'

let upstream
let client
let home

before(async () => {
  upstream = await startUpstream()
  // An uninitialised home and no engine allowed: if validation let anything
  // through, the call would fail with AgentSecretsNotRunning instead.
  home = makeHome({ init: false })
  client = new AgentSecrets({ home, autoStart: false })
})

after(async () => {
  await upstream.close()
})

async function refused(url, options, pattern) {
  const err = await client.call(url, options).then(
    () => assert.fail('the call should have been refused'),
    (e) => e,
  )
  assert.ok(err instanceof InvalidArgument, `expected InvalidArgument, got ${err?.name}: ${err?.message}`)
  assert.ok(err instanceof AgentSecretsError)
  assert.equal(err.code, 'INVALID_ARGUMENT')
  assert.ok(err.fixHint, 'the error says what to do')
  if (pattern) assert.match(err.message, pattern)
  return err
}

describe('bad input is refused before anything is sent', () => {
  it('bad URLs', async () => {
    await refused('not a url', { bearer: 'K' }, /not a valid absolute URL/)
    await refused('/relative/path', { bearer: 'K' })
    await refused('ftp://127.0.0.1/x', { bearer: 'K' }, /scheme/)
    await refused('file:///etc/passwd', {}, /scheme/)
    await refused(`${upstream.url}/a\r\nX-Evil: 1`, { bearer: 'K' }, /control character/)
    await refused(`http://user:pw@127.0.0.1:${upstream.port}/`, { bearer: 'K' }, /user info/)
    await refused(42, { bearer: 'K' }, /url must be a string/)
    await refused(undefined, { bearer: 'K' })
  })

  it('secret names that are not strings', async () => {
    await refused(upstream.url, { bearer: 42 }, /bearer must be a secret's name/)
    await refused(upstream.url, { basic: { value: 'x' } }, /basic must be/)
    await refused(upstream.url, { query: { key: 7 } }, /query 'key' must be a string/)
    await refused(upstream.url, { header: { 'X-Api-Key': null } }, /must be a string/)
    await refused(upstream.url, { bodyField: { a: ['K'] } }, /must be a string/)
    await refused(upstream.url, { formField: { a: undefined } }, /must be a string/)
    await refused(upstream.url, { query: 'KEY' }, /must be an object/)
    await refused(upstream.url, { header: new Map([['a', 'b']]) }, /must be an object/)
  })

  it('CR, LF or NUL in any name or header', async () => {
    const bad = ['A\r\nB', 'A\nB', 'A\rB', 'A\0B']
    for (const s of bad) {
      await refused(upstream.url, { bearer: s }, /control character/)
      await refused(upstream.url, { basic: s }, /control character/)
      await refused(upstream.url, { header: { [`X-${s}`]: 'K' } })
      await refused(upstream.url, { header: { 'X-Api-Key': s } }, /control character/)
      await refused(upstream.url, { query: { [s]: 'K' } }, /control character/)
      await refused(upstream.url, { bodyField: { [s]: 'K' } }, /control character/)
      await refused(upstream.url, { formField: { [s]: 'K' } }, /control character/)
      await refused(upstream.url, { bearer: 'K', headers: { [`X-${s}`]: 'v' } })
      await refused(upstream.url, { bearer: 'K', headers: { 'X-Plain': `v${s}` } }, /control character/)
      await refused(upstream.url, { bearer: 'K', agentId: s }, /control character/)
      await refused(upstream.url, { bearer: 'K', workspace: s }, /control character/)
      await refused(upstream.url, { bearer: 'K', project: s }, /control character/)
      // Plain calls (no injection) are checked the same way.
      await refused(upstream.url, { headers: { 'X-Plain': `v${s}` } }, /control character/)
    }
  })

  it('names outside the protocol rules', async () => {
    await refused(upstream.url, { bearer: 'has space' }, /secret name/)
    await refused(upstream.url, { bearer: '-rf' }, /secret name/)
    await refused(upstream.url, { bearer: '' }, /empty/)
    await refused(upstream.url, { header: { 'X-AS-Target-URL': 'K' } }, /reserved/)
    await refused(upstream.url, { header: { Host: 'K' } }, /transport/)
    await refused(upstream.url, { bearer: 'K', headers: { 'X-AS-Inject': '[]' } }, /reserved/)
    await refused(upstream.url, { bearer: 'K', headers: { Host: 'evil' } }, /transport/)
    await refused(upstream.url, { bearer: 'A', basic: 'B' }, /bearer and basic/)
    await refused(upstream.url, { bearer: 'A', header: { Authorization: 'B' } }, /same place/)
    await refused(upstream.url, { bodyField: { 'a..b': 'K' } }, /empty segment/)
    await refused(upstream.url, { bearer: 'K', method: 'GET POST' }, /not an HTTP method/)
    await refused(upstream.url, { bearer: 'K', method: 5 }, /method must be a string/)
  })

  it('unknown options, with a hint for snake_case', async () => {
    await refused(upstream.url, { bearr: 'K' }, /unknown call option 'bearr'/)
    await refused(upstream.url, { body_field: { a: 'K' } }, /did you mean 'bodyField'/)
    await refused(upstream.url, { timeout: 5 }, /unknown call option 'timeout'/)
    await refused(upstream.url, 'GET', /call options must be an object/)
    assert.throws(() => new AgentSecrets({ auto_start: false }), (e) => e instanceof InvalidArgument && /autoStart/.test(e.message))
    assert.throws(() => new AgentSecrets({ port: 70000 }), InvalidArgument)
    assert.throws(() => new AgentSecrets({ port: 'x' }), InvalidArgument)
    assert.throws(() => new AgentSecrets({ autoStart: 'yes' }), InvalidArgument)
    assert.throws(() => new AgentSecrets({ workspace: 'a\nb' }), InvalidArgument)
  })

  it('bodies that cannot be serialised', async () => {
    const circular = { a: 1 }
    circular.self = circular
    await refused(upstream.url, { bearer: 'K', method: 'POST', body: circular }, /cannot be serialised as JSON/)
    await refused(upstream.url, { bearer: 'K', method: 'POST', body: { n: 10n } }, /cannot be serialised as JSON/)
    await refused(upstream.url, { bearer: 'K', method: 'POST', body: 42 }, /body must be/)
    await refused(upstream.url, { bearer: 'K', method: 'POST', body: () => 1 }, /body must be/)
    await refused(upstream.url, { bearer: 'K', method: 'POST', body: new Date() }, /body must be/)
    await refused(upstream.url, { formField: { a: 'K' }, method: 'POST', body: { nested: { x: 1 } } }, /with formField/)
  })

  it('bad timeouts and signals', async () => {
    await refused(upstream.url, { bearer: 'K', timeoutMs: -1 }, /timeoutMs/)
    await refused(upstream.url, { bearer: 'K', timeoutMs: Number.NaN }, /timeoutMs/)
    await refused(upstream.url, { bearer: 'K', timeoutMs: '100' }, /timeoutMs/)
    await refused(upstream.url, { bearer: 'K', signal: {} }, /AbortSignal/)
    // Listening needs both listener methods: one without is refused up front, not a TypeError later.
    await refused(upstream.url, { bearer: 'K', signal: { aborted: false, addEventListener() {} } }, /AbortSignal/)
  })

  it('spawn: a signal that cannot be listened to is refused before anything runs', async () => {
    for (const signal of [{ aborted: false }, { aborted: false, addEventListener() {} }, null]) {
      const invalidSignal = (e) => e instanceof InvalidArgument && e.code === 'INVALID_ARGUMENT' && /signal must be an AbortSignal/.test(e.message)
      assert.throws(() => client.spawnAsync('true', [], { signal, stdio: 'ignore' }), invalidSignal)
      await assert.rejects(client.spawn('true', [], { signal, stdio: 'ignore' }), invalidSignal)
    }
    await refused(upstream.url, { bearer: 'K', throwOnHttpError: 'no' }, /boolean/)
  })

  it('sent nothing anywhere', () => {
    assert.equal(upstream.requests.length, 0)
  })

  it('a valid call gets past validation (and fails on the missing engine)', async () => {
    const err = await client.call(upstream.url, { bearer: 'K' }).catch((e) => e)
    assert.ok(err instanceof AgentSecretsNotRunning, `${err?.name}: ${err?.message}`)
    assert.equal(err.code, 'ENGINE_NOT_RUNNING')
    assert.match(err.message, /agentsecrets init/)
    assert.match(err.fixHint, /proxy start/)
  })
})
