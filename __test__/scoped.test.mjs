// Scoped contexts: `client.workspace(name)` and `client.project(name, fn)`
// share the parent's connection pool and carry their scope per request (and
// per spawn); concurrent scoped clients with the same key name each get their
// own value, verified at a loopback upstream, never in JS; the global active
// workspace/project is unchanged afterwards.

import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, it } from 'node:test'
import { ADMIN_PASSWORD, assertNoCanary, cli, makeHome, startUpstream, stopEngine } from './helpers.mjs'
import { AgentSecrets, BackendUnsupported, InvalidArgument, ProjectNotFound } from '../index.mjs'

const VALUES = {
  default: 'cnry-scoped-default-11',
  payments: 'cnry-scoped-payments-22',
  billing: 'cnry-scoped-billing-33',
  acme: 'cnry-scoped-acme-44',
}

let up
let home
let client

before(async () => {
  up = await startUpstream()
  home = makeHome({ secrets: { KEY: VALUES.default } })
  cli(home, ['project', 'create', 'payments'])
  cli(home, ['project', 'create', 'billing'])
  cli(home, ['secrets', 'set', 'KEY', '--project', 'payments'], VALUES.payments)
  cli(home, ['secrets', 'set', 'KEY', '--project', 'billing'], VALUES.billing)
  cli(home, ['workspace', 'create', 'Acme Corp'])
  cli(home, ['secrets', 'set', 'KEY', '--workspace', 'Acme Corp', '--project', 'default'], VALUES.acme)
  cli(home, ['workspace', 'allowlist', 'add', '127.0.0.1', '--workspace', 'Acme Corp', '--password-stdin'], `${ADMIN_PASSWORD}\n`)
  client = new AgentSecrets({ home })
})

after(async () => {
  await client.close()
  stopEngine(home)
  await up.close()
})

function sentValue(rec) {
  return rec.headers.authorization?.replace(/^Bearer /, '')
}

function activeScope() {
  const s = JSON.parse(cli(home, ['--json', 'status']))
  return [s.workspaceName, s.projectName]
}

describe('scoped clients', () => {
  it('concurrent scoped calls on two projects (and a workspace) get their own values', async () => {
    const start = up.requests.length
    const payments = client.project('payments')
    const acme = client.workspace('Acme Corp')
    assert.deepEqual(payments.scope, { workspace: undefined, project: 'payments' })
    const jobs = []
    for (let i = 0; i < 20; i++) {
      jobs.push(payments.call(`${up.url}/payments/${i}`, { bearer: 'KEY' }))
      jobs.push(client.project('billing', (p) => p.call(`${up.url}/billing/${i}`, { bearer: 'KEY' })))
      jobs.push(acme.call(`${up.url}/acme/${i}`, { bearer: 'KEY' }))
      jobs.push(client.call(`${up.url}/default/${i}`, { bearer: 'KEY' }))
    }
    const responses = await Promise.all(jobs)
    assertNoCanary(assert, responses, VALUES.payments, 'responses')
    const recs = up.requests.slice(start)
    assert.equal(recs.length, 80)
    for (const rec of recs) assert.equal(sentValue(rec), VALUES[rec.url.split('/')[1]], rec.url)
    assert.deepEqual(activeScope(), ['Personal', 'default'])
  })

  it('project(name, fn) returns fn\'s result and scopes spawn; values checked at the upstream', async () => {
    const start = up.requests.length
    const send = `fetch(process.argv[1], { headers: { authorization: 'Bearer ' + process.env.KEY } }).then((r) => process.exit(r.ok ? 0 : 1))`
    const results = await Promise.all([
      client.project('payments', (p) => p.spawn(process.execPath, ['-e', send, `${up.url}/payments/spawn`], { stdio: 'ignore' })),
      client.project('billing', async (p) => {
        const r = await p.spawn(process.execPath, ['-e', send, `${up.url}/billing/spawn`], { stdio: 'ignore' })
        return { billing: r.exitCode }
      }),
      client.workspace('Acme Corp', (w) => w.spawn(process.execPath, ['-e', send, `${up.url}/acme/spawn`], { stdio: 'ignore' })),
    ])
    assert.equal(results[0].exitCode, 0)
    assert.deepEqual(results[1], { billing: 0 })
    assert.equal(results[2].exitCode, 0)
    const recs = up.requests.slice(start)
    assert.equal(recs.length, 3)
    for (const rec of recs) assert.equal(sentValue(rec), VALUES[rec.url.split('/')[1]], rec.url)
    assert.deepEqual(activeScope(), ['Personal', 'default'])
  })

  it('management through a scoped client stays in its scope', async () => {
    const billing = client.project('billing')
    await billing.secrets.set('ONLY_BILLING', 'cnry-scoped-only-55')
    assert.ok((await billing.secrets.list()).some((s) => s.key === 'ONLY_BILLING'))
    assert.ok(!(await client.secrets.list()).some((s) => s.key === 'ONLY_BILLING'))
    const acmeProjects = await client.workspace('Acme Corp').projects.list()
    assert.deepEqual(acmeProjects.map((p) => p.name), ['default'])
    await billing.secrets.delete('ONLY_BILLING')
    assert.deepEqual(activeScope(), ['Personal', 'default'])
  })

  it('an explicit call scope wins over the scoped client\'s', async () => {
    const start = up.requests.length
    await client.project('payments').call(`${up.url}/billing/override`, { bearer: 'KEY', project: 'billing' })
    assert.equal(sentValue(up.requests[start]), VALUES.billing)
  })

  it('errors: a missing project is typed; bad arguments refused; closing a scoped client keeps the parent', async () => {
    await assert.rejects(client.project('nope', (p) => p.call(`${up.url}/x`, { bearer: 'KEY' })), ProjectNotFound)
    await assert.rejects(client.project('nope').spawn('true'), ProjectNotFound)
    assert.throws(() => client.project(42), InvalidArgument)
    assert.throws(() => client.workspace('A', 'not a function'), InvalidArgument)
    const scoped = client.project('payments')
    await scoped.close()
    await client.call(`${up.url}/default/after-close`, { bearer: 'KEY' })
    assert.deepEqual(activeScope(), ['Personal', 'default'])
  })
})

describe('a backend that cannot scope per request', () => {
  it('the upstream Go proxy: scoped calls reject with BackendUnsupported and send nothing', async () => {
    const seen = []
    const legacy = http.createServer((req, res) => {
      if (req.url === '/health') return res.end('{"project":"default","status":"ok"}')
      seen.push(req.url)
      res.end('{}')
    })
    await new Promise((r) => legacy.listen(0, '127.0.0.1', r))
    const c = new AgentSecrets({ home: makeHome({ init: false }), backend: 'upstream-proxy', port: legacy.address().port, autoStart: false })
    try {
      assert.equal((await c.connect()).kind, 'upstream-proxy')
      await assert.rejects(c.project('payments').call('https://a.example/', { bearer: 'K' }), BackendUnsupported)
      await assert.rejects(c.workspace('Acme', (w) => w.call('https://a.example/', { bearer: 'K' })), BackendUnsupported)
      assert.deepEqual(seen, [])
    } finally {
      await c.close()
      legacy.closeAllConnections?.()
      await new Promise((r) => legacy.close(r))
    }
  })
})
