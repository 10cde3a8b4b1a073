// client.fetch() against the real engine and a loopback upstream: the body
// streams as the upstream sends it, with backpressure; cancel and abort stop
// the upstream transfer; `redacted` settles at the end; engine errors reject
// typed, HTTP statuses resolve; no value reaches JS.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { assertNoCanary, cli, makeHome, rejection, startEngine, startUpstream, stopEngine } from './helpers.mjs'
import { AgentSecrets, AbortError, DomainNotAllowed, InvalidArgument, ResponseTooLarge, SecretNotFound } from '../index.mjs'

const S = { BEARER_KEY: 'cnry-fetch-bearer-8Jd2', ORG_SECRET: 'cnry-fetch-org-3Kq9' }

let up
let home
let client
/** Resolvers the upstream waits on, by name. */
const gates = new Map()
/** What the upstream observed about streamed answers, by path. */
const seen = new Map()

function gate(name) {
  let open
  const p = new Promise((r) => (open = r))
  gates.set(name, { p, open })
  return open
}

before(async () => {
  up = await startUpstream((req, res, rec) => {
    const u = new URL(req.url, 'http://x')
    if (u.pathname === '/chunks') {
      // Sends one chunk, then waits for the test to read it before the next.
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first;')
      gates.get('chunks').p.then(() => res.end('second'))
      return
    }
    if (u.pathname === '/echo-stream') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('auth was ')
      setTimeout(() => res.end(String(req.headers.authorization)), 5)
      return
    }
    if (u.pathname === '/endless') {
      // Writes as fast as the connection takes it, counting bytes, until closed.
      const state = { written: 0, closed: false }
      seen.set(u.searchParams.get('id'), state)
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const block = Buffer.alloc(64 << 10, 120)
      const pump = () => {
        while (!state.closed && state.written < 512 << 20) {
          state.written += block.length
          if (!res.write(block)) return void res.once('drain', pump)
        }
        if (!state.closed) res.end()
      }
      res.on('close', () => (state.closed = true))
      pump()
      return
    }
    if (u.pathname === '/odd-header') {
      // UTF-8 bytes in a header value: 'café ✓', whose check mark is not Latin-1.
      res.writeHead(200, { 'content-type': 'text/plain', 'x-note': 'caf\xc3\xa9 \xe2\x9c\x93', 'x-plain': 'ok' })
      res.end('body')
      return
    }
    if (u.pathname === '/status') {
      res.writeHead(Number(u.searchParams.get('code')), { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] })
      res.end(JSON.stringify({ error: 'no' }))
      return
    }
    if (u.pathname === '/redirect') {
      res.writeHead(302, { location: 'http://127.0.0.2:9/elsewhere' })
      res.end()
      return
    }
    if (u.pathname === '/forge') {
      // A hostile upstream imitating the engine's signals, in headers and trailers.
      res.writeHead(200, { 'x-as-redacted': 'true', 'x-as-engine-error': 'INTERNAL', trailer: 'x-as-engine-error' })
      res.write('forged')
      res.addTrailers({ 'x-as-engine-error': 'RESPONSE_TOO_LARGE', 'x-as-redacted': 'true' })
      res.end()
      return
    }
    if (u.pathname === '/empty') {
      res.writeHead(204)
      res.end()
      return
    }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(rec))
  })
  home = makeHome({ secrets: S })
  startEngine(home)
  client = new AgentSecrets({ home, autoStart: false })
})

after(async () => {
  await client.close()
  stopEngine(home)
  await up.close()
})

describe('client.fetch()', () => {
  it('returns a global Response with the upstream status and headers; injection as in call()', async () => {
    const res = await client.fetch(`${up.url}/v1/x?y=1`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' }, bearer: 'BEARER_KEY' })
    assert.ok(res instanceof Response)
    assert.equal(res.status, 200)
    assert.equal(res.ok, true)
    assert.equal(res.url, `${up.url}/v1/x?y=1`)
    assert.equal(res.backend, 'engine')
    const rec = up.requests.at(-1)
    assert.equal(rec.headers.authorization, `Bearer ${S.BEARER_KEY}`)
    assert.equal(rec.method, 'POST')
    assert.equal(rec.body, '{"a":1}')
    const body = await res.json()
    assert.equal(body.headers.authorization, 'Bearer [REDACTED_BY_AGENTSECRETS]')
    assert.equal(await res.redacted, true)
    assertNoCanary(assert, [res, body], S.BEARER_KEY, 'fetch response')
  })

  it('leaves out a header value Headers refuses (not Latin-1) and keeps the rest', async () => {
    const res = await client.fetch(`${up.url}/odd-header`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-note'), null)
    assert.equal(res.headers.get('x-plain'), 'ok')
    assert.equal(res.headers.get('content-type'), 'text/plain')
    assert.equal(await res.text(), 'body')
  })

  it('accepts a Request as input (method, headers and body from it)', async () => {
    const req = new Request(`${up.url}/from-request`, { method: 'PUT', headers: { 'x-a': 'b' }, body: 'payload' })
    const res = await client.fetch(req, { header: { 'X-Org-ID': 'ORG_SECRET' } })
    await res.text()
    const rec = up.requests.at(-1)
    assert.equal(rec.method, 'PUT')
    assert.equal(rec.headers['x-a'], 'b')
    assert.equal(rec.headers['x-org-id'], S.ORG_SECRET)
    assert.equal(rec.body, 'payload')
  })

  it('HTTP error statuses resolve (fetch contract); repeated headers stay apart', async () => {
    const res = await client.fetch(`${up.url}/status?code=404`)
    assert.equal(res.status, 404)
    assert.equal(res.ok, false)
    assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2'])
    assert.deepEqual(await res.json(), { error: 'no' })
  })

  it('redirects are returned, never followed', async () => {
    const before = up.requests.length
    const res = await client.fetch(`${up.url}/redirect`, { bearer: 'BEARER_KEY' })
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), 'http://127.0.0.2:9/elsewhere')
    assert.equal(up.requests.length, before + 1)
  })

  it("a hostile upstream cannot forge the engine's signals (headers or trailers)", async () => {
    const res = await client.fetch(`${up.url}/forge`, { bearer: 'BEARER_KEY' })
    assert.equal(res.headers.get('x-as-engine-error'), null)
    assert.equal(await res.text(), 'forged')
    assert.equal(await res.redacted, false)
  })

  it('a small answer (read with the headers) behaves as any Response body', async () => {
    const url = `${up.url}/small`
    const a = await client.fetch(url)
    assert.equal(a.bodyUsed, false)
    const copy = a.clone()
    const text = await a.text()
    assert.equal(a.bodyUsed, true)
    await assert.rejects(a.text(), TypeError)
    assert.equal(JSON.parse(text).url, '/small')
    assert.deepEqual(await copy.json(), JSON.parse(text))
    const b = await client.fetch(url)
    assert.equal(Buffer.from(await b.arrayBuffer()).toString(), text)
    const c = await client.fetch(url)
    let streamed = ''
    for await (const chunk of c.body) streamed += Buffer.from(chunk).toString()
    assert.equal(streamed, text)
    assert.equal(c.bodyUsed, true)
    const d = await client.fetch(url)
    assert.equal(await (await d.blob()).text(), text)
    assert.equal(await d.redacted, false)
  })

  it('a 204 has a null body', async () => {
    const res = await client.fetch(`${up.url}/empty`)
    assert.equal(res.status, 204)
    assert.equal(res.body, null)
    assert.equal(await res.redacted, false)
  })

  it('streams: a chunk reaches JS while the upstream still holds the rest', async () => {
    const open = gate('chunks')
    const res = await client.fetch(`${up.url}/chunks`)
    const reader = res.body.getReader()
    const first = await reader.read()
    assert.equal(Buffer.from(first.value).toString(), 'first;')
    open()
    let rest = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      rest += Buffer.from(value).toString()
    }
    assert.equal(rest, 'second')
    assert.equal(await res.redacted, false)
  })

  it('redacted settles true at the end of a streamed echo', async () => {
    const res = await client.fetch(`${up.url}/echo-stream`, { bearer: 'BEARER_KEY' })
    const text = await res.text()
    assert.equal(text, 'auth was Bearer [REDACTED_BY_AGENTSECRETS]')
    assert.equal(await res.redacted, true)
  })

  it('backpressure: an idle reader holds the upstream back (bounded memory)', async () => {
    const res = await client.fetch(`${up.url}/endless?id=bp`)
    const reader = res.body.getReader()
    await reader.read()
    await sleep(500)
    const state = seen.get('bp')
    // Socket buffers on three hops, the engine's and the addon's bounded
    // windows: tens of MiB at most, never the 512 MiB on offer.
    assert.ok(state.written < 48 << 20, `the upstream wrote ${state.written >> 20} MiB to an idle reader`)
    await reader.cancel()
    await waitFor(() => state.closed, 'the upstream connection closes after cancel()')
    assert.ok(state.written < 512 << 20)
    await assert.rejects(res.redacted, AbortError)
  })

  it('an AbortSignal fired mid-body errors the stream with AbortError and stops the upstream', async () => {
    const ac = new AbortController()
    const res = await client.fetch(`${up.url}/endless?id=abort`, { signal: ac.signal })
    const reader = res.body.getReader()
    await reader.read()
    ac.abort()
    const err = await readAll(reader).then(
      () => assert.fail('the stream ended normally'),
      (e) => e,
    )
    assert.ok(err instanceof AbortError, String(err))
    await waitFor(() => seen.get('abort').closed, 'the upstream connection closes after abort')
  })

  it('an already aborted signal rejects before anything is sent', async () => {
    const before = up.requests.length
    const ac = new AbortController()
    ac.abort()
    const err = await rejection(client.fetch(`${up.url}/x`, { signal: ac.signal }))
    assert.ok(err instanceof AbortError)
    assert.equal(up.requests.length, before)
  })

  it('engine errors before the headers reject typed', async () => {
    const err = await rejection(client.fetch('https://not-allowed.example/v1', { bearer: 'BEARER_KEY' }))
    assert.ok(err instanceof DomainNotAllowed, String(err))
    const missing = await rejection(client.fetch(`${up.url}/x`, { bearer: 'NO_SUCH_KEY' }))
    assert.ok(missing instanceof SecretNotFound, String(missing))
  })

  it('bad input is refused before anything is sent', async () => {
    const before = up.requests.length
    for (const [input, init] of [
      [42, undefined],
      [`${up.url}/x`, { redirect: 'follow' }],
      [`${up.url}/x`, { bodyFeild: {} }],
      [`${up.url}/x`, { method: 'GET', body: 'x' }],
      [`${up.url}/x`, { headers: { 'X-AS-Inject': 'bearer' } }],
      [`${up.url}/x`, { bearer: { value: 'x' } }],
    ]) {
      const err = await rejection(client.fetch(input, init))
      assert.ok(err instanceof InvalidArgument, `${JSON.stringify(init)}: ${err}`)
    }
    assert.equal(up.requests.length, before)
  })

  it('request bodies: streams, async iterables, URLSearchParams and Blobs', async () => {
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('from '))
        c.enqueue(new TextEncoder().encode('a stream'))
        c.close()
      },
    })
    await (await client.fetch(`${up.url}/b`, { method: 'POST', body: stream, duplex: 'half' })).text()
    assert.equal(up.requests.at(-1).body, 'from a stream')
    async function* gen() {
      yield Buffer.from('iter')
      yield Buffer.from('able')
    }
    await (await client.fetch(`${up.url}/b`, { method: 'POST', body: gen(), duplex: 'half' })).text()
    assert.equal(up.requests.at(-1).body, 'iterable')
    await (await client.fetch(`${up.url}/b`, { method: 'POST', body: new URLSearchParams({ a: '1' }) })).text()
    assert.equal(up.requests.at(-1).headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8')
    await (await client.fetch(`${up.url}/b`, { method: 'POST', body: new Blob(['blob']) })).text()
    assert.equal(up.requests.at(-1).body, 'blob')
  })
})

async function readAll(reader) {
  for (;;) {
    const { done } = await reader.read()
    if (done) return
  }
}

async function waitFor(check, what) {
  for (let i = 0; i < 300; i++) {
    if (check()) return
    await sleep(10)
  }
  assert.fail(`timed out waiting: ${what}`)
}

describe('client.fetch() uploads', () => {
  let sink
  let received
  before(async () => {
    // Counts what arrives without keeping it.
    const http = await import('node:http')
    received = []
    sink = http.createServer((req, res) => {
      const rec = { bytes: 0, complete: false, auth: req.headers.authorization, te: req.headers['transfer-encoding'] }
      received.push(rec)
      req.on('data', (c) => (rec.bytes += c.length))
      req.on('end', () => {
        rec.complete = true
        res.end(`got ${rec.bytes}`)
      })
    })
    await new Promise((r) => sink.listen(0, '127.0.0.1', r))
  })
  after(() => new Promise((r) => sink.close(r)))
  const sinkUrl = () => `http://127.0.0.1:${sink.address().port}/upload`

  /** `total` bytes in 1 MiB chunks of one reused buffer. */
  async function* bytes(total) {
    const block = Buffer.alloc(1 << 20, 97)
    for (let left = total; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left)
  }

  it('a 256 MiB stream goes through with a header injection, engine memory flat', async (t) => {
    const total = 256 << 20
    const engineBefore = peakKiB(enginePid())
    const res = await client.fetch(sinkUrl(), { method: 'POST', body: bytes(total), duplex: 'half', bearer: 'BEARER_KEY', timeoutMs: 120_000 })
    assert.equal(await res.text(), `got ${total}`)
    const rec = received.at(-1)
    assert.equal(rec.auth, `Bearer ${S.BEARER_KEY}`)
    assert.equal(rec.te, 'chunked')
    const grew = peakKiB(enginePid()) - engineBefore
    t.diagnostic(`engine peak RSS grew by ${grew >> 10} MiB for a 256 MiB upload`)
    assert.ok(grew < 48 << 10, `engine peak RSS grew by ${grew >> 10} MiB`)
  })

  it('with body injection the engine reads the body whole, bounded: REQUEST_TOO_LARGE names the limit and the way out', async () => {
    const err = await rejection(
      client.fetch(sinkUrl(), { method: 'POST', body: bytes(40 << 20), duplex: 'half', headers: { 'content-type': 'application/json' }, bodyField: { key: 'BEARER_KEY' } }),
    )
    assert.equal(err.code, 'REQUEST_TOO_LARGE', String(err))
    assert.match(err.message, /32 MiB/)
    assert.match(err.message, /header or the query/)
  })

  it('timeoutMs bounds each pause of a streamed upload, not its length', async () => {
    async function* slow() {
      for (let i = 0; i < 8; i++) {
        await sleep(100)
        yield Buffer.alloc(1024, 98)
      }
    }
    const res = await client.fetch(sinkUrl(), { method: 'POST', body: slow(), duplex: 'half', bearer: 'BEARER_KEY', timeoutMs: 400 })
    assert.equal(await res.text(), `got ${8 * 1024}`)
    async function* stalls() {
      yield Buffer.alloc(1024)
      await sleep(5000)
    }
    const t0 = performance.now()
    const err = await rejection(client.fetch(sinkUrl(), { method: 'POST', body: stalls(), duplex: 'half', bearer: 'BEARER_KEY', timeoutMs: 300 }))
    assert.equal(err.code, 'TIMEOUT', String(err))
    assert.ok(performance.now() - t0 < 2000)
  })

  it('a source that fails mid-way aborts the request: the upstream never gets it as complete', async () => {
    async function* failing() {
      yield Buffer.alloc(1 << 20)
      throw new Error('disk read failed')
    }
    const before = received.length
    const err = await rejection(client.fetch(sinkUrl(), { method: 'POST', body: failing(), duplex: 'half', bearer: 'BEARER_KEY' }))
    assert.ok(err.code, String(err))
    await sleep(100)
    for (const rec of received.slice(before)) assert.equal(rec.complete, false)
  })
})

function enginePid() {
  return Number(fs.readFileSync(path.join(home, 'run', 'proxy.pid'), 'utf8').trim())
}

/** Peak RSS (VmHWM) of `pid`, in KiB. */
function peakKiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m[1])
}

describe('client.fetch() when the engine cuts a body', () => {
  let cutHome
  let cutClient
  before(() => {
    cutHome = makeHome({ secrets: S })
    cli(cutHome, ['--json', 'proxy', 'start', '--detach', '--port', '0', '--max-response-mib', '1'])
    cutClient = new AgentSecrets({ home: cutHome, autoStart: false })
  })
  after(async () => {
    await cutClient.close()
    stopEngine(cutHome)
  })

  it('the X-AS-Engine-Error trailer errors the stream with the typed error; redacted rejects too', async () => {
    const res = await cutClient.fetch(`${up.url}/endless?id=cut`, { bearer: 'BEARER_KEY' })
    assert.equal(res.status, 200)
    let got = 0
    const err = await (async () => {
      for await (const chunk of res.body) got += chunk.length
    })().then(
      () => assert.fail('the cut body ended as if complete'),
      (e) => e,
    )
    assert.ok(err instanceof ResponseTooLarge, String(err))
    assert.ok(got <= (1 << 20) + (256 << 10), `read ${got} bytes past a 1 MiB limit`)
    await assert.rejects(res.redacted, ResponseTooLarge)
  })
})
