// S18: the caller token goes only to this home's own engine. An impostor on a
// port the SDK was told about (the `port` option, AGENTSECRETS_PORT, a dead
// engine's port in the home's state file) answers /health exactly like the
// real engine and records everything it gets: it must never receive the
// token (run/proxy.token) nor any /proxy request. The home's own engine is
// preferred on its Unix socket, or auto-started; without either the call
// fails typed, having sent the impostor nothing but a challenge.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { assertOnlyProbed, killEngine, makeHome, rejection, startEngine, startUpstream } from './helpers.mjs'
import { AgentSecrets, ProxyAuthError, ProxyConnectionError } from '../index.mjs'

const CANARY = 'cnry-s18-Vq7pX2'

let up
before(async () => {
  up = await startUpstream()
})
after(async () => {
  await up.close()
})

const tokenOf = (home) => fs.readFileSync(path.join(home, 'run', 'proxy.token'), 'utf8').trim()

/** A real engine's /health answer: body and the headers it sends. */
async function realHealth(port) {
  const res = await fetch(`http://127.0.0.1:${port}/health`)
  return { body: await res.text(), type: res.headers.get('content-type'), engine: res.headers.get('x-as-engine') }
}

/** A listener answering /health like `copy` and every other path like a successful engine call. */
function engineLike(copy) {
  return (req, res) => {
    res.setHeader('content-type', copy.type)
    res.setHeader('x-as-engine', copy.engine)
    res.end(req.url === '/health' ? copy.body : '{"ok":true}')
  }
}

/** A home whose engine runs (on its socket and a TCP port), and a copy of its /health. */
async function liveHome() {
  const home = makeHome({ secrets: { KEY: CANARY } })
  const ready = startEngine(home)
  return { home, ready, health: await realHealth(ready.port) }
}

/** A home whose engine was killed: its state file, socket file and token stay behind. */
async function deadHome() {
  const { home, ready, health } = await liveHome()
  const staleToken = tokenOf(home)
  await killEngine(ready)
  return { home, port: ready.port, staleToken, health }
}

async function assertServedByOwnEngine(client, home, impostor, secrets, what) {
  const before = up.requests.length
  const res = await client.call(`${up.url}/s18`, { bearer: 'KEY' })
  assert.equal(res.statusCode, 200, what)
  assert.equal(res.backend, 'engine', what)
  assert.equal(up.requests.length, before + 1, `${what}: the call reached the target`)
  const info = await client.connect()
  assert.equal(info.kind, 'engine')
  assert.equal(info.auth, 'unix-socket', what)
  assertOnlyProbed(assert, impostor, [...secrets, tokenOf(home)], what)
}

describe('S18: the token goes only to this home\'s engine', () => {
  it('an impostor named by the port option gets nothing; the home\'s engine serves the call on its socket', async () => {
    const { home, health } = await liveHome()
    const impostor = await startUpstream(engineLike(health))
    const c = new AgentSecrets({ home, port: impostor.port, autoStart: false })
    try {
      await assertServedByOwnEngine(c, home, impostor, [], 'port option')
      assert.equal(impostor.requests.length, 0, 'the socket is preferred: the impostor is not even probed')
    } finally {
      await c.close()
      await impostor.close()
    }
  })

  it('an impostor named by AGENTSECRETS_PORT gets nothing', async () => {
    const { home, health } = await liveHome()
    const impostor = await startUpstream(engineLike(health))
    const saved = process.env.AGENTSECRETS_PORT
    process.env.AGENTSECRETS_PORT = String(impostor.port)
    let c
    try {
      c = new AgentSecrets({ home, autoStart: false })
    } finally {
      process.env.AGENTSECRETS_PORT = saved
    }
    try {
      await assertServedByOwnEngine(c, home, impostor, [], 'AGENTSECRETS_PORT')
      assert.equal(impostor.requests.length, 0)
    } finally {
      await c.close()
      await impostor.close()
    }
  })

  it('an impostor on a dead engine\'s port (state file) gets only a challenge; a fresh engine is started', async () => {
    for (const [what, options] of [
      ['the state file\'s port, named as the port option', (port) => ({ port })],
      ['the state file\'s port, found by the SDK', () => ({})],
    ]) {
      const dead = await deadHome()
      const impostor = await startUpstream(engineLike(dead.health), { port: dead.port })
      const c = new AgentSecrets({ home: dead.home, ...options(dead.port) })
      try {
        await assertServedByOwnEngine(c, dead.home, impostor, [dead.staleToken], what)
        assert.ok(impostor.requests.length > 0, `${what}: the impostor was probed (the attack ran)`)
        assert.ok(impostor.requests.every((r) => /^[0-9a-f]{64}$/.test(r.headers['x-as-challenge'])), 'each probe is a challenge')
      } finally {
        await c.close()
        await impostor.close()
      }
    }
  })

  it('without auto-start the call fails typed, and the impostor got only a challenge', async () => {
    const dead = await deadHome()
    const impostor = await startUpstream(engineLike(dead.health), { port: dead.port })
    const c = new AgentSecrets({ home: dead.home, port: dead.port, autoStart: false })
    try {
      const e = await rejection(c.call(`${up.url}/s18`, { bearer: 'KEY' }))
      assert.ok(e instanceof ProxyAuthError, e?.message)
      assert.match(e.message, /did not prove/)
      assert.match(e.message, /nothing was sent/)
      assertOnlyProbed(assert, impostor, [dead.staleToken], 'no auto-start')
    } finally {
      await c.close()
      await impostor.close()
    }
  })

  it('a relay that passes the challenge to the real engine is refused: the proof is bound to the engine\'s port', async () => {
    const { home, ready } = await liveHome()
    // A home that holds the engine's token but has no socket: it must use TCP.
    const other = makeHome({ init: false })
    fs.mkdirSync(path.join(other, 'run'), { recursive: true, mode: 0o700 })
    fs.copyFileSync(path.join(home, 'run', 'proxy.token'), path.join(other, 'run', 'proxy.token'))
    let relayed = 0
    const relay = await startUpstream((req, res) => {
      if (req.url !== '/health') return res.end('{"ok":true}')
      const fwd = http.get(
        { host: '127.0.0.1', port: ready.port, path: '/health', headers: { 'x-as-challenge': req.headers['x-as-challenge'] ?? '' } },
        (r) => {
          const proof = r.headers['x-as-proof']
          if (proof) relayed++
          res.writeHead(r.statusCode, { 'content-type': 'application/json', 'x-as-engine': r.headers['x-as-engine'], ...(proof ? { 'x-as-proof': proof } : {}) })
          r.pipe(res)
        },
      )
      fwd.on('error', () => res.destroy())
    })
    const c = new AgentSecrets({ home: other, port: relay.port, autoStart: false })
    try {
      const e = await rejection(c.connect())
      assert.ok(e instanceof ProxyAuthError, e?.message)
      assert.ok(relayed > 0, 'the relay obtained a proof from the real engine')
      assertOnlyProbed(assert, relay, [tokenOf(home)], 'relay')
      // The same home reaches the real engine's own port: its proof verifies there.
      const direct = new AgentSecrets({ home: other, port: ready.port, autoStart: false })
      assert.equal((await direct.connect()).auth, 'engine-proof')
      assert.equal((await direct.call(`${up.url}/s18`, { bearer: 'KEY' })).statusCode, 200)
      await direct.close()
    } finally {
      await c.close()
      await relay.close()
    }
  })

  it('an impostor that stalls, floods or redirects its /health is dropped quickly and sent nothing', async () => {
    const { home, ready } = await liveHome()
    const other = makeHome({ init: false })
    fs.mkdirSync(path.join(other, 'run'), { recursive: true, mode: 0o700 })
    fs.copyFileSync(path.join(home, 'run', 'proxy.token'), path.join(other, 'run', 'proxy.token'))
    const behaviours = {
      stalls: (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{"status":"ok",')
      },
      floods: (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(`{"status":"ok","engine":"agentsecrets-engine","pad":"${'x'.repeat(1 << 20)}"}`)
      },
      redirects: (req, res) => {
        res.writeHead(307, { location: `http://127.0.0.1:${ready.port}${req.url}` })
        res.end()
      },
    }
    for (const [what, handler] of Object.entries(behaviours)) {
      const impostor = await startUpstream(handler)
      const c = new AgentSecrets({ home: other, port: impostor.port, autoStart: false })
      try {
        const t0 = Date.now()
        const e = await rejection(c.call(`${up.url}/s18`, { bearer: 'KEY' }))
        assert.ok(e instanceof ProxyConnectionError, `${what}: ${e?.message}`)
        assert.ok(Date.now() - t0 < 6000, `${what}: took ${Date.now() - t0} ms`)
        assertOnlyProbed(assert, impostor, [tokenOf(home)], what)
      } finally {
        await c.close()
        await impostor.close()
      }
    }
  })
})
