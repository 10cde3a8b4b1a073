#!/usr/bin/env node
// One real call through the SDK (this machine's native addon) to an engine
// that already serves HOME, against a loopback upstream: the secret named
// SMOKE_KEY must arrive as the bearer token, and its value must not come back.
//
//   SMOKE_VALUE=<the value stored as SMOKE_KEY> node scripts/cross/smoke-call.mjs HOME
//
// The value is known here only because this script is the test that stored it.

import assert from 'node:assert/strict'
import http from 'node:http'
import { AgentSecrets } from '../../index.mjs'

const [home] = process.argv.slice(2)
const value = process.env.SMOKE_VALUE
if (!home || !value) {
  process.stderr.write('usage: SMOKE_VALUE=... node scripts/cross/smoke-call.mjs HOME\n')
  process.exit(2)
}

const received = []
const upstream = http.createServer((req, res) => {
  received.push(req.headers.authorization)
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ echoed: req.headers.authorization }))
})
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve))

const client = new AgentSecrets({ home, autoStart: false })
try {
  const res = await client.call(`http://127.0.0.1:${upstream.address().port}/smoke`, { bearer: 'SMOKE_KEY' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(received, [`Bearer ${value}`], 'the upstream must receive the injected bearer token')
  assert.ok(!res.text().includes(value), 'the response must not hold the value')
  console.log(`call ok: upstream got the bearer; the agent saw ${res.text()}`)
} finally {
  await client.close()
  upstream.close()
}
