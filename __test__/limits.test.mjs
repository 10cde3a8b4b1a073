// Answers too large or too slow for the agent process (S21, trickle): a
// small gzip answer that expands to 1 GiB must end in a typed error with the
// agent's memory bounded, whether the SDK's own limit or the engine's cuts
// it, and an upstream trickling one byte at a time must be cut by the
// engine's deadline with a typed error.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import zlib from 'node:zlib'

import { AgentSecrets, InvalidArgument, ResponseTooLarge, TimeoutError } from '../index.mjs'
import { ENGINE, assertNoCanary, engineEnv, makeHome, rejection, startUpstream, stopEngine } from './helpers.mjs'

const CANARY = 'canary-s21-bomb-7d01f3a9be'
const MiB = 1 << 20

/** gzip of `size` zero bytes, built a MiB at a time (never whole in memory). */
async function gzipZeros(size) {
  const gz = zlib.createGzip({ level: 9 })
  const out = []
  gz.on('data', (c) => out.push(c))
  const ended = new Promise((resolve) => gz.on('end', resolve))
  const chunk = Buffer.alloc(MiB)
  for (let left = size; left > 0; left -= MiB) {
    if (!gz.write(left >= MiB ? chunk : chunk.subarray(0, left))) await new Promise((resolve) => gz.once('drain', resolve))
  }
  gz.end()
  await ended
  return Buffer.concat(out)
}

/** Starts the engine for `home` with extra environment (its limits). */
function startEngineWith(home, env) {
  const r = spawnSync(ENGINE, ['--json', 'proxy', 'start', '--detach', '--port', '0'], {
    env: { ...engineEnv(home), ...env },
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, r.stderr)
}

/** Runs `fn` while sampling RSS; returns its result and the peak growth. */
async function peakRssGrowth(fn) {
  const rss0 = process.memoryUsage().rss
  let peak = rss0
  const t = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 5)
  try {
    const result = await fn()
    return { result, grew: Math.max(peak, process.memoryUsage().rss) - rss0 }
  } finally {
    clearInterval(t)
  }
}

describe('S21: a decompression bomb never lands whole in the agent', () => {
  let bomb
  let up
  const homes = []

  before(async () => {
    // About 1 MB on the wire, 1 GiB decoded: within the engine's default limit.
    bomb = await gzipZeros(1024 * MiB)
    assert.ok(bomb.length < 2 * MiB, `bomb is ${bomb.length} bytes`)
    up = await startUpstream((req, res) => {
      if (req.url.startsWith('/bomb')) {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/octet-stream' })
        res.end(bomb)
        return
      }
      return false
    })
  })

  after(async () => {
    for (const h of homes) stopEngine(h)
    await up.close()
  })

  function client(env) {
    const home = makeHome({ secrets: { BOMB_KEY: CANARY } })
    homes.push(home)
    if (env) startEngineWith(home, env)
    return new AgentSecrets({ home, autoStart: true })
  }

  it('the default limit (64 MiB) stops reading, rejects with ResponseTooLarge and keeps memory bounded', async (t) => {
    const c = client()
    await c.connect()
    const { result: e, grew } = await peakRssGrowth(() => rejection(c.call(`${up.url}/bomb`, { bearer: 'BOMB_KEY', timeoutMs: 120_000 })))
    assert.ok(e instanceof ResponseTooLarge, `${e?.constructor?.name}: ${e?.message}`)
    assert.equal(e.code, 'RESPONSE_TOO_LARGE')
    assert.match(e.message, /maxResponseBytes \(64 MiB\)/)
    assert.match(e.fixHint, /maxResponseBytes/)
    t.diagnostic(`peak RSS grew by ${grew >> 20} MiB for a 1024 MiB expansion`)
    assert.ok(grew < 384 * MiB, `peak RSS grew by ${grew >> 20} MiB for a 1024 MiB expansion`)
    assertNoCanary(assert, e, CANARY, 'ResponseTooLarge')
    await c.close()
  })

  it('a lower maxResponseBytes holds the agent to it', async (t) => {
    const c = client()
    await c.connect()
    const { result: e, grew } = await peakRssGrowth(() =>
      rejection(c.call(`${up.url}/bomb`, { bearer: 'BOMB_KEY', maxResponseBytes: 4 * MiB, timeoutMs: 120_000 })),
    )
    assert.ok(e instanceof ResponseTooLarge, `${e?.constructor?.name}: ${e?.message}`)
    assert.match(e.message, /maxResponseBytes \(4 MiB\)/)
    t.diagnostic(`peak RSS grew by ${grew >> 20} MiB`)
    assert.ok(grew < 128 * MiB, `peak RSS grew by ${grew >> 20} MiB`)
    await c.close()
  })

  it("the engine's own cut (a lower engine limit) reaches the SDK as the same typed error, not a connection error", async () => {
    const c = client({ AGENTSECRETS_MAX_RESPONSE_MIB: '2' })
    const e = await rejection(c.call(`${up.url}/bomb`, { bearer: 'BOMB_KEY', timeoutMs: 120_000 }))
    assert.ok(e instanceof ResponseTooLarge, `${e?.constructor?.name}: ${e?.message}`)
    assert.equal(e.code, 'RESPONSE_TOO_LARGE')
    assert.match(e.message, /engine cut/)
    assert.match(e.fixHint, /--max-response-mib/)
    await c.close()
  })

  it('maxResponseBytes is validated', async () => {
    const c = new AgentSecrets({ autoStart: false })
    for (const bad of [0, -1, 1.5, '1', 2 ** 32 + 1, Number.NaN]) {
      await assert.rejects(c.call(`${up.url}/x`, { bearer: 'K', maxResponseBytes: bad }), InvalidArgument, String(bad))
    }
    assert.throws(() => new AgentSecrets({ maxResponseBytes: 0 }), InvalidArgument)
  })
})

describe('a trickling upstream is cut by the engine deadline', () => {
  let up
  let home

  before(async () => {
    up = await startUpstream((req, res) => {
      if (!req.url.startsWith('/trickle')) return false
      // One byte every 100 ms for 8 s: never a pause long enough to stall.
      res.writeHead(200, { 'content-type': 'text/plain' })
      let n = 0
      const t = setInterval(() => {
        if (res.destroyed || ++n > 80) {
          clearInterval(t)
          res.end()
          return
        }
        res.write('x')
      }, 100)
    })
    home = makeHome({ secrets: { SLOW_KEY: CANARY } })
    startEngineWith(home, { AGENTSECRETS_DEADLINE_SECS: '1' })
  })

  after(async () => {
    stopEngine(home)
    await up.close()
  })

  it('rejects with TimeoutError (UPSTREAM_TIMEOUT) saying the answer was too slow', async () => {
    const c = new AgentSecrets({ home, autoStart: false })
    const started = Date.now()
    const e = await rejection(c.call(`${up.url}/trickle`, { bearer: 'SLOW_KEY', timeoutMs: 30_000 }))
    const took = Date.now() - started
    assert.ok(e instanceof TimeoutError, `${e?.constructor?.name}: ${e?.message}`)
    assert.equal(e.code, 'UPSTREAM_TIMEOUT')
    assert.match(e.message, /too slow/)
    assert.ok(took < 5000, `cut after ${took} ms`)
    await c.close()
  })
})
