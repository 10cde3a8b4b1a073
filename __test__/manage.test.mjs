// Status and the management sub-clients against the real engine in a
// temporary home: typed results, typed errors, values only on stdin and
// never in any result, allowlist changes only with the admin password.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ADMIN_PASSWORD, assertNoCanary, cli, makeHome, startUpstream, stopEngine } from './helpers.mjs'
import {
  AgentSecrets,
  AllowlistModificationDenied,
  BackendUnsupported,
  InvalidArgument,
  NotInitialized,
  ProjectNotFound,
  SecretNotFound,
  WorkspaceNotFound,
} from '../index.mjs'

const CANARY = 'cnry-manage-7f3a9c2e51'

let home
let client

before(() => {
  home = makeHome({ allow: [] })
  client = new AgentSecrets({ home, autoStart: false })
})

after(async () => {
  stopEngine(home)
  await client.close()
})

describe('status', () => {
  it('reports the active scope and storage', async () => {
    const s = await client.status()
    assert.equal(s.workspaceName, 'Personal')
    assert.equal(s.projectName, 'default')
    assert.equal(s.proxyRunning, false)
    assert.equal(s.storageMode, 'file')
    assert.equal(s.userEmail, null)
    assert.equal(s.lastPull, null)
    assert.equal(s.home, home)
  })

  it('an uninitialised home is NotInitialized', async () => {
    const c = new AgentSecrets({ home: makeHome({ init: false }), autoStart: false })
    await assert.rejects(c.status(), NotInitialized)
    await assert.rejects(c.secrets.list(), NotInitialized)
  })
})

describe('secrets', () => {
  it('set stores through stdin; list shows names only; delete removes', async () => {
    const r = await client.secrets.set('MANAGE_KEY', CANARY)
    assert.deepEqual(r, { key: 'MANAGE_KEY', workspace: 'Personal', project: 'default' })
    const list = await client.secrets.list()
    const row = list.find((x) => x.key === 'MANAGE_KEY')
    assert.ok(row.createdAt instanceof Date && !Number.isNaN(row.createdAt.getTime()))
    assert.ok(row.updatedAt instanceof Date)
    assertNoCanary(assert, list, CANARY, 'secrets.list()')
    assertNoCanary(assert, r, CANARY, 'secrets.set()')
    await client.secrets.delete('MANAGE_KEY')
    assert.ok(!(await client.secrets.list()).some((x) => x.key === 'MANAGE_KEY'))
  })

  it('keeps the value byte for byte, trailing newline included', async () => {
    const up = await startUpstream()
    try {
      cli(home, ['workspace', 'allowlist', 'add', '127.0.0.1', '--password-stdin'], `${ADMIN_PASSWORD}\n`)
      await client.secrets.set('NL_KEY', `${CANARY}\n`)
      await client.secrets.set('BUF_KEY', Buffer.from(CANARY))
      const c = new AgentSecrets({ home, autoStart: true })
      await c.call(`${up.url}/nl`, { header: { 'X-A': 'BUF_KEY' }, bodyField: { v: 'NL_KEY' }, method: 'POST', body: {} })
      await c.close()
      assert.equal(up.requests[0].headers['x-a'], CANARY)
      assert.equal(JSON.parse(up.requests[0].body).v, `${CANARY}\n`)
    } finally {
      await up.close()
      stopEngine(home)
    }
  })

  it('a value of nearly the engine\'s 1 MiB limit goes through stdin', async () => {
    await client.projects.create('big')
    const big = client.project('big')
    await big.secrets.set('BIG', Buffer.alloc(1024 * 1024 - 1, 0x61))
    assert.deepEqual((await big.secrets.list()).map((s) => s.key), ['BIG'])
    await client.projects.delete('big')
  })

  it('refuses bad input before running anything', async () => {
    await assert.rejects(client.secrets.set('K', ''), InvalidArgument)
    await assert.rejects(client.secrets.set('K', 42), InvalidArgument)
    await assert.rejects(client.secrets.set('-K', 'v'), InvalidArgument)
    await assert.rejects(client.secrets.set('K=V', 'v'), InvalidArgument)
  })

  it('deleting a missing secret is SecretNotFound with the key', async () => {
    const e = await client.secrets.delete('NOPE').catch((x) => x)
    assert.ok(e instanceof SecretNotFound)
    assert.equal(e.key, 'NOPE')
    assert.ok(e.fixHint)
  })

  it('diff/sync/push reject with BackendUnsupported naming what to configure', async () => {
    for (const op of ['diff', 'sync', 'push']) {
      const e = await client.secrets[op]().catch((x) => x)
      assert.ok(e instanceof BackendUnsupported, op)
      assert.match(e.fixHint, /team backend/)
    }
  })
})

describe('workspaces and projects', () => {
  it('create, list, members, invite', async () => {
    assert.deepEqual(await client.workspaces.create('Client A'), { name: 'Client A', projects: ['default'] })
    const list = await client.workspaces.list()
    const a = list.find((w) => w.name === 'Client A')
    assert.equal(a.active, false)
    assert.deepEqual(a.projects, ['default'])
    assert.ok(a.createdAt instanceof Date)
    assert.equal(list.find((w) => w.name === 'Personal').active, true)
    const members = await client.workspaces.members()
    assert.equal(members.length, 1)
    assert.equal(members[0].role, 'owner')
    await assert.rejects(client.workspaces.invite('alice@example.com', { role: 'member' }), BackendUnsupported)
  })

  it('projects: create, list, use, delete', async () => {
    assert.deepEqual(await client.projects.create('payments'), { name: 'payments', workspace: 'Personal' })
    const list = await client.projects.list()
    assert.deepEqual(list.map((p) => p.name).sort(), ['default', 'payments'])
    assert.equal(typeof list[0].secretCount, 'number')
    await client.setProject('payments')
    assert.equal((await client.status()).projectName, 'payments')
    await client.setProject('default')
    const d = await client.projects.delete('payments')
    assert.equal(d.name, 'payments')
    assert.ok(!(await client.projects.list()).some((p) => p.name === 'payments'))
  })

  it('setWorkspace switches globally; missing names are typed errors', async () => {
    await client.setWorkspace('Client A')
    assert.equal((await client.status()).workspaceName, 'Client A')
    await client.setWorkspace('Personal')
    const w = await client.setWorkspace('Nope').catch((x) => x)
    assert.ok(w instanceof WorkspaceNotFound)
    assert.equal(w.workspace, 'Nope')
    const p = await client.setProject('nope').catch((x) => x)
    assert.ok(p instanceof ProjectNotFound)
    assert.equal(p.project, 'nope')
    await assert.rejects(client.workspace('Nope').secrets.list(), WorkspaceNotFound)
    await assert.rejects(client.project('nope').secrets.list(), ProjectNotFound)
    assert.equal((await client.status()).workspaceName, 'Personal')
  })
})

describe('allowlist', () => {
  it('add/remove without the admin password are denied and change nothing', async () => {
    const before = await client.allowlist.list()
    const e = await client.allowlist.add('denied.example.com').catch((x) => x)
    assert.ok(e instanceof AllowlistModificationDenied)
    assert.ok(e.fixHint)
    await assert.rejects(client.allowlist.remove('127.0.0.1'), AllowlistModificationDenied)
    await assert.rejects(client.allowlist.add('x.example.com', { adminPassword: 'wrong-password-1' }), AllowlistModificationDenied)
    assert.deepEqual(await client.allowlist.list(), before)
  })

  it('with the admin password: add one or many, remove, log', async () => {
    const r = await client.allowlist.add(['a.example.com', 'b.example.com'], { adminPassword: ADMIN_PASSWORD })
    assert.deepEqual(r.added, ['a.example.com', 'b.example.com'])
    const again = await client.allowlist.add('a.example.com', { adminPassword: ADMIN_PASSWORD })
    assert.deepEqual(again.alreadyPresent, ['a.example.com'])
    const list = await client.allowlist.list()
    assert.ok(list.some((x) => x.entry === 'b.example.com' && x.addedAt instanceof Date))
    const rm = await client.allowlist.remove('a.example.com', { adminPassword: ADMIN_PASSWORD })
    assert.deepEqual(rm.removed, ['a.example.com'])
    const log = await client.allowlist.log({ last: 1 })
    assert.equal(log.length, 1)
    assert.deepEqual([log[0].action, log[0].entry], ['remove', 'a.example.com'])
    assert.ok(log[0].timestamp instanceof Date)
    assert.ok((await client.allowlist.log()).length >= 3)
    // The password never comes back in a result.
    assertNoCanary(assert, [r, again, list, rm, log], ADMIN_PASSWORD, 'allowlist results')
  })

  it('a workspace-scoped client changes that workspace only', async () => {
    await client.workspace('Client A').allowlist.add('only-a.example.com', { adminPassword: ADMIN_PASSWORD })
    assert.ok((await client.workspace('Client A').allowlist.list()).some((x) => x.entry === 'only-a.example.com'))
    assert.ok(!(await client.allowlist.list()).some((x) => x.entry === 'only-a.example.com'))
  })

  it('refuses bad arguments', async () => {
    await assert.rejects(client.allowlist.add([]), InvalidArgument)
    await assert.rejects(client.allowlist.add('a.com', { password: 'x' }), InvalidArgument)
    await assert.rejects(client.allowlist.add('a.com', { adminPassword: 'a\nb' }), InvalidArgument)
    await assert.rejects(client.allowlist.log({ last: -1 }), InvalidArgument)
  })
})

describe('proxy', () => {
  it('start, status, logs with filters, stop', async () => {
    const up = await startUpstream()
    const c = new AgentSecrets({ home, autoStart: false, port: 0 })
    try {
      await c.secrets.set('LOG_KEY', CANARY)
      const s = await c.proxy.start()
      assert.equal(typeof s.pid, 'number')
      assert.ok(s.port > 0)
      assert.equal(s.alreadyRunning, false)
      assert.equal((await c.proxy.start()).alreadyRunning, true)
      const st = await c.proxy.status()
      assert.equal(st.running, true)
      assert.equal(st.port, s.port)
      assert.equal(typeof st.uptimeSeconds, 'number')
      assert.equal(st.sessionValid, true)
      await c.call(`${up.url}/ok`, { bearer: 'LOG_KEY', agentId: 'manage-test' })
      await assert.rejects(c.call('http://localhost:9/blocked', { bearer: 'LOG_KEY' }))
      const all = await c.proxy.logs()
      const ok = await c.proxy.logs({ status: 'OK', secret: 'LOG_KEY', last: 1 })
      assert.equal(ok.length, 1)
      const ev = ok[0]
      assert.ok(ev.timestamp instanceof Date)
      assert.equal(ev.method, 'GET')
      assert.equal(ev.targetUrl, `${up.url}/ok`)
      assert.equal(ev.domain, '127.0.0.1')
      assert.deepEqual(ev.secretKeys, ['LOG_KEY'])
      assert.deepEqual(ev.authStyles, ['bearer'])
      assert.equal(ev.statusCode, 200)
      assert.equal(ev.agentId, 'manage-test')
      assert.equal(typeof ev.durationMs, 'number')
      assert.equal(ev.redacted, false)
      assert.ok(!('value' in ev))
      const blocked = await c.proxy.logs({ status: 'BLOCKED' })
      assert.ok(blocked.length >= 1 && blocked.every((e) => e.status === 'BLOCKED'))
      assertNoCanary(assert, all, CANARY, 'proxy.logs()')
      await assert.rejects(c.proxy.logs({ status: 'MAYBE' }), InvalidArgument)
      const stop = await c.proxy.stop()
      assert.equal(stop.stopped, true)
      assert.equal((await c.proxy.status()).running, false)
    } finally {
      await c.close()
      await up.close()
      stopEngine(home)
    }
  })
})
