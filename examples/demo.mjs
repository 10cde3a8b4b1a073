// End-to-end demo on the embedded default: a temporary home, one stored
// secret, 127.0.0.1 allowlisted through the human path, a loopback upstream,
// one call per injection style. It prints what the upstream received next to
// what the agent saw, then the audit log.
//
// The upstream runs inside this script only so that it can show what it
// received; in real use it is a remote API and the agent process never holds
// a value. The values are stored through the CLI's stdin, never argv.

import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { AgentSecrets } from '../index.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ENGINE = process.env.AGENTSECRETS_CLI || path.join(ROOT, 'target', 'debug', 'agentsecrets')
if (!fs.existsSync(ENGINE)) {
  console.error(`engine binary not found at ${ENGINE}; run \`npm run build:engine\` (or set AGENTSECRETS_CLI)`)
  process.exit(1)
}

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'agentsecrets-demo-'))
const env = { ...process.env, AGENTSECRETS_HOME: home, AGENTSECRETS_KEY_STORE: 'file', AGENTSECRETS_PORT: '0' }
const ADMIN = `demo-admin-${randomBytes(6).toString('hex')}`
const VALUE = `sk_demo_${randomBytes(8).toString('hex')}`

function agentsecrets(args, stdin = '') {
  const r = spawnSync(ENGINE, args, { env, input: stdin, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`agentsecrets ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

const dim = (s) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s)
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)

console.log(bold('1. Set up a temporary home'), dim(home))
agentsecrets(['init', '--admin-password-stdin'], `${ADMIN}\n`)
agentsecrets(['secrets', 'set', 'DEMO_KEY'], VALUE)
agentsecrets(['secrets', 'set', 'DEMO_CREDS'], `demo-user:${VALUE}`)
console.log('   stored DEMO_KEY and DEMO_CREDS (values on stdin, never in argv)')
agentsecrets(['workspace', 'allowlist', 'add', '127.0.0.1', '--password-stdin'], `${ADMIN}\n`)
console.log('   allowlisted 127.0.0.1 with the admin password (the human path)')

const received = []
const upstream = http.createServer((req, res) => {
  let body = ''
  req.on('data', (c) => (body += c))
  req.on('end', () => {
    received.push({ url: req.url, headers: req.headers, body })
    res.setHeader('content-type', 'application/json')
    // A careless API that echoes the whole request back.
    res.end(JSON.stringify({ youSent: { url: req.url, authorization: req.headers.authorization, 'x-api-key': req.headers['x-api-key'], body } }))
  })
})
await new Promise((r) => upstream.listen(0, '127.0.0.1', r))
const base = `http://127.0.0.1:${upstream.address().port}`
console.log(bold('2. Loopback upstream'), dim(base))

const client = new AgentSecrets({ home, cli: ENGINE, agentId: 'demo-agent' })
const t0 = performance.now()
const info = await client.connect()
console.log(bold('3. Engine'), `agentsecrets-${info.kind} ${info.version} started and reached over ${info.viaSocket ? 'its Unix socket' : 'TCP'} in ${(performance.now() - t0).toFixed(1)} ms`)

const calls = [
  ['bearer', '/v1/balance', { bearer: 'DEMO_KEY' }, (r) => r.headers.authorization],
  ['basic', '/rest/issue', { basic: 'DEMO_CREDS' }, (r) => r.headers.authorization],
  ['header', '/v3/mail', { method: 'POST', body: { to: 'a@example.com' }, header: { 'X-Api-Key': 'DEMO_KEY' } }, (r) => `X-Api-Key: ${r.headers['x-api-key']}`],
  ['query', '/geocode?address=Lagos', { query: { key: 'DEMO_KEY' } }, (r) => r.url],
  ['body field', '/oauth/token', { method: 'POST', body: { grant_type: 'client_credentials' }, bodyField: { client_secret: 'DEMO_KEY' } }, (r) => r.body],
  ['form field', '/token', { method: 'POST', formField: { api_key: 'DEMO_KEY' } }, (r) => r.body],
]

console.log(bold('4. One call per injection style'))
for (const [style, p, opts, pick] of calls) {
  const res = await client.call(`${base}${p}`, opts)
  const got = pick(received.at(-1))
  console.log(`\n   ${bold(style.padEnd(10))} ${dim(`${opts.method ?? 'GET'} ${p}`)}`)
  console.log(`     upstream received: ${got}`)
  console.log(`     agent saw:         ${res.statusCode} ${res.body}`)
  console.log(`     redacted: ${res.redacted}, ${res.durationMs.toFixed(1)} ms`)
}

console.log(bold('\n5. Audit log'), dim('agentsecrets proxy logs --json (names only, never values)'))
for (const e of JSON.parse(agentsecrets(['--json', 'proxy', 'logs']))) {
  console.log(`   ${JSON.stringify(e)}`)
}

await client.close()
agentsecrets(['proxy', 'stop'])
upstream.close()
fs.rmSync(home, { recursive: true, force: true })
console.log(bold('\nDone.'), 'The engine was stopped and the temporary home removed.')
