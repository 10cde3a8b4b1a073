// SDK benchmark, one run against one loopback upstream:
//   direct  — Node's fetch straight to the upstream (the baseline)
//   fetch+engine — fetch through the engine's TCP listener, headers by hand
//   client.call — this SDK through the engine (Unix socket)
// Latency p50/p99 at concurrency 1 (each path in blocks of 100 calls
// alternating with direct ones) and throughput at concurrency 64 (each path
// right after a fresh direct run), reported as ratios to direct and as µs
// added to it. Plus the engine's CPU time per
// request during the c=64 run, and the first call including engine
// auto-start.
// The vault holds BENCH_SECRETS values (default 100), every one of which the
// engine scans every answer for.
//
// Use release builds: `npm run bench` builds both, or set AGENTSECRETS_CLI.

import fs from 'node:fs'
import path from 'node:path'
import { AgentSecrets } from '../index.mjs'
import { ENGINE, benchHome } from './vault.mjs'
import { cpuSeconds, interleavedLatency, latency, throughput } from './measure.mjs'
import { spawnUpstream } from './upstream.mjs'

const N_LAT = Number(process.env.BENCH_N ?? 3000)
const WARMUP = 300
const CONC = 64
const TP_MS = Number(process.env.BENCH_TP_MS ?? 3000)
const STARTS = 7
const SECRETS = Number(process.env.BENCH_SECRETS ?? 100)


const { home, agentsecrets } = benchHome('agentsecrets-bench-', SECRETS)

const upstream = await spawnUpstream(`
  const payload = JSON.stringify({ ok: true, items: [1, 2, 3], note: 'a small JSON answer' })
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) })
      res.end(payload)
    })
  })
`)
const target = `${upstream.base}/v1/balance`

// First call including engine auto-start (engine stopped before each).
const firstCalls = []
for (let i = 0; i < STARTS; i++) {
  agentsecrets(['proxy', 'stop'])
  const client = new AgentSecrets({ home, cli: ENGINE })
  const t0 = performance.now()
  await client.call(target, { bearer: 'BENCH_KEY' })
  firstCalls.push(performance.now() - t0)
  await client.close()
}

const state = JSON.parse(fs.readFileSync(path.join(home, 'run', 'proxy.json'), 'utf8'))
const token = fs.readFileSync(path.join(home, 'run', 'proxy.token'), 'utf8').trim()
const engineUrl = `http://127.0.0.1:${state.port}/proxy`
const inject = JSON.stringify([{ style: 'bearer', secret: 'BENCH_KEY' }])
const client = new AgentSecrets({ home, cli: ENGINE, autoStart: false })

const paths = {
  direct: async () => {
    const r = await fetch(target)
    await r.text()
  },
  'fetch+engine': async () => {
    const r = await fetch(engineUrl, {
      headers: { 'x-as-token': token, 'x-as-target-url': target, 'x-as-method': 'GET', 'x-as-inject': inject },
    })
    if (r.status !== 200) throw new Error(`engine answered ${r.status}: ${await r.text()}`)
    await r.text()
  },
  'client.call': async () => {
    const r = await client.call(target, { bearer: 'BENCH_KEY' })
    void r.body
  },
  'client.call (no injection)': async () => {
    const r = await client.call(target)
    void r.body
  },
}

const measure = { samples: N_LAT, warmup: WARMUP }
const load = { ms: TP_MS, concurrency: CONC, warmup: WARMUP }

// Warm every path once so that no measured run pays for JIT or pool start.
for (const fn of Object.values(paths)) await latency(fn, measure)

/** Requests per second of `fn` at c=64, and the engine's CPU µs per request meanwhile. */
async function engineLoad(fn) {
  let calls = 0
  const counted = async () => {
    await fn()
    calls++
  }
  const cpu0 = cpuSeconds(state.pid)
  const rps = await throughput(counted, load)
  return { rps, cpuUs: ((cpuSeconds(state.pid) - cpu0) * 1e6) / calls }
}

const rows = []
for (const [name, fn] of Object.entries(paths)) {
  if (name === 'direct') continue
  const [d, x] = await interleavedLatency([paths.direct, fn], measure)
  const dt = await throughput(paths.direct, load)
  const { rps: xt, cpuUs } = await engineLoad(fn)
  rows.push({ name, d, x, dt, xt, cpuUs })
}

const f = (n, digits = 3) => n.toFixed(digits)
console.log(`\nSDK benchmark: loopback upstream, ${SECRETS} secrets in the vault, ${N_LAT} sequential calls for latency, ${CONC} concurrent for ${TP_MS} ms for throughput`)
console.log(`engine: ${ENGINE}\n`)
console.log('| path | p50 ms (direct) | p50 ratio | added p50 µs | p99 ms (direct) | p99 ratio | req/s at 64 (direct) | throughput ratio | engine CPU µs/request |')
console.log('|---|---|---|---|---|---|---|---|---|')
for (const r of rows) {
  console.log(
    `| ${r.name} | ${f(r.x.p50)} (${f(r.d.p50)}) | ${f(r.x.p50 / r.d.p50, 2)} × | ${Math.round((r.x.p50 - r.d.p50) * 1000)} | ${f(r.x.p99)} (${f(r.d.p99)}) | ${f(r.x.p99 / r.d.p99, 2)} × | ${Math.round(r.xt)} (${Math.round(r.dt)}) | ${f(r.xt / r.dt, 2)} × | ${Number.isNaN(r.cpuUs) ? 'n/a' : f(r.cpuUs, 1)} |`,
  )
}
const byName = Object.fromEntries(rows.map((r) => [r.name, r]))
const sdk = byName['client.call']
const manual = byName['fetch+engine']
console.log(
  `\nclient.call vs fetch+engine (same engine; SDK overhead): p50 ${f(sdk.x.p50 / sdk.d.p50 / (manual.x.p50 / manual.d.p50), 2)} ×, throughput ${f(sdk.xt / sdk.dt / (manual.xt / manual.dt), 2)} × (ratios of ratios, < 1 / > 1 = SDK faster)`,
)
firstCalls.sort((a, b) => a - b)
console.log(`\nfirst call including engine auto-start: median ${f(firstCalls[Math.floor(firstCalls.length / 2)], 1)} ms, min ${f(firstCalls[0], 1)} ms, max ${f(firstCalls.at(-1), 1)} ms (${STARTS} runs)`)

await client.close()
agentsecrets(['proxy', 'stop'])
upstream.process.kill()
fs.rmSync(home, { recursive: true, force: true })
