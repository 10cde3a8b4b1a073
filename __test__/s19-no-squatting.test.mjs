// S19: no squatting. A listener on a port the SDK would use, answering
// /health like the upstream Go proxy ({"project":"x","status":"ok"}), records
// every request. Unless the user chose the upstream proxy explicitly
// (`backend: 'upstream-proxy'` or AGENTSECRETS_BACKEND=upstream-proxy), it
// receives no call: the SDK auto-starts its own engine, or rejects with
// AgentSecretsNotRunning saying what answered and how to opt in.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { assertOnlyProbed, killEngine, makeHome, rejection, startEngine, startUpstream } from './helpers.mjs'
import { AgentSecrets, AgentSecretsNotRunning, BackendUnsupported, InvalidArgument } from '../index.mjs'

const CANARY = 'cnry-s19-Hw3kZ8'

let up
before(async () => {
  up = await startUpstream()
})
after(async () => {
  await up.close()
})

/** Answers like the upstream Go proxy: its /health, and 200 to every call. */
function goProxyLike(req, res) {
  res.setHeader('content-type', 'application/json')
  res.end(req.url === '/health' ? '{"project":"x","status":"ok"}' : '{"ok":true}')
}

const squatted = (s) => s.requests.filter((r) => r.url !== '/health')

/** Runs `fn(client)` with AGENTSECRETS_BACKEND set while the client is built. */
function withBackendEnv(value, build) {
  const saved = process.env.AGENTSECRETS_BACKEND
  process.env.AGENTSECRETS_BACKEND = value
  try {
    return build()
  } finally {
    if (saved === undefined) delete process.env.AGENTSECRETS_BACKEND
    else process.env.AGENTSECRETS_BACKEND = saved
  }
}

async function assertServedByAutoStartedEngine(c, squatter, what) {
  assert.equal(c.backend, 'engine', what)
  const before = up.requests.length
  const res = await c.call(`${up.url}/s19`, { bearer: 'KEY' })
  assert.equal(res.statusCode, 200, what)
  assert.equal(res.backend, 'engine', what)
  assert.equal(up.requests.length, before + 1, `${what}: the call reached the target`)
  const info = await c.connect()
  assert.equal(info.kind, 'engine', what)
  assert.equal(info.auth, 'unix-socket', what)
  assert.deepEqual(squatted(squatter), [], `${what}: the squatter received a call`)
  assertOnlyProbed(assert, squatter, [], what)
}

describe('S19: a squatter imitating the upstream proxy receives nothing unless chosen', () => {
  it('on the port the client names: the SDK starts its own engine instead', async () => {
    const squatter = await startUpstream(goProxyLike)
    const home = makeHome({ secrets: { KEY: CANARY } })
    const c = new AgentSecrets({ home, port: squatter.port })
    try {
      await assertServedByAutoStartedEngine(c, squatter, 'port option')
    } finally {
      await c.close()
      await squatter.close()
    }
  })

  it('on a dead engine\'s port from the state file: the SDK starts its own engine instead', async () => {
    const home = makeHome({ secrets: { KEY: CANARY } })
    const ready = startEngine(home)
    await killEngine(ready)
    const squatter = await startUpstream(goProxyLike, { port: ready.port })
    const c = new AgentSecrets({ home })
    try {
      await assertServedByAutoStartedEngine(c, squatter, 'state file port')
    } finally {
      await c.close()
      await squatter.close()
    }
  })

  it('when the engine cannot be started: AgentSecretsNotRunning says a proxy answered, was not used, and how to opt in', async () => {
    const squatter = await startUpstream(goProxyLike)
    const home = makeHome({ secrets: { KEY: CANARY } })
    const c = new AgentSecrets({ home, port: squatter.port, autoStart: false })
    try {
      const e = await rejection(c.call(`${up.url}/s19`, { bearer: 'KEY' }))
      assert.ok(e instanceof AgentSecretsNotRunning, e?.message)
      assert.match(e.message, new RegExp(`a proxy answered on 127\\.0\\.0\\.1:${squatter.port} .*but was not used`))
      assert.match(e.fixHint, /backend: 'upstream-proxy'/)
      assert.match(e.fixHint, /AGENTSECRETS_BACKEND=upstream-proxy/)
      assert.deepEqual(squatted(squatter), [])
    } finally {
      await c.close()
      await squatter.close()
    }
  })

  it('with backend \'upstream-proxy\' (option or AGENTSECRETS_BACKEND) the same listener is used, without a token', async () => {
    const squatter = await startUpstream(goProxyLike)
    const home = makeHome({ secrets: { KEY: CANARY } })
    const clients = [
      new AgentSecrets({ home, backend: 'upstream-proxy', port: squatter.port }),
      withBackendEnv('upstream-proxy', () => new AgentSecrets({ home, port: squatter.port })),
    ]
    try {
      for (const c of clients) {
        assert.equal(c.backend, 'upstream-proxy')
        const res = await c.call(`${up.url}/s19`, { bearer: 'KEY' })
        assert.equal(res.backend, 'upstream-proxy')
        const info = await c.connect()
        assert.equal(info.kind, 'upstream-proxy')
        assert.equal(info.auth, 'none')
        const last = squatted(squatter).at(-1)
        assert.equal(last.url, '/proxy')
        assert.equal(last.headers['x-as-inject-bearer'], 'KEY')
        assert.equal(last.headers['x-as-token'], undefined)
      }
      assert.equal(squatted(squatter).length, 2)
    } finally {
      for (const c of clients) await c.close()
      await squatter.close()
    }
  })

  it('backend \'upstream-proxy\' refuses our engine on that port, and never starts one', async () => {
    const home = makeHome({ secrets: { KEY: CANARY } })
    const ready = startEngine(home)
    const c = new AgentSecrets({ home, backend: 'upstream-proxy', port: ready.port })
    try {
      assert.ok((await rejection(c.connect())) instanceof BackendUnsupported)
    } finally {
      await c.close()
    }
    const other = makeHome({ secrets: { KEY: CANARY } })
    const none = new AgentSecrets({ home: other, backend: 'upstream-proxy', port: up.port })
    try {
      // `up` is no proxy: a typed error, and no engine started for that home.
      const e = await rejection(none.connect())
      assert.equal(e.code, 'PROXY_CONNECTION', e?.message)
      assert.equal(fs.existsSync(path.join(other, 'run', 'proxy.pid')), false)
    } finally {
      await none.close()
    }
  })

  it('a bad backend value is an InvalidArgument saying which values work', () => {
    for (const bad of ['upstream', 'ENGINE', '', 5, null]) {
      assert.throws(
        () => new AgentSecrets({ backend: bad }),
        (e) => e instanceof InvalidArgument && /backend/.test(e.message),
        String(bad),
      )
    }
    const e = withBackendEnv('go-proxy', () => {
      try {
        new AgentSecrets()
      } catch (err) {
        return err
      }
      return undefined
    })
    assert.ok(e instanceof InvalidArgument, e?.message)
    assert.match(e.message, /AGENTSECRETS_BACKEND/)
    assert.match(e.fixHint, /'engine'.*'upstream-proxy'/)
    assert.throws(() => new AgentSecrets({ backend: 'upstream-proxy', port: 0 }), InvalidArgument)
  })
})
