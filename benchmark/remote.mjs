// Resolve-through benchmark: the latency a call pays when the engine reads
// its value from OpenBao instead of the local vault, side by side against
// one loopback upstream and one `bao server -dev`:
//   local       — the value in the local vault (the baseline)
//   remote+cache — resolve-through with the default 30 s snapshot cache
//   remote, no cache — resolve-through with --cache-ttl 0 (OpenBao asked on every call)
// Each home holds BENCH_SECRETS values (default 10; remote homes: in
// OpenBao, all fetched and scanned for). p50/p90 of client.call at
// concurrency 1, rounds interleaved so that drift hits every mode alike.
//
// Use a release engine (`cargo build --release -p agentsecrets-engine`, or
// set AGENTSECRETS_CLI) and `bao` (AGENTSECRETS_TEST_BAO, PATH or .venv).

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { AgentSecrets } from '../index.mjs'
import { findBao, memberPolicy, privateFile, putSecret, startBao, tokenWithPolicy } from '../__test__/openbao.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ENGINE = process.env.AGENTSECRETS_CLI || path.join(ROOT, 'target', 'release', 'agentsecrets')
const N = Number(process.env.BENCH_N ?? 1000)
const ROUNDS = 5
const SECRETS = Number(process.env.BENCH_SECRETS ?? 10)
const PASSWORD = 'bench-admin-password'

const bao = findBao()
if (!bao || !fs.existsSync(ENGINE)) {
  console.error(`needs a release engine at ${ENGINE} and bao (npm run test:deps)`)
  process.exit(1)
}

const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'agentsecrets-remote-bench-'))
function agentsecrets(home, args, input = '') {
  const env = { ...process.env, AGENTSECRETS_HOME: home, AGENTSECRETS_KEY_STORE: 'file', AGENTSECRETS_PORT: '0' }
  const r = spawnSync(ENGINE, args, { env, input, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`agentsecrets ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}
function home(name) {
  const h = path.join(sandbox, name)
  agentsecrets(h, ['init', '--admin-password-stdin'], `${PASSWORD}\n`)
  agentsecrets(h, ['workspace', 'allowlist', 'add', '127.0.0.1', '--password-stdin'], `${PASSWORD}\n`)
  return h
}
const value = (i) => `bench-value-${i}-${(i * 2654435761) % 2 ** 32}`

const server = await startBao(bao)
const upstream = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => res.end('{"ok":true}'))
})
await new Promise((r) => upstream.listen(0, '127.0.0.1', r))
const url = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (upstream.address()).port}/v1/x`

try {
  const local = home('local')
  for (let i = 0; i < SECRETS; i++) agentsecrets(local, ['secrets', 'set', `KEY_${i}`], value(i))
  for (let i = 0; i < SECRETS; i++) await putSecret(server, `bench/KEY_${i}`, value(i))
  const token = await tokenWithPolicy(server, 'bench', memberPolicy('bench'))
  const tokenFile = privateFile(sandbox, 'token', token)
  const bound = (name, ttl) => {
    const h = home(name)
    agentsecrets(h, ['remote', 'set', `--address=${server.address}`, '--prefix=bench', `--token-file=${tokenFile}`, `--cache-ttl=${ttl}`, '--password-stdin'], `${PASSWORD}\n`)
    return h
  }
  const modes = { local, 'remote+cache': bound('cached', 30), 'remote, no cache': bound('uncached', 0) }
  const clients = Object.fromEntries(Object.entries(modes).map(([k, h]) => [k, new AgentSecrets({ home: h, autoStart: true })]))
  const samples = Object.fromEntries(Object.keys(modes).map((k) => [k, /** @type {number[]} */ ([])]))
  for (const c of Object.values(clients)) for (let i = 0; i < 50; i++) await c.call(url, { bearer: 'KEY_0' })
  for (let round = 0; round < ROUNDS; round++) {
    for (const [mode, c] of Object.entries(clients)) {
      for (let i = 0; i < N / ROUNDS; i++) {
        const t = process.hrtime.bigint()
        await c.call(url, { bearer: 'KEY_0' })
        samples[mode].push(Number(process.hrtime.bigint() - t) / 1000)
      }
    }
  }
  const pct = (a, p) => a.toSorted((x, y) => x - y)[Math.floor((a.length * p) / 100)]
  const base = pct(samples.local, 50)
  console.log(`client.call, ${N} calls per mode, ${SECRETS} secrets, concurrency 1 (µs)`)
  console.log('mode               p50      p90   added p50')
  for (const [mode, a] of Object.entries(samples)) {
    const p50 = pct(a, 50)
    console.log(`${mode.padEnd(17)} ${p50.toFixed(0).padStart(5)}   ${pct(a, 90).toFixed(0).padStart(6)}   ${(p50 - base).toFixed(0).padStart(6)}`)
  }
  for (const c of Object.values(clients)) await c.close()
  for (const h of Object.values(modes)) agentsecrets(h, ['proxy', 'stop'])
} finally {
  upstream.close()
  await server.stop()
  fs.rmSync(sandbox, { recursive: true, force: true })
}
