// MockAgentSecrets (@the-17/agentsecrets/testing): records, scripted
// answers, simulated errors, real-client validation, scopes, management
// and spawns, without an engine or a network.

import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { makeHome, rejection } from './helpers.mjs'
import { MockAgentSecrets } from '@the-17/agentsecrets/testing'
import {
  AgentSecrets,
  AbortError,
  AllowlistModificationDenied,
  BackendUnsupported,
  ClientClosed,
  DomainNotAllowed,
  InvalidArgument,
  PermissionDenied,
  ProjectNotFound,
  ResponseTooLarge,
  SecretNotFound,
  TimeoutError,
  UpstreamError,
  WorkspaceNotFound,
} from '@the-17/agentsecrets'
import * as errors from '@the-17/agentsecrets'

const require = createRequire(import.meta.url)

describe('MockAgentSecrets: the seed example', () => {
  it('records the call with the secret name and answers 200 {"ok":true}', async () => {
    const mock = new MockAgentSecrets({ secrets: { STRIPE_KEY: 'sk_test_mock' } })
    const res = await mock.call('https://api.stripe.com/v1/balance', { bearer: 'STRIPE_KEY' })
    assert.equal(mock.calls[0].url, 'https://api.stripe.com/v1/balance')
    assert.equal(mock.calls[0].bearer, 'STRIPE_KEY')
    assert.equal('value' in mock.calls[0], false)
    assert.deepEqual(res.json(), { ok: true })
    assert.equal(res.statusCode, 200)
    assert.equal(res.ok, true)
    assert.equal(res.backend, 'mock')
    assert.equal(res.redacted, false)
    assert.equal(res.headers['content-type'], 'application/json')
    assert.ok(res.bytes().equals(Buffer.from('{"ok":true}')))
    assert.ok(res instanceof errors.AgentSecretsResponse)
  })

  it('is the same class through require and import', () => {
    assert.equal(require('@the-17/agentsecrets/testing').MockAgentSecrets, MockAgentSecrets)
  })

  it('records every injection style by name, the method and the plain request', async () => {
    const mock = new MockAgentSecrets()
    await mock.call(new URL('https://api.example.com/v1/x?a=1'), {
      method: 'post',
      body: { amount: 1 },
      headers: { 'Idempotency-Key': 'k1' },
      basic: 'BASIC',
      header: { 'X-Api-Key': 'API_KEY' },
      query: { key: 'Q_KEY' },
      bodyField: { 'auth.token': 'TOKEN' },
      agentId: 'agent-7',
    })
    const r = mock.calls[0]
    assert.equal(r.method, 'POST')
    assert.equal(r.body, '{"amount":1}')
    assert.equal(r.headers['Idempotency-Key'], 'k1')
    assert.equal(r.headers['Content-Type'], 'application/json')
    assert.deepEqual(r.header, { 'X-Api-Key': 'API_KEY' })
    assert.deepEqual(r.query, { key: 'Q_KEY' })
    assert.deepEqual(r.bodyField, { 'auth.token': 'TOKEN' })
    assert.deepEqual([...r.secretKeys], ['BASIC', 'API_KEY', 'Q_KEY', 'TOKEN'])
    assert.equal(r.agentId, 'agent-7')
    assert.ok(Object.isFrozen(r))
  })
})

describe('MockAgentSecrets: scripted responses', () => {
  it('matches by URL, by URL without query, by RegExp, by method and by predicate; first registered first', async () => {
    const mock = new MockAgentSecrets()
      .respond('https://a.test/x', { body: 'exact' })
      .respond(/\/re\//, { body: 'regexp' })
      .respond({ method: 'DELETE' }, { statusCode: 204 })
      .respond((r) => r.headers['X-Pick'] === 'me', { body: 'predicate' })
    assert.equal((await mock.call('https://a.test/x?page=2')).body, 'exact')
    assert.equal((await mock.call('https://a.test/re/1')).body, 'regexp')
    assert.equal((await mock.call('https://a.test/y', { method: 'delete' })).statusCode, 204)
    assert.equal((await mock.call('https://a.test/z', { headers: { 'X-Pick': 'me' } })).body, 'predicate')
    assert.equal((await mock.call('https://a.test/other')).body, '{"ok":true}')
  })

  it('computes a response from the record, and honours times', async () => {
    const mock = new MockAgentSecrets().respond('https://a.test/echo', async (r) => ({ headers: { 'X-Seen': r.bearer }, body: { method: r.method } }), { times: 1 })
    const res = await mock.call('https://a.test/echo', { bearer: 'K', method: 'PUT' })
    assert.equal(res.headers['x-seen'], 'K')
    assert.deepEqual(res.json(), { method: 'PUT' })
    assert.deepEqual((await mock.call('https://a.test/echo')).json(), { ok: true })
  })

  it('rejects status >= 400 with UpstreamError unless throwOnHttpError is false', async () => {
    const mock = new MockAgentSecrets().respond('https://a.test/missing', { statusCode: 404, body: 'nope', headers: { 'X-Req': '1' } })
    const e = await rejection(mock.call('https://a.test/missing', { bearer: 'K' }))
    assert.ok(e instanceof UpstreamError)
    assert.equal(e.code, 'UPSTREAM_HTTP')
    assert.equal(e.statusCode, 404)
    assert.equal(e.body, 'nope')
    assert.equal(e.headers['x-req'], '1')
    assert.equal(e.url, 'https://a.test/missing')
    const res = await mock.call('https://a.test/missing', { throwOnHttpError: false })
    assert.equal(res.statusCode, 404)
    assert.equal(res.ok, false)
    const lenient = new MockAgentSecrets({ throwOnHttpError: false }).respond(/./, { statusCode: 500 })
    assert.equal((await lenient.call('https://a.test/')).statusCode, 500)
  })

  it('applies maxResponseBytes, timeoutMs and signal like the real client', async () => {
    const mock = new MockAgentSecrets().respond('https://a.test/big', { body: 'x'.repeat(100) }).respond('https://a.test/slow', { delayMs: 200 })
    assert.ok((await rejection(mock.call('https://a.test/big', { maxResponseBytes: 10 }))) instanceof ResponseTooLarge)
    const t = await rejection(mock.call('https://a.test/slow', { timeoutMs: 20 }))
    assert.ok(t instanceof TimeoutError)
    assert.equal(t.code, 'TIMEOUT')
    const ac = new AbortController()
    const pending = mock.call('https://a.test/slow', { signal: ac.signal })
    ac.abort()
    assert.ok((await rejection(pending)) instanceof AbortError)
    assert.ok((await rejection(mock.call('https://a.test/', { signal: AbortSignal.abort() }))) instanceof AbortError)
  })

  it('refuses bad scripts with InvalidArgument', () => {
    const mock = new MockAgentSecrets()
    assert.throws(() => mock.respond(42, {}), InvalidArgument)
    assert.throws(() => mock.respond('https://a.test/', { status: 200 }), InvalidArgument)
    assert.throws(() => mock.respond('https://a.test/', { statusCode: 99 }), InvalidArgument)
    assert.throws(() => mock.respond('https://a.test/', {}, { times: 0 }), InvalidArgument)
    assert.throws(() => mock.failNext(new Error('plain')), InvalidArgument)
    assert.throws(() => mock.respondSpawn('x', { exitCode: 300 }), InvalidArgument)
  })
})

describe('MockAgentSecrets: simulated errors', () => {
  const classes = Object.entries(errors).filter(([, v]) => typeof v === 'function' && v.prototype instanceof errors.AgentSecretsError)

  it('failNext throws each error class once, then calls succeed', async () => {
    assert.ok(classes.length >= 20)
    const mock = new MockAgentSecrets()
    for (const [name, Cls] of classes) {
      const err = new Cls(`simulated ${name}`, { code: 'SIMULATED' })
      mock.failNext(err)
      assert.equal(await rejection(mock.call('https://a.test/')), err, name)
    }
    assert.equal((await mock.call('https://a.test/')).statusCode, 200)
    assert.equal(mock.calls.length, classes.length + 1)
  })

  it('failWhen throws for matching calls only', async () => {
    const mock = new MockAgentSecrets().failWhen({ url: /evil/ }, new DomainNotAllowed('evil.test is not allowed', { code: 'DOMAIN_NOT_ALLOWED', domain: 'evil.test' }), { times: 2 })
    assert.equal((await rejection(mock.call('https://evil.test/', { bearer: 'K' }))).domain, 'evil.test')
    assert.equal((await mock.call('https://good.test/')).statusCode, 200)
    assert.ok((await rejection(mock.call('https://evil.test/'))) instanceof DomainNotAllowed)
    assert.equal((await mock.call('https://evil.test/')).statusCode, 200)
  })
})

describe('MockAgentSecrets: checks like the real client', () => {
  const real = new AgentSecrets({ home: makeHome({ init: false }), autoStart: false })
  const mock = new MockAgentSecrets()
  const bad = [
    [42, {}],
    ['https://a.test/', { bearer: 42 }],
    ['https://a.test/', { header: { 'X-Key': 7 } }],
    ['https://a.test/', { unknownOption: 1 }],
    ['https://a.test/', { timeoutMs: -1 }],
    ['https://a.test/', { maxResponseBytes: 0 }],
    ['https://a.test/', { body: Symbol('x') }],
    ['https://a.test/', 'not options'],
  ]
  for (const [url, options] of bad) {
    it(`refuses ${JSON.stringify(options) ?? String(options)} with the real client's InvalidArgument`, async () => {
      const fromMock = await rejection(mock.call(url, options))
      const fromReal = await rejection(real.call(url, options))
      assert.ok(fromMock instanceof InvalidArgument)
      assert.equal(fromMock.message, fromReal.message)
    })
  }

  it('refuses bad constructor options, spawn arguments and scope names like the real client', () => {
    assert.throws(() => new MockAgentSecrets({ prot: 1 }), InvalidArgument)
    assert.throws(() => new MockAgentSecrets({ timeoutMs: 'soon' }), InvalidArgument)
    assert.throws(() => new MockAgentSecrets({ secrets: { '-x': 'v' } }), InvalidArgument)
    assert.throws(() => new MockAgentSecrets({ secrets: { K: '' } }), InvalidArgument)
    assert.throws(() => new MockAgentSecrets({ allowlist: [42] }), InvalidArgument)
    assert.throws(() => mock.spawnAsync(''), InvalidArgument)
    assert.throws(() => mock.spawnAsync('ls', ['-l'], { stdio: 'tty' }), InvalidArgument)
    assert.throws(() => mock.workspace(''), { message: /workspace name must be a non-empty string/ })
    assert.throws(() => mock.project('p', 'not a function'), InvalidArgument)
    assert.throws(() => real.project('p', 'not a function'), InvalidArgument)
  })

  it('rejects unknown secrets with SecretNotFound only when secrets were given', async () => {
    const strict = new MockAgentSecrets({ secrets: { KNOWN: 'v1' } })
    const e = await rejection(strict.call('https://a.test/', { header: { 'X-K': 'UNKNOWN' } }))
    assert.ok(e instanceof SecretNotFound)
    assert.equal(e.key, 'UNKNOWN')
    await strict.call('https://a.test/', { bearer: 'KNOWN' })
    await new MockAgentSecrets().call('https://a.test/', { bearer: 'ANY' })
  })

  it('refuses injection into plain http (not loopback), hosts off a given allowlist, unknown URLs', async () => {
    const mock = new MockAgentSecrets({ allowlist: ['api.a.test', '*.b.test'] })
    assert.ok((await rejection(mock.call('http://api.a.test/', { bearer: 'K' }))) instanceof PermissionDenied)
    assert.ok((await rejection(mock.call('http://127.0.0.1:9/', { bearer: 'K' }))) instanceof DomainNotAllowed)
    await mock.call('https://api.a.test/', { bearer: 'K' })
    await mock.call('https://x.b.test/', { bearer: 'K' })
    const e = await rejection(mock.call('https://c.test/', { bearer: 'K' }))
    assert.ok(e instanceof DomainNotAllowed)
    assert.equal(e.domain, 'c.test')
    await mock.call('https://c.test/')
    assert.ok((await rejection(mock.call('not a url'))) instanceof InvalidArgument)
    assert.ok((await rejection(mock.call('ftp://a.test/'))) instanceof InvalidArgument)
  })

  it('rejects calls after close() with ClientClosed (scoped clients share it)', async () => {
    const m = new MockAgentSecrets()
    const scoped = m.workspace('default')
    await scoped.close()
    await m.call('https://a.test/')
    await m.close()
    assert.ok((await rejection(m.call('https://a.test/'))) instanceof ClientClosed)
    assert.ok((await rejection(scoped.call('https://a.test/'))) instanceof ClientClosed)
  })
})

describe('MockAgentSecrets: scopes and management', () => {
  it('records the scope of scoped clients and checks it exists', async () => {
    const mock = new MockAgentSecrets()
    await mock.workspaces.create('Acme')
    await mock.workspace('Acme').projects.create('payments')
    const n = await mock.workspace('Acme').project('payments', async (p) => {
      await p.call('https://a.test/', { bearer: 'K' })
      return p.scope.project
    })
    assert.equal(n, 'payments')
    assert.equal(mock.calls[0].workspace, 'Acme')
    assert.equal(mock.calls[0].project, 'payments')
    assert.ok((await rejection(mock.workspace('Nope').call('https://a.test/', { bearer: 'K' }))) instanceof WorkspaceNotFound)
    assert.ok((await rejection(mock.project('nope').call('https://a.test/', { bearer: 'K' }))) instanceof ProjectNotFound)
  })

  it('secrets.set stores a value that list() never returns', async () => {
    const mock = new MockAgentSecrets()
    assert.deepEqual(await mock.secrets.set('API_KEY', 'v-123'), { key: 'API_KEY', workspace: 'default', project: 'default' })
    const rows = await mock.secrets.list()
    assert.deepEqual(rows.map((r) => Object.keys(r).sort()), [['createdAt', 'key', 'updatedAt']])
    await assert.rejects(mock.secrets.set('K', 42), InvalidArgument)
    await assert.rejects(mock.secrets.diff(), BackendUnsupported)
    await mock.secrets.delete('API_KEY')
    await assert.rejects(mock.secrets.delete('API_KEY'), SecretNotFound)
  })

  it('switches the active workspace and project, with status()', async () => {
    const mock = new MockAgentSecrets()
    await mock.workspaces.create('B')
    await mock.setWorkspace('B')
    await mock.projects.create('p2')
    await mock.setProject('p2')
    const s = await mock.status()
    assert.equal(s.workspaceName, 'B')
    assert.equal(s.projectName, 'p2')
    await assert.rejects(mock.setWorkspace('missing'), WorkspaceNotFound)
    assert.deepEqual((await mock.workspaces.list()).map((w) => [w.name, w.active]), [['default', false], ['B', true]])
  })

  it('allowlist changes need adminPassword; proxy.logs lists the calls by name', async () => {
    const mock = new MockAgentSecrets()
    await assert.rejects(mock.allowlist.add('a.test'), AllowlistModificationDenied)
    assert.deepEqual(await mock.allowlist.add(['a.test', 'b.test'], { adminPassword: 'pw' }), { added: ['a.test', 'b.test'], alreadyPresent: [], workspace: 'default' })
    assert.deepEqual((await mock.allowlist.remove('a.test', { adminPassword: 'pw' })).removed, ['a.test'])
    assert.equal((await mock.allowlist.log()).length, 3)
    await mock.call('https://b.test/', { bearer: 'K' })
    await mock.call('https://b.test/')
    const logs = await mock.proxy.logs({ secret: 'K' })
    assert.equal(logs.length, 1)
    assert.deepEqual(logs[0].secretKeys, ['K'])
    assert.equal(logs[0].status, 'OK')
    await assert.rejects(mock.proxy.logs({ status: 'MAYBE' }), InvalidArgument)
    assert.equal((await mock.proxy.start()).alreadyRunning, false)
    assert.equal((await mock.proxy.status()).running, true)
    assert.deepEqual(await mock.connect(), { kind: 'mock', viaSocket: false, auth: 'none', baseUrl: 'mock:', features: [] })
  })
})

describe('MockAgentSecrets: spawns', () => {
  it('records spawn() and answers from respondSpawn, masking captured output', async () => {
    const mock = new MockAgentSecrets({ secrets: { DB_URL: 'postgres://u:pw-canary@h/db' } })
    mock.respondSpawn('python', { exitCode: 3, stdout: 'url=postgres://u:pw-canary@h/db\n', stderr: 'warn' })
    const r = await mock.spawn('python', ['manage.py', 'migrate'], { capture: true, only: 'DB_URL', env: { DEBUG: 1 } })
    assert.deepEqual(r, { exitCode: 3, signal: null, stdout: 'url=[REDACTED_BY_AGENTSECRETS]\n', stderr: 'warn' })
    assert.equal(mock.spawns[0].command, 'python')
    assert.deepEqual([...mock.spawns[0].args], ['manage.py', 'migrate'])
    assert.deepEqual(mock.spawns[0].env, { DEBUG: '1' })
    const e = await rejection(mock.spawn('python', [], { only: ['MISSING'] }))
    assert.ok(e instanceof SecretNotFound)
  })

  it('an abort after the command ended changes nothing', async () => {
    const mock = new MockAgentSecrets()
    const ac = new AbortController()
    const p = mock.spawnAsync('true', [], { signal: ac.signal })
    assert.deepEqual(await p.wait(), { exitCode: 0, signal: null })
    const uncaught = []
    const onUncaught = (e) => uncaught.push(e)
    process.on('uncaughtException', onUncaught)
    try {
      ac.abort()
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.removeListener('uncaughtException', onUncaught)
    }
    assert.deepEqual(uncaught, [])
    assert.deepEqual(await p.wait(), { exitCode: 0, signal: null })
  })

  it('spawnAsync returns a process with pid, streams, wait() and kill()', async () => {
    const mock = new MockAgentSecrets().respondSpawn(/^node$/, { stdout: 'hello\n', delayMs: 10 })
    const p = mock.spawnAsync('node', ['-v'], { stdio: 'pipe' })
    assert.equal(typeof p.pid, 'number')
    assert.ok(p.stdin && p.stdout && p.stderr)
    let out = ''
    p.stdout.on('data', (c) => (out += c))
    assert.deepEqual(await p.wait(), { exitCode: 0, signal: null })
    assert.equal(out, 'hello\n')
    assert.equal(p.kill(), false)
    const slow = mock.spawnAsync('sleep', ['10'])
    assert.equal(slow.stdout, null)
    mock.respondSpawn('sleep', { delayMs: 10_000 })
    const long = mock.spawnAsync('sleep', ['10'])
    assert.equal(long.kill('SIGINT'), true)
    assert.deepEqual(await long.wait(), { exitCode: 130, signal: 'SIGINT' })
    const timed = mock.spawnAsync('sleep', ['10'], { timeoutMs: 20 })
    const t = await rejection(timed.wait())
    assert.ok(t instanceof TimeoutError)
    assert.equal(t.result.signal, 'SIGTERM')
    await slow.wait()
  })
})
