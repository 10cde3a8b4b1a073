// Spawning and management when the CLI is the upstream AgentSecrets CLI (Go).
// It cannot be built here, so fixtures/upstream-agentsecrets replays its
// documented output formats and its `env --` behaviour; our own engine is
// never mocked (it is only used, for detection, as itself). Covers detection,
// spawn with inherited/ignored stdio, what is refused (and that nothing ran),
// every management operation's parsing, malformed output, and S11.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { before, describe, it } from 'node:test'
import { ENGINE, assertNoCanary, makeHome, tempDir } from './helpers.mjs'
import {
  AbortError,
  AgentSecrets,
  BackendUnsupported,
  CLIError,
  InvalidArgument,
  NotInitialized,
  ProjectNotFound,
  ProxyConnectionError,
  SecretNotFound,
  TimeoutError,
  WorkspaceNotFound,
} from '../index.mjs'

const require = createRequire(import.meta.url)
const { binding } = require('../lib/native.js')
const { backendFor } = require('../lib/backends/index.js')
const HERE = path.dirname(fileURLToPath(import.meta.url))
const FIXTURE = path.join(HERE, 'fixtures', 'upstream-agentsecrets')
const CANARY = 'cnry-upstream-5e1f9a7c33'
const DIR = tempDir('upstream-cli-')
const STATE = path.join(DIR, 'state.json')
const LOG = path.join(DIR, 'argv.log')
process.env.UPSTREAM_FIXTURE_STATE = STATE
process.env.UPSTREAM_FIXTURE_LOG = LOG

/** Everything any operation returned or threw, for the S11 sweep. */
const observed = []

function baseState() {
  return {
    email: 'dev@example.com',
    environment: 'development',
    project: 'payments',
    lastPull: '2026-03-01T10:00:00Z',
    workspaces: [
      { name: 'Personal', type: 'personal', selected: true },
      { name: 'Acme Engineering', type: 'shared', selected: false },
    ],
    members: [
      { email: 'dev@example.com', role: 'admin', status: 'active' },
      { email: 'alice@example.com', role: 'member', status: 'pending' },
    ],
    projects: [
      { name: 'payments', workspace: 'Personal', description: 'Stripe keys' },
      { name: 'demo', workspace: 'Personal', description: '' },
    ],
    secrets: {
      development: { KEY: CANARY, OTHER_KEY: 'other-value-1234' },
      production: { PROD_ONLY: 'prod-value-5678' },
    },
    allowlist: [
      { domain: 'api.stripe.com', addedBy: 'dev@example.com', createdAt: '2026-01-15T09:30:12Z' },
      { domain: 'api.openai.com', addedBy: 'dev@example.com', createdAt: '2026-02-20T14:00:00Z' },
    ],
    allowlistLog: [
      { createdAt: '2026-02-20T14:00:00Z', domain: 'api.openai.com', userEmail: 'dev@example.com', action: 'ADDED' },
      { createdAt: '2026-01-15T09:30:00Z', domain: 'api.stripe.com', userEmail: 'dev@example.com', action: 'ADDED' },
      { createdAt: '2026-01-10T08:00:00Z', domain: 'old.example.com', userEmail: 'dev@example.com', action: 'REMOVED' },
    ],
    proxy: { running: true, pid: 4242, port: 8765, uptime: '1h 5m' },
    audit: [
      auditRow('2026-03-01T10:00:00Z', 'OK', ['KEY'], 200),
      auditRow('2026-03-01T10:01:00Z', 'BLOCKED', ['OTHER_KEY'], 0),
      auditRow('2026-03-01T10:02:00Z', 'OK', ['OTHER_KEY'], 201),
    ],
  }
}

function auditRow(timestamp, status, keys, code) {
  return {
    id: `log_${timestamp}`,
    timestamp,
    secret_keys: keys,
    agent_id: 'billing-tool',
    method: 'POST',
    target_url: 'https://api.stripe.com/v1/charges',
    domain: 'api.stripe.com',
    auth_styles: ['bearer'],
    status_code: code,
    duration_ms: 143,
    status,
    reason: status === 'BLOCKED' ? 'domain_not_in_allowlist' : '-',
    redacted: false,
    workspace_id: 'ws_1',
    project_id: 'prj_1',
    environment: 'development',
    identity_level: 'declared',
  }
}

function setState(patch = {}) {
  fs.writeFileSync(STATE, JSON.stringify({ ...baseState(), ...patch }))
  fs.writeFileSync(LOG, '')
}

function ran() {
  return fs
    .readFileSync(LOG, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
}

function upstreamClient(options = {}) {
  return new AgentSecrets({ cli: FIXTURE, autoStart: false, ...options })
}

/** Runs `fn`, records its outcome for S11, and returns it (value or error). */
async function op(fn) {
  try {
    const v = await fn()
    observed.push(v)
    return v
  } catch (e) {
    observed.push(e)
    throw e
  }
}

async function rejects(fn, Cls, re) {
  await assert.rejects(op(fn), (e) => {
    assert.ok(e instanceof Cls, `expected ${Cls.name}, got ${e?.constructor?.name}: ${e?.message}`)
    if (re) assert.match(e.message, re)
    return true
  })
}

let client

before(() => {
  setState()
  client = upstreamClient()
})

describe('detection', () => {
  it('tells the upstream CLI from our engine, once per client', async () => {
    setState()
    const c = upstreamClient()
    await c.status()
    await c.secrets.list()
    await c.workspaces.list()
    assert.equal(ran().filter((a) => a[0] === '--version').length, 1)
  })

  it('our engine is recognised as itself and keeps its JSON path', async () => {
    const home = makeHome({ allow: [] })
    const c = new AgentSecrets({ home, cli: ENGINE, autoStart: false })
    const s = await c.status()
    assert.equal(s.workspaceName, 'Personal')
    assert.equal(s.storageMode, 'file')
  })

  it('the bundled engine is not asked for --version; one named explicitly or found on PATH is', async () => {
    const dir = fs.mkdtempSync(path.join(DIR, 'probe-'))
    const log = path.join(dir, 'argv.log')
    const bin = path.join(dir, 'agentsecrets')
    // Our engine, logging the arguments of each run.
    fs.writeFileSync(bin, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${ENGINE}' "$@"\n`, { mode: 0o755 })
    const runs = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [])
    const home = makeHome({ allow: [] })
    const saved = { cli: process.env.AGENTSECRETS_CLI, path: process.env.PATH }
    delete process.env.AGENTSECRETS_CLI
    try {
      // As AgentSecrets builds its native client, with the wrapper as the only bundled candidate.
      const bundled = new binding.NativeClient({ home, engineCandidates: [bin] })
      const info = backendFor(bundled)
      assert.equal(info.kind, 'engine')
      assert.equal(info.file, bin)
      assert.deepEqual(JSON.parse(await bundled.runCli({ args: ['secrets', 'list'] })), [])
      assert.deepEqual(runs(), ['--json secrets list'], 'the wrapper ran, and only for the command')

      const explicit = new binding.NativeClient({ home, cli: bin, engineCandidates: [] })
      assert.equal(backendFor(explicit).kind, 'engine')
      process.env.PATH = `${dir}${path.delimiter}${saved.path}`
      const onPath = new binding.NativeClient({ home, engineCandidates: [] })
      assert.equal(backendFor(onPath).file, bin)
      assert.deepEqual(runs().slice(1), ['--version', '--version'])
    } finally {
      process.env.AGENTSECRETS_CLI = saved.cli
      process.env.PATH = saved.path
    }
  })

  it('an unknown binary is a typed error', async () => {
    const odd = path.join(DIR, 'agentsecrets-odd')
    fs.writeFileSync(odd, '#!/bin/sh\necho "agentsecrets 9.9.9"\n', { mode: 0o755 })
    const c = new AgentSecrets({ cli: odd, autoStart: false })
    await rejects(() => c.status(), BackendUnsupported, /neither this SDK's agentsecrets engine nor the upstream/)
    assert.throws(() => c.spawnAsync('true', [], { stdio: 'ignore' }), BackendUnsupported)
    const broken = path.join(DIR, 'agentsecrets-broken')
    fs.writeFileSync(broken, '#!/bin/sh\nexit 3\n', { mode: 0o755 })
    await rejects(() => new AgentSecrets({ cli: broken, autoStart: false }).secrets.list(), CLIError, /--version` failed/)
  })
})

describe('auto-start', () => {
  it('with the upstream CLI, a call that finds no proxy says the SDK cannot start it', async () => {
    setState()
    // A port nothing listens on, so no running proxy is found.
    const server = net.createServer()
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = server.address().port
    await new Promise((resolve) => server.close(resolve))
    const c = new AgentSecrets({ home: makeHome({ init: false }), cli: FIXTURE, port })
    await rejects(() => c.call('http://127.0.0.1:9/x', { bearer: 'KEY' }), BackendUnsupported, /upstream AgentSecrets CLI.*cannot start/)
    await assert.rejects(c.call('http://127.0.0.1:9/x', { bearer: 'KEY' }), (e) => /agentsecrets proxy start/.test(e.fixHint))
  })
})

describe('spawn through the upstream `env --`', () => {
  it('inherit: runs with the secrets and passes the exit code', async () => {
    setState()
    const out = path.join(DIR, 'len-inherit')
    const r = await op(() => client.spawn('sh', ['-c', `printf %s "\${#KEY}" > '${out}'; exit 7`]))
    assert.equal(r.exitCode, 7)
    assert.equal(r.signal, null)
    assert.equal(r.stdout, undefined)
    assert.equal(fs.readFileSync(out, 'utf8'), String(CANARY.length))
    assert.deepEqual(ran().at(-1), ['env', '--', 'sh', '-c', `printf %s "\${#KEY}" > '${out}'; exit 7`])
  })

  it('ignore, spawnAsync, and input on stdin', async () => {
    const out = path.join(DIR, 'stdin-copy')
    const p = client.spawnAsync('sh', ['-c', `cat > '${out}'; exit 0`], { stdio: 'ignore', input: 'plain input\n' })
    assert.equal(p.stdout, null)
    const r = await op(() => p.wait())
    assert.equal(r.exitCode, 0)
    assert.equal(fs.readFileSync(out, 'utf8'), 'plain input\n')
  })

  it('timeout and abort kill the tree like with the engine', async () => {
    await rejects(() => client.spawn('sleep', ['30'], { stdio: 'ignore', timeoutMs: 300 }), TimeoutError)
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 200)
    await rejects(() => client.spawn('sleep', ['30'], { stdio: 'ignore', signal: ac.signal }), AbortError)
  })

  it('capture, pipe, only, workspace, project and scoped clients are refused before anything runs', async () => {
    setState()
    await rejects(() => client.spawn('printenv', ['KEY'], { capture: true }), BackendUnsupported, /does not mask the child's output/)
    assert.throws(() => client.spawnAsync('printenv', ['KEY'], { stdio: 'pipe' }), BackendUnsupported)
    await rejects(() => client.spawn('true', [], { only: 'KEY' }), BackendUnsupported, /every secret/)
    await rejects(() => client.spawn('true', [], { project: 'payments' }), BackendUnsupported, /per-request workspace or project/)
    await rejects(() => client.spawn('true', [], { workspace: 'Personal' }), BackendUnsupported)
    await rejects(() => client.project('payments').spawn('true'), BackendUnsupported)
    await rejects(() => client.project('demo', (p) => p.spawn('true')), BackendUnsupported)
    await rejects(() => upstreamClient({ project: 'payments' }).spawn('true'), BackendUnsupported)
    assert.deepEqual(
      ran().filter((a) => a[0] !== '--version'),
      [],
    )
  })
})

describe('management through the upstream text output', () => {
  it('status combines `status` and `proxy status`', async () => {
    setState()
    const s = await op(() => client.status())
    assert.deepEqual(s, {
      userEmail: 'dev@example.com',
      workspaceName: 'Personal',
      projectName: 'payments',
      lastPull: new Date('2026-03-01T10:00:00Z'),
      proxyRunning: true,
      storageMode: null,
      home: path.join(os.homedir(), '.agentsecrets'),
    })
    setState({ email: null })
    await rejects(() => client.status(), NotInitialized)
  })

  it('secrets: list (active environment), delete; set is refused and no value reaches argv', async () => {
    setState()
    const list = await op(() => client.secrets.list())
    assert.deepEqual(list, [
      { key: 'KEY', createdAt: null, updatedAt: null },
      { key: 'OTHER_KEY', createdAt: null, updatedAt: null },
    ])
    assert.deepEqual(await op(() => client.secrets.delete('OTHER_KEY')), { key: 'OTHER_KEY', workspace: null, project: null })
    assert.deepEqual(ran().at(-1), ['secrets', 'delete', '--', 'OTHER_KEY'])
    await rejects(() => client.secrets.delete('NOPE'), SecretNotFound)
    await rejects(() => client.secrets.set('NEW_KEY', CANARY), BackendUnsupported, /argv/)
    for (const m of ['diff', 'sync', 'push']) await rejects(() => client.secrets[m](), BackendUnsupported)
    assert.ok(!fs.readFileSync(LOG, 'utf8').includes(CANARY))
    assert.ok(!ran().some((a) => a.includes('set')))
    setState({ secrets: {} })
    assert.deepEqual(await op(() => client.secrets.list()), [])
    setState({ environment: 'production' })
    assert.deepEqual((await op(() => client.secrets.list())).map((s) => s.key), ['PROD_ONLY'])
    await rejects(() => client.secrets.delete('PROD_ONLY'), BackendUnsupported, /confirmation/)
    setState({ project: null })
    await rejects(() => client.secrets.list(), ProjectNotFound)
  })

  it('workspaces: list, create, switch, members; invite refused', async () => {
    setState()
    assert.deepEqual(await op(() => client.workspaces.list()), [
      { name: 'Personal', active: true, projects: null, createdAt: null },
      { name: 'Acme Engineering', active: false, projects: null, createdAt: null },
    ])
    assert.deepEqual(await op(() => client.workspaces.switch('Acme Engineering')), { workspaceName: 'Acme Engineering', projectName: null })
    await client.setWorkspace('Personal')
    await rejects(() => client.workspaces.switch('Nope'), WorkspaceNotFound)
    assert.deepEqual(await op(() => client.workspaces.create('New Team')), { name: 'New Team', projects: null })
    assert.deepEqual(await op(() => client.workspaces.members()), [
      { user: 'dev@example.com', email: 'dev@example.com', role: 'admin' },
      { user: 'alice@example.com', email: 'alice@example.com', role: 'member' },
    ])
    await rejects(() => client.workspaces.invite('bob@example.com'), BackendUnsupported)
    setState({ workspaces: [] })
    await rejects(() => client.workspaces.list(), NotInitialized)
  })

  it('projects: list, use; create and delete refused', async () => {
    setState()
    const projects = await op(() => client.projects.list())
    assert.deepEqual(projects.map((p) => p.name), ['payments', 'demo'])
    assert.deepEqual(projects[1], { name: 'demo', active: null, secretCount: null, createdAt: null })
    assert.deepEqual(await op(() => client.projects.use('demo')), { workspaceName: null, projectName: 'demo' })
    await client.setProject('payments')
    // The upstream prints "x Failed to use project: ..." and exits 0.
    await rejects(() => client.projects.use('nope'), CLIError, /Failed to use project/)
    await rejects(() => client.projects.create('x'), BackendUnsupported, /description/)
    await rejects(() => client.projects.delete('demo'), BackendUnsupported)
    setState({ projects: [] })
    assert.deepEqual(await op(() => client.projects.list()), [])
  })

  it('allowlist: list, log (last); add and remove refused, nothing run', async () => {
    setState()
    assert.deepEqual(await op(() => client.allowlist.list()), [
      { entry: 'api.stripe.com', addedAt: new Date('2026-01-15T09:30:00Z') },
      { entry: 'api.openai.com', addedAt: new Date('2026-02-20T14:00:00Z') },
    ])
    const log = await op(() => client.allowlist.log())
    assert.deepEqual(log.map((l) => [l.action, l.entry]), [['add', 'api.openai.com'], ['add', 'api.stripe.com'], ['remove', 'old.example.com']])
    assert.deepEqual(log[0].timestamp, new Date('2026-02-20T14:00:00Z'))
    assert.equal((await op(() => client.allowlist.log({ last: 1 }))).length, 1)
    fs.writeFileSync(LOG, '')
    await rejects(() => client.allowlist.add('evil.example.com'), BackendUnsupported, /terminal/)
    await rejects(() => client.allowlist.remove(['api.stripe.com'], { adminPassword: 'pw-not-sent' }), BackendUnsupported)
    assert.deepEqual(ran(), [])
    await rejects(() => client.allowlist.add(''), InvalidArgument)
    setState({ allowlist: [], allowlistLog: [] })
    assert.deepEqual(await op(() => client.allowlist.list()), [])
    assert.deepEqual(await op(() => client.allowlist.log()), [])
  })

  it('proxy: status, stop, logs; start refused', async () => {
    setState()
    assert.deepEqual(await op(() => client.proxy.status()), {
      running: true,
      pid: 4242,
      port: 8765,
      socket: null,
      uptimeSeconds: 3900,
      sessionValid: false,
      version: '3.3.0',
    })
    assert.deepEqual(await op(() => client.proxy.stop()), { stopped: true, pid: 4242 })
    assert.deepEqual(await op(() => client.proxy.stop()), { stopped: false, pid: null })
    assert.equal((await op(() => client.proxy.status())).running, false)
    await rejects(() => client.proxy.start(), BackendUnsupported, /foreground/)
    setState()
    const all = await op(() => client.proxy.logs())
    assert.deepEqual(all.map((e) => e.timestamp.toISOString()), ['2026-03-01T10:00:00.000Z', '2026-03-01T10:01:00.000Z', '2026-03-01T10:02:00.000Z'])
    assert.deepEqual(all[0], {
      timestamp: new Date('2026-03-01T10:00:00Z'),
      method: 'POST',
      targetUrl: 'https://api.stripe.com/v1/charges',
      domain: 'api.stripe.com',
      secretKeys: ['KEY'],
      authStyles: ['bearer'],
      statusCode: 200,
      status: 'OK',
      reason: '-',
      redacted: false,
      durationMs: 143,
      agentId: 'billing-tool',
      workspace: 'ws_1',
      project: 'prj_1',
    })
    assert.deepEqual((await op(() => client.proxy.logs({ status: 'BLOCKED' }))).map((e) => e.secretKeys), [['OTHER_KEY']])
    assert.deepEqual((await op(() => client.proxy.logs({ secret: 'OTHER_KEY', last: 1 }))).map((e) => e.statusCode), [201])
    assert.deepEqual(ran().at(-1), ['logs', '--json', '--limit=1', '--credential=OTHER_KEY'])
  })

  it('a scope on a management operation is refused before anything runs', async () => {
    setState()
    await rejects(() => client.project('payments').secrets.list(), BackendUnsupported, /per-request/)
    await rejects(() => client.workspace('Acme Engineering').allowlist.list(), BackendUnsupported)
    await rejects(() => upstreamClient({ workspace: 'Personal' }).projects.list(), BackendUnsupported)
    assert.deepEqual(ran().filter((a) => a[0] !== '--version'), [])
  })

  it('the update banner before the output is skipped', async () => {
    setState({ banner: true })
    assert.equal((await op(() => client.secrets.list())).length, 2)
    assert.equal((await op(() => client.workspaces.list())).length, 2)
    assert.equal((await op(() => client.status())).projectName, 'payments')
  })
})

describe('malformed upstream output is a typed error', () => {
  const cases = [
    ['status', () => client.status(), 'AgentSecrets Status\n\n  ──────────────────────────────\n  Someone:   else\n'],
    ['secrets list', () => client.secrets.list(), 'Environment: development\n\nKEY\nOTHER\n'],
    ['secrets list', () => client.secrets.list(), 'Environment: development\n╭─────┬─────╮\n│ Key │ DEV │\n├─────┼─────┤\n│ KEY │ yes │\n╰─────┴─────╯\n'],
    ['workspace list', () => client.workspaces.list(), '\nWorkspaces\n\n  ──────────────────────────────\n→  Personal\n'],
    ['workspace members', () => client.workspaces.members(), 'nothing here\n'],
    ['project list', () => client.projects.list(), '│ Project │ Workspace │ Description │\n│ a │ b │\n'],
    ['workspace allowlist list', () => client.allowlist.list(), '╭─╮\n│ Domain │ Added By │ Added At │\n│ a.com │ me │ yesterday │\n╰─╯\n'],
    ['workspace allowlist log', () => client.allowlist.log(), '│ Time │ Domain │ User │ Action │\n│ 2026-01-01 00:00 │ a.com │ me │ GRANTED │\n╰─╯\n'],
    ['proxy status', () => client.proxy.status(), '\nProxy Status\n\n  Proxy status:    sleeping\n'],
    ['proxy stop', () => client.proxy.stop(), 'done\n'],
    ['logs', () => client.proxy.logs(), '{"timestamp": 1}\n'],
    ['logs', () => client.proxy.logs(), 'not json\n'],
    ['workspace switch', () => client.workspaces.switch('Personal'), 'ok\n'],
  ]
  for (const [name, fn, raw] of cases) {
    it(`${name}: ${JSON.stringify(raw.slice(0, 40))}`, async () => {
      setState({ raw: { [name]: raw } })
      await rejects(fn, ProxyConnectionError, /upstream AgentSecrets CLI's `.*` printed output this SDK cannot read/)
    })
  }

  it('a failure exit maps its "x [CODE] message" line; an unknown one is CLIError with the exit code', async () => {
    setState({ raw: { 'workspace list': 'x [CLI-500] keychain-auth is required for secure credentials storage\n' }, rawExit: 1 })
    await rejects(() => client.workspaces.list(), CLIError, /keychain-auth is required/)
    const err = await client.workspaces.list().catch((e) => e)
    assert.equal(err.exitCode, 1)
  })
})

describe('S11 against the upstream CLI', () => {
  it('no result or error of any operation above carries the value', () => {
    assert.ok(observed.length > 40, `only ${observed.length} outcomes observed`)
    assertNoCanary(assert, observed, CANARY, 'upstream CLI outcomes')
    assert.ok(!fs.readFileSync(LOG, 'utf8').includes(CANARY), 'a value reached argv')
  })
})
