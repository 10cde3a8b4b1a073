// Streaming benchmark, one run against one loopback upstream (its own
// process), each path next to Node's `fetch` straight to the upstream:
//   download — BENCH_MIB (256) MiB of JSON-like text, chunked: direct
//              `fetch`, `fetch` through the engine by hand, `client.fetch()`;
//              throughput, engine CPU per GiB, peak RSS of engine and Node;
//              medians of BENCH_DL_ROUNDS (3) rounds
//   upload   — BENCH_UPLOAD_MIB (2048) MiB streamed with a bearer injection
//              through `client.fetch()`: throughput and both peak RSS
//   SSE      — one event every 10 ms: latency per event (upstream write to
//              arrival in JS), direct vs `client.fetch()`
//   small    — `client.fetch()` vs `client.call()`: p50 at concurrency 1,
//              throughput at 64
// The vault holds BENCH_SECRETS values (default 100); the engine scans
// every answer for every one of them.
//
// Use release builds: `npm run bench` builds both, or set AGENTSECRETS_CLI.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { AgentSecrets } from '../index.mjs'
import { ENGINE, benchHome } from './vault.mjs'
import { cpuSeconds, interleavedLatency, pct, throughput } from './measure.mjs'
import { spawnUpstream } from './upstream.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MIB = Number(process.env.BENCH_MIB ?? 256)
const DL_ROUNDS = Number(process.env.BENCH_DL_ROUNDS ?? 3)
const UPLOAD_MIB = Number(process.env.BENCH_UPLOAD_MIB ?? 2048)
const SSE_EVENTS = Number(process.env.BENCH_SSE_EVENTS ?? 300)
const N_LAT = Number(process.env.BENCH_N ?? 2000)
const TP_MS = Number(process.env.BENCH_TP_MS ?? 3000)
const SECRETS = Number(process.env.BENCH_SECRETS ?? 100)
const CONC = 64


const { home, env, agentsecrets } = benchHome('agentsecrets-stream-bench-', SECRETS)
const ready = JSON.parse(agentsecrets(['--json', 'proxy', 'start', '--detach', '--port', '0']))
const enginePid = ready.pid
const token = fs.readFileSync(path.join(home, 'run', 'proxy.token'), 'utf8').trim()
const state = JSON.parse(fs.readFileSync(path.join(home, 'run', 'proxy.json'), 'utf8'))
const engineUrl = `http://127.0.0.1:${state.port}/proxy`
const inject = JSON.stringify([{ style: 'bearer', secret: 'BENCH_KEY' }])

const upstream = await spawnUpstream(`
  const small = JSON.stringify({ ok: true, items: [1, 2, 3], note: 'a small JSON answer' })
  const unit = '{"id":12345,"text":"line one\\\\nline \\\\"two\\\\"","tags":["a","b"],"ok":true},'
  const block = Buffer.from(unit.repeat(Math.ceil(65536 / unit.length)).slice(0, 65536))
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x')
    if (u.pathname === '/upload') {
      let n = 0
      req.on('data', (c) => (n += c.length))
      req.on('end', () => res.end(String(n)))
      return
    }
    req.resume()
    if (u.pathname === '/big') {
      let left = Number(u.searchParams.get('bytes'))
      res.writeHead(200, { 'content-type': 'application/json' })
      const pump = () => {
        while (left > 0) {
          const piece = left >= block.length ? block : block.subarray(0, left)
          left -= piece.length
          if (!res.write(piece)) return void res.once('drain', pump)
        }
        res.end()
      }
      pump()
      return
    }
    if (u.pathname === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      let i = 0
      const n = Number(u.searchParams.get('n'))
      const t = setInterval(() => {
        res.write('data: {"i":' + i + ',"sent":' + (performance.timeOrigin + performance.now()) + '}\\n\\n')
        if (++i >= n) {
          clearInterval(t)
          res.end()
        }
      }, 10)
      return
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(small) })
    res.end(small)
  })
`)
const base = upstream.base
// However the run ends, the upstream and the engine do not outlive it.
process.on('exit', () => {
  upstream.process.kill()
  spawnSync(ENGINE, ['proxy', 'stop'], { env })
})
const client = new AgentSecrets({ home, cli: ENGINE, autoStart: false })

/** Resets the peak RSS of `pid` (Linux: clear_refs 5), so each path is measured alone. */
function resetPeak(pid) {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5')
  } catch {
    // Not permitted: the peak then covers the whole run so far.
  }
}

/** Peak RSS of `pid` in MiB. */
function peakMiB(pid) {
  return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
}

/** Reads `body` to its end; returns the byte count. */
async function drain(body) {
  let n = 0
  for await (const chunk of body) n += chunk.length
  return n
}

const downloads = {
  'direct fetch': () => fetch(`${base}/big?bytes=${MIB * 2 ** 20}`),
  'fetch through the engine by hand': () =>
    fetch(engineUrl, { headers: { 'x-as-token': token, 'x-as-target-url': `${base}/big?bytes=${MIB * 2 ** 20}`, 'x-as-method': 'GET', 'x-as-inject': inject } }),
  'client.fetch()': () => client.fetch(`${base}/big?bytes=${MIB * 2 ** 20}`, { bearer: 'BENCH_KEY' }),
}

async function download(open) {
  resetPeak(enginePid)
  resetPeak(process.pid)
  const cpu0 = cpuSeconds(enginePid)
  const t0 = performance.now()
  const res = await open()
  const n = await drain(res.body)
  const s = (performance.now() - t0) / 1000
  if (n !== MIB * 2 ** 20) throw new Error(`got ${n} bytes, expected ${MIB * 2 ** 20}`)
  return { mibps: MIB / s, cpuPerGiB: ((cpuSeconds(enginePid) - cpu0) * 1024) / MIB, engineRss: peakMiB(enginePid), nodeRss: peakMiB(process.pid) }
}

// Warm up every path once.
for (const open of Object.values(downloads)) await drain((await open()).body)

// Each round runs every path right after a direct run; a figure is the
// median over the rounds (one download is at the mercy of the scheduler).
const runs = Object.fromEntries(Object.keys(downloads).map((name) => [name, []]))
for (let round = 0; round < DL_ROUNDS; round++) {
  for (const [name, open] of Object.entries(downloads)) {
    const direct = await download(downloads['direct fetch'])
    runs[name].push({ direct, x: await download(open) })
  }
}
const median = (xs) => pct([...xs].sort((a, b) => a - b), 50)
const downloadRows = Object.entries(runs).map(([name, rs]) => ({
  name,
  mibps: median(rs.map((r) => r.x.mibps)),
  directMibps: median(rs.map((r) => r.direct.mibps)),
  ratio: median(rs.map((r) => r.x.mibps / r.direct.mibps)),
  cpuPerGiB: median(rs.map((r) => r.x.cpuPerGiB)),
  engineRss: Math.max(...rs.map((r) => r.x.engineRss)),
  node: nodePeak(name),
}))

/**
 * Peak RSS of a fresh Node process that does only path `name`'s download:
 * this process's own peak mixes in every earlier phase.
 * @returns {{ baseline: number, peak: number }} MiB
 */
function nodePeak(name) {
  const script = `
    import fs from 'node:fs'
    import { AgentSecrets } from ${JSON.stringify(path.join(ROOT, 'index.mjs'))}
    const e = process.env
    const rss = (k) => parseInt(fs.readFileSync('/proc/self/status', 'utf8').split('\\n').find((l) => l.startsWith(k + ':')).slice(k.length + 1).trim(), 10) / 1024
    const client = new AgentSecrets({ home: e.HOME_DIR, autoStart: false })
    await client.connect()
    const baseline = rss('VmRSS')
    const open = {
      'direct fetch': () => fetch(e.TARGET),
      'fetch through the engine by hand': () => fetch(e.ENGINE_URL, { headers: { 'x-as-token': e.TOKEN, 'x-as-target-url': e.TARGET, 'x-as-method': 'GET', 'x-as-inject': e.INJECT } }),
      'client.fetch()': () => client.fetch(e.TARGET, { bearer: 'BENCH_KEY' }),
    }[e.PATH_NAME]
    let n = 0
    for await (const chunk of (await open()).body) n += chunk.length
    await client.close()
    process.stdout.write(JSON.stringify({ n, baseline, peak: rss('VmHWM') }))
  `
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...env, HOME_DIR: home, TARGET: `${base}/big?bytes=${MIB * 2 ** 20}`, ENGINE_URL: engineUrl, TOKEN: token, INJECT: inject, PATH_NAME: name },
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`the ${name} child failed: ${r.stderr}`)
  const out = JSON.parse(r.stdout)
  if (out.n !== MIB * 2 ** 20) throw new Error(`the ${name} child got ${out.n} bytes`)
  return out
}

// Upload: a stream of UPLOAD_MIB MiB, one reused 1 MiB buffer.
async function* uploadBody() {
  const block = Buffer.alloc(1 << 20, 97)
  for (let i = 0; i < UPLOAD_MIB; i++) yield block
}
resetPeak(enginePid)
resetPeak(process.pid)
const up0 = performance.now()
const upRes = await client.fetch(`${base}/upload`, { method: 'POST', body: uploadBody(), duplex: 'half', bearer: 'BENCH_KEY', timeoutMs: 0 })
const upBytes = Number(await upRes.text())
const upSeconds = (performance.now() - up0) / 1000
if (upBytes !== UPLOAD_MIB * 2 ** 20) throw new Error(`the upstream got ${upBytes} bytes`)
const upload = { mibps: UPLOAD_MIB / upSeconds, engineRss: peakMiB(enginePid), nodeRss: peakMiB(process.pid) }

// SSE: per-event latency from the upstream's write to the event's arrival.
async function sse(open) {
  const res = await open()
  const lat = []
  let buf = ''
  const decoder = new TextDecoder()
  for await (const chunk of res.body) {
    const now = performance.timeOrigin + performance.now()
    buf += decoder.decode(chunk, { stream: true })
    let i
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, i)
      buf = buf.slice(i + 2)
      lat.push(now - JSON.parse(event.slice('data: '.length)).sent)
    }
  }
  if (lat.length !== SSE_EVENTS) throw new Error(`got ${lat.length} events`)
  lat.sort((a, b) => a - b)
  return { p50: pct(lat, 50), p99: pct(lat, 99) }
}
const sseUrl = `${base}/sse?n=${SSE_EVENTS}`
await sse(() => client.fetch(`${base}/sse?n=5`, { bearer: 'BENCH_KEY' })).catch(() => {})
const sseDirect = await sse(() => fetch(sseUrl))
const sseClient = await sse(() => client.fetch(sseUrl, { bearer: 'BENCH_KEY' }))

// Small requests: client.fetch() vs client.call(), measured alternately.
const small = `${base}/v1/balance`
const smallPaths = {
  'client.call()': async () => void (await client.call(small, { bearer: 'BENCH_KEY' })).body,
  'client.fetch()': async () => void (await (await client.fetch(small, { bearer: 'BENCH_KEY' })).text()),
}
const smallRows = { 'client.call()': { p50: [], tp: [] }, 'client.fetch()': { p50: [], tp: [] } }
const smallLatency = await interleavedLatency(Object.values(smallPaths), { samples: 2 * N_LAT, warmup: 200 })
for (const [k, name] of Object.keys(smallPaths).entries()) smallRows[name].p50.push(smallLatency[k].p50)
for (let round = 0; round < 2; round++) {
  for (const [name, fn] of Object.entries(smallPaths)) smallRows[name].tp.push(await throughput(fn, { ms: TP_MS, concurrency: CONC, warmup: 0 }))
}
const best = (xs, lower) => (lower ? Math.min(...xs) : Math.max(...xs))

const f = (n, d = 2) => n.toFixed(d)
console.log(`\nStreaming benchmark: loopback upstream, ${SECRETS} secrets in the vault, engine ${ENGINE}\n`)
console.log(`Download of ${MIB} MiB (chunked JSON-like text), each path right after a direct run; medians of ${DL_ROUNDS} rounds:\n`)
console.log('| path | MiB/s (direct) | ratio to direct | engine CPU s/GiB | engine peak RSS MiB | Node peak RSS MiB, fresh process (RSS before the download) |')
console.log('|---|---|---|---|---|---|')
for (const r of downloadRows) {
  const engine = r.name === 'direct fetch'
  console.log(`| ${r.name} | ${f(r.mibps, 0)} (${f(r.directMibps, 0)}) | ${f(r.ratio)} × | ${engine ? '-' : f(r.cpuPerGiB)} | ${engine ? '-' : f(r.engineRss, 1)} | ${f(r.node.peak, 1)} (${f(r.node.baseline, 1)}) |`)
}
console.log(`\nUpload of ${UPLOAD_MIB} MiB through client.fetch() (stream body, bearer injection): ${f(upload.mibps, 0)} MiB/s, engine peak RSS ${f(upload.engineRss, 1)} MiB, Node peak RSS ${f(upload.nodeRss, 1)} MiB (this process: includes the earlier phases)`)
console.log(`\nSSE, one event every 10 ms, ${SSE_EVENTS} events, latency from the upstream's write to arrival in JS:`)
console.log(`  direct fetch:   p50 ${f(sseDirect.p50, 3)} ms, p99 ${f(sseDirect.p99, 3)} ms`)
console.log(`  client.fetch(): p50 ${f(sseClient.p50, 3)} ms, p99 ${f(sseClient.p99, 3)} ms (added: p50 ${f((sseClient.p50 - sseDirect.p50) * 1000, 0)} µs, p99 ${f((sseClient.p99 - sseDirect.p99) * 1000, 0)} µs)`)
console.log(`\nSmall requests (bearer injection; p50 of ${2 * N_LAT} sequential calls each, in alternating blocks of 100; req/s best of 2 alternating rounds of ${CONC} concurrent for ${TP_MS} ms):`)
const call = smallRows['client.call()']
const fe = smallRows['client.fetch()']
console.log(`  p50 at c=1:    client.call() ${f(best(call.p50, true), 3)} ms, client.fetch() ${f(best(fe.p50, true), 3)} ms (${f(best(fe.p50, true) / best(call.p50, true))} ×)`)
console.log(`  req/s at c=64: client.call() ${f(best(call.tp), 0)}, client.fetch() ${f(best(fe.tp), 0)} (${f(best(fe.tp) / best(call.tp))} ×)`)

await client.close()
agentsecrets(['proxy', 'stop'])
upstream.process.kill()
fs.rmSync(home, { recursive: true, force: true })
