// S17 and S22 through the SDK: a value an agent stores on an allowlisted
// API through an injection never comes back in plain text, whether the
// read goes without injection, with another secret, or streamed; values of
// other projects and workspaces are masked too; a value in a response
// header name never reaches JS; an injecting call cannot ask for a range.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertNoCanary, cli, makeHome, startEngine, startUpstream, stopEngine } from './helpers.mjs'
import { AgentSecrets, InvalidArgument } from '../index.mjs'

const CANARY = 'cnry-S17-stored-Zq4Wm8Pk'
const OTHER = 'cnry-s17-other-bearer-6h2j'
const ELSEWHERE = 'cnry-S17-billing-project-3x9c'

let up
let home
let client
let notes = ''

before(async () => {
  up = await startUpstream((req, res, rec) => {
    const u = new URL(req.url, 'http://x')
    if (u.pathname === '/notes' && req.method === 'POST') {
      notes += `${rec.body}\n`
      return void res.end('stored')
    }
    if (u.pathname === '/notes') {
      const pad = u.searchParams.has('big') ? '.'.repeat(200 * 1024) : ''
      res.setHeader('content-type', 'text/plain')
      return void res.end(`${notes}${pad}${notes}`)
    }
    if (u.pathname === '/elsewhere') return void res.end(`leaked: ${ELSEWHERE}`)
    if (u.pathname === '/header-name') {
      res.setHeader(OTHER, '1')
      res.setHeader('x-kept', 'yes')
      return void res.end('ok')
    }
    return false
  })
  home = makeHome({ secrets: { CANARY_KEY: CANARY, OTHER_KEY: OTHER } })
  cli(home, ['project', 'create', 'billing'])
  cli(home, ['secrets', 'set', 'BILLING_KEY', '--project', 'billing'], ELSEWHERE)
  startEngine(home)
  client = new AgentSecrets({ home, autoStart: false })
})

after(async () => {
  await client?.close()
  stopEngine(home)
  await up?.close()
})

describe('S17: read-back of a stored value', () => {
  it('the value really is stored upstream', async () => {
    const res = await client.call(`${up.url}/notes`, { method: 'POST', body: { text: '' }, bodyField: { text: 'CANARY_KEY' } })
    assert.equal(res.statusCode, 200)
    assert.ok(notes.includes(CANARY))
  })

  for (const [label, path, opts] of [
    ['without injection', '/notes', {}],
    ['with another secret injected', '/notes', { bearer: 'OTHER_KEY' }],
    ['streamed past the size read whole', '/notes?big', {}],
  ]) {
    it(`is redacted ${label}`, async () => {
      const res = await client.call(`${up.url}${path}`, opts)
      assert.equal(res.backend, 'engine')
      assert.equal(res.redacted, true)
      assert.ok(res.body.includes('[REDACTED_BY_AGENTSECRETS]'))
      assertNoCanary(assert, res, CANARY, `read-back ${label}`)
    })
  }

  it('values of other projects are masked too', async () => {
    const res = await client.call(`${up.url}/elsewhere`)
    assert.equal(res.redacted, true)
    assertNoCanary(assert, res, ELSEWHERE, 'another project')
  })
})

describe('S22: header names', () => {
  it('a header whose name is a value never reaches JS', async () => {
    const res = await client.call(`${up.url}/header-name`)
    assert.equal(res.headers['x-kept'], 'yes')
    assert.equal(res.redacted, true)
    assertNoCanary(assert, res, OTHER, 'header name')
  })
})

describe('Range on an injecting call', () => {
  it('is refused before anything is sent', async () => {
    const before = up.requests.length
    const err = await client.call(`${up.url}/notes`, { bearer: 'CANARY_KEY', headers: { Range: 'bytes=0-7' } }).catch((e) => e)
    assert.ok(err instanceof InvalidArgument, err?.message)
    assert.equal(err.code, 'INVALID_REQUEST')
    assert.match(err.message, /slices/)
    assert.equal(up.requests.length, before)
  })
})
