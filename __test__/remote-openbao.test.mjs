// OpenBao / Vault KV v2 as the shared secret source, against a real
// `bao server -dev` on loopback: resolve-through (values at request time,
// redacted like local ones, headless start from AGENTSECRETS_REMOTE), sync
// (pull/push/diff with check-and-set; two homes as two machines), AppRole,
// and every fault reaching the SDK as a typed error with no token or value
// in any output, log or audit line.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ADMIN_PASSWORD, ENGINE, assertNoCanary, cli, engineEnv, makeHome, rejection, startUpstream, stopEngine } from './helpers.mjs'
import { allowlistAdminPolicy, requireBao, memberPolicy, privateFile, putSecret, startBao, tokenWithPolicy } from './openbao.mjs'
import { AgentSecrets, PermissionDenied, RemoteConflict, RemoteUnavailable, SecretNotFound, SessionExpired } from '../index.mjs'

const bao = requireBao()
const CANARY = 'cnry-bao-resolve-R7t2Vq9Lm'
const PUSHED = 'cnry-bao-pushed-K3w8Np2Xs'
const STORED = 'cnry-bao-stored-readback-J5d1'

let server
let up
/** Tokens handed to engines: none may appear in any output. */
const tokens = []
/** Every home a test made, for the audit/stderr sweep. */
const homes = []
/** Every string the SDK or CLI showed. */
const shown = []
let stored = ''

before(async () => {
  server = await startBao(bao)
  up = await startUpstream((req, res, rec) => {
    if (req.url === '/store') {
      stored += rec.body
      return void res.end('ok')
    }
    if (req.url === '/read') return void res.end(`stored: ${stored}`)
    return false
  })
})

after(async () => {
  for (const h of homes) stopEngine(h)
  await up?.close()
  await server?.stop()
})

/** A home bound with `remote set` to `prefix`; `auth` are extra `remote set` flags. */
function boundHome(prefix, mode, auth, extra = []) {
  const home = makeHome()
  homes.push(home)
  shown.push(cli(home, ['remote', 'set', `--address=${server.address}`, `--prefix=${prefix}`, `--mode=${mode}`, '--password-stdin', ...auth, ...extra], `${ADMIN_PASSWORD}\n`))
  return home
}

/** A member token for `prefix` in a 0600 file, as `remote set` flags. */
async function memberTokenFile(prefix, dir) {
  const token = await tokenWithPolicy(server, `member-${prefix.replaceAll('/', '-')}`, memberPolicy(prefix))
  tokens.push(token)
  return [`--token-file=${privateFile(dir, 'bao-token', token)}`]
}

function client(home) {
  return new AgentSecrets({ home, autoStart: true })
}

describe('OpenBao remote', () => {
  it('resolve-through: a value stored only in OpenBao is injected, and its echo is redacted', async () => {
    await putSecret(server, 'team/resolve/API_KEY', CANARY)
    const home = boundHome('team/resolve', 'resolve', await memberTokenFile('team/resolve', makeHome({ init: false })))
    assert.deepEqual(cli(home, ['secrets', 'list', '--json']).trim(), '[]', 'nothing is written to the local vault')
    const c = client(home)
    try {
      const res = await c.call(`${up.url}/echo`, { bearer: 'API_KEY' })
      assert.equal(res.statusCode, 200)
      assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${CANARY}`)
      assertNoCanary(assert, res, CANARY, 'echoed answer')
      shown.push(res.text())
      // Read-back: stored by one call, read by a call injecting nothing.
      await c.call(`${up.url}/store`, { method: 'POST', body: { v: '' }, bodyField: { v: 'API_KEY' } })
      const back = await c.call(`${up.url}/read`)
      assert.ok(stored.includes(CANARY))
      assertNoCanary(assert, back, CANARY, 'read-back answer')
      const missing = await rejection(c.call(`${up.url}/echo`, { bearer: 'NOT_THERE' }))
      assert.ok(missing instanceof SecretNotFound, String(missing))
      assert.equal(missing.key, 'NOT_THERE')
      shown.push(missing)
      // spawn(): the command gets the remote value, its captured output is masked.
      const run = await c.spawn('sh', ['-c', `test "$API_KEY" = '${CANARY}' && echo "match $API_KEY"`], { capture: true })
      assert.equal(run.exitCode, 0)
      assert.match(run.stdout ?? '', /^match /)
      assertNoCanary(assert, run, CANARY, 'spawn output')
      const only = await rejection(c.spawn('true', [], { only: ['NOT_THERE'] }))
      assert.ok(only instanceof SecretNotFound, String(only))
      assert.ok(!fs.readFileSync(path.join(home, 'vault.db')).includes(CANARY), 'the remote value never reaches the vault file')
    } finally {
      await c.close()
    }
  })

  it('a whole-workspace binding keeps each project under <prefix>/<project>/', async () => {
    await putSecret(server, 'team/ws/default/WS_KEY', CANARY)
    await putSecret(server, 'team/ws/other/WS_KEY', PUSHED)
    const home = boundHome('team/ws', 'resolve', await memberTokenFile('team/ws', makeHome({ init: false })), ['--whole-workspace'])
    cli(home, ['project', 'create', 'other'])
    const c = client(home)
    try {
      await c.call(`${up.url}/echo`, { bearer: 'WS_KEY' })
      assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${CANARY}`)
      const res = await c.project('other').call(`${up.url}/echo`, { bearer: 'WS_KEY' })
      assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${PUSHED}`)
      // Both projects' values are scanned for in every answer.
      assertNoCanary(assert, res, PUSHED, 'echo')
      assert.equal((await c.remote.show())[0].scope, 'Personal/*')
    } finally {
      await c.close()
    }
  })

  it('headless: AGENTSECRETS_REMOTE alone binds the engine, and the SDK works unchanged', async () => {
    await putSecret(server, 'ci/app/DEPLOY_KEY', CANARY)
    const token = await tokenWithPolicy(server, 'ci-app', memberPolicy('ci/app'))
    tokens.push(token)
    const home = makeHome()
    homes.push(home)
    const env = {
      ...engineEnv(home),
      AGENTSECRETS_REMOTE: `${server.address}?mount=secret&prefix=ci/app&mode=resolve&token-env=CI_BAO_TOKEN&cache-ttl=5`,
      CI_BAO_TOKEN: token,
    }
    const start = spawnSync(ENGINE, ['--json', 'proxy', 'start', '--detach', '--port', '0'], { env, encoding: 'utf8', input: '' })
    assert.equal(start.status, 0, start.stderr)
    const show = spawnSync(ENGINE, ['--json', 'remote', 'show'], { env, encoding: 'utf8' })
    assert.equal(JSON.parse(show.stdout).bindings[0].from, 'AGENTSECRETS_REMOTE')
    shown.push(show.stdout, show.stderr, start.stdout, start.stderr)
    const c = new AgentSecrets({ home, autoStart: false })
    try {
      const res = await c.call(`${up.url}/echo`, { bearer: 'DEPLOY_KEY' })
      assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${CANARY}`)
      assertNoCanary(assert, res, CANARY, 'headless answer')
    } finally {
      await c.close()
    }
  })

  it('two machines: a secret pushed from one is used by call() on the other', async () => {
    const dir = makeHome({ init: false })
    const laptop = boundHome('team/shared', 'sync', await memberTokenFile('team/shared', dir))
    const ci = boundHome('team/shared', 'resolve', [`--token-file=${path.join(dir, 'bao-token')}`], ['--cache-ttl=0'])
    const a = client(laptop)
    const b = client(ci)
    try {
      await a.secrets.set('SHARED_KEY', PUSHED)
      const diff = await a.secrets.push()
      assert.equal(diff.hasDrift, false)
      const res = await b.call(`${up.url}/echo`, { bearer: 'SHARED_KEY' })
      assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${PUSHED}`)
      assertNoCanary(assert, res, PUSHED, 'answer on the second machine')
      // A third machine pulls into its local vault; status().lastPull is real.
      const third = boundHome('team/shared', 'sync', [`--token-file=${path.join(dir, 'bao-token')}`])
      const c = client(third)
      assert.equal((await c.status()).lastPull, null)
      const report = await c.secrets.pull()
      assert.deepEqual(report.written, ['SHARED_KEY'])
      assert.ok((await c.status()).lastPull instanceof Date)
      assert.deepEqual((await c.secrets.list()).map((s) => s.key), ['SHARED_KEY'])
      shown.push(report, diff)
      await c.close()
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('concurrent pushes of one key: one wins, the other gets RemoteConflict naming the key', async () => {
    const dir = makeHome({ init: false })
    const auth = await memberTokenFile('team/race', dir)
    const one = client(boundHome('team/race', 'sync', auth))
    const two = client(boundHome('team/race', 'sync', auth))
    try {
      await one.secrets.set('RACE_KEY', 'cnry-race-first-value-1')
      await one.secrets.push()
      await two.secrets.pull()
      await one.secrets.set('RACE_KEY', 'cnry-race-one-changed-2')
      await two.secrets.set('RACE_KEY', 'cnry-race-two-changed-3')
      const results = await Promise.allSettled([one.secrets.push(), two.secrets.push()])
      const lost = results.filter((r) => r.status === 'rejected')
      assert.equal(lost.length, 1, JSON.stringify(results.map((r) => r.status)))
      const e = /** @type {PromiseRejectedResult} */ (lost[0]).reason
      assert.ok(e instanceof RemoteConflict, String(e))
      assert.equal(e.key, 'RACE_KEY')
      assert.equal(e.code, 'REMOTE_CONFLICT')
      assertNoCanary(assert, e, 'cnry-race-two-changed-3', 'conflict error')
      // A push over a change this machine has not pulled is refused too.
      const stale = await rejection(two.secrets.push().then(() => one.secrets.push()))
      assert.ok(stale instanceof RemoteConflict, String(stale))
    } finally {
      await one.close()
      await two.close()
    }
  })

  it('shared allowlist: an admin adds a host in OpenBao, a member with an empty local allowlist may call it; members cannot change it', async () => {
    await putSecret(server, 'team/al/AL_KEY', CANARY)
    const dir = makeHome({ init: false })
    await server.api('PUT', 'sys/policies/acl/al-member', { policy: memberPolicy('team/al') })
    await server.api('PUT', 'sys/policies/acl/al-admin', { policy: allowlistAdminPolicy('team/al') })
    const admin = (await server.api('POST', 'auth/token/create', { policies: ['al-member', 'al-admin'], ttl: '1h' })).auth.client_token
    const member = (await server.api('POST', 'auth/token/create', { policies: ['al-member'], ttl: '1h' })).auth.client_token
    tokens.push(admin, member)
    const adminHome = boundHome('team/al', 'resolve', [`--token-file=${privateFile(dir, 'admin', admin)}`])
    const memberHome = makeHome({ allow: [] })
    homes.push(memberHome)
    cli(memberHome, ['remote', 'set', `--address=${server.address}`, '--prefix=team/al', `--token-file=${privateFile(dir, 'member', member)}`, '--password-stdin'], `${ADMIN_PASSWORD}\n`)
    const c = client(memberHome)
    try {
      const before = await rejection(c.call(`${up.url}/echo`, { bearer: 'AL_KEY' }))
      assert.equal(before.code, 'DOMAIN_NOT_ALLOWED')
      // Without the admin password nothing changes, whatever the policy allows.
      const noPw = spawnSync(ENGINE, ['--json', 'remote', 'allowlist', 'add', '127.0.0.1'], { env: engineEnv(adminHome), encoding: 'utf8', input: '' })
      assert.notEqual(noPw.status, 0)
      assert.match(noPw.stderr, /ALLOWLIST_MODIFICATION_DENIED/)
      shown.push(cli(adminHome, ['remote', 'allowlist', 'add', '127.0.0.1', '--password-stdin'], `${ADMIN_PASSWORD}\n`))
      assert.deepEqual(JSON.parse(cli(memberHome, ['--json', 'remote', 'allowlist', 'list'])), ['127.0.0.1'])
      // A running proxy sees the change once its snapshot is older than the TTL; a new one at once.
      stopEngine(memberHome)
      const c2 = client(memberHome)
      await c2.call(`${up.url}/echo`, { bearer: 'AL_KEY' })
      assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${CANARY}`)
      await c2.close()
      // The member's policy may not change it.
      const denied = spawnSync(ENGINE, ['--json', 'remote', 'allowlist', 'add', 'evil.example', '--password-stdin'], { env: engineEnv(memberHome), encoding: 'utf8', input: `${ADMIN_PASSWORD}\n` })
      assert.match(denied.stderr, /REMOTE_DENIED/)
      shown.push(denied.stderr)
    } finally {
      await c.close()
    }
  })

  it('a token typed at remote set --token-stdin is kept encrypted in the vault, and works', async () => {
    await putSecret(server, 'team/typed/TYPED_KEY', CANARY)
    const token = await tokenWithPolicy(server, 'typed', memberPolicy('team/typed'))
    tokens.push(token)
    const home = makeHome()
    homes.push(home)
    shown.push(cli(home, ['remote', 'set', `--address=${server.address}`, '--prefix=team/typed', '--token-stdin', '--password-stdin'], `${ADMIN_PASSWORD}\n${token}\n`))
    const show = JSON.parse(cli(home, ['--json', 'remote', 'show']))
    assert.equal(show.bindings[0].auth, 'token (vault (encrypted))')
    for (const f of ['vault.db', 'remote.json']) assert.ok(!fs.readFileSync(path.join(home, f)).includes(token), `${f} holds the token in plain text`)
    const c = client(home)
    try {
      await c.call(`${up.url}/echo`, { bearer: 'TYPED_KEY' })
      assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${CANARY}`)
      // The stored token is the engine's own: no project secret, nothing to inject.
      assert.deepEqual(await c.secrets.list(), [])
      const e = await rejection(c.call(`${up.url}/echo`, { bearer: 'remote-token:Personal/default' }))
      assert.ok(['SECRET_NOT_FOUND', 'INVALID_ARGUMENT', 'INVALID_REQUEST'].includes(e.code), String(e))
      await c.remote.unset({ adminPassword: ADMIN_PASSWORD })
      assert.deepEqual(await c.remote.show(), [])
    } finally {
      await c.close()
    }
  })

  it('an agent cannot bind a remote: without the admin password nothing is stored and no credential leaves', async () => {
    const evil = await startUpstream()
    const home = makeHome()
    homes.push(home)
    const c = client(home)
    try {
      for (const opts of [{ tokenEnv: 'HOME' }, { tokenFile: path.join(home, 'master.key') }]) {
        const e = await rejection(c.remote.set({ address: evil.url, ...opts }))
        assert.equal(e.code, 'ALLOWLIST_MODIFICATION_DENIED', String(e))
        assert.match(e.message, /remote bindings need the admin password/)
      }
      const wrong = await rejection(c.remote.set({ address: evil.url, tokenEnv: 'HOME', adminPassword: 'not-the-password' }))
      assert.equal(wrong.code, 'ALLOWLIST_MODIFICATION_DENIED')
      assert.deepEqual(await c.remote.show(), [])
      assert.equal(evil.requests.length, 0, 'the would-be server received nothing')
      // The person who knows the password can, through the SDK too.
      const b = await c.remote.set({ address: server.address, prefix: 'team/sdk', tokenEnv: 'UNSET_TOKEN_VAR', check: false, adminPassword: ADMIN_PASSWORD })
      assert.equal(b.auth, 'token (env:UNSET_TOKEN_VAR)')
      const e = await rejection(c.call(`${up.url}/echo`, { bearer: 'X' }))
      assert.ok(e instanceof SessionExpired, String(e))
    } finally {
      await c.close()
      await evil.close()
    }
  })

  it('AppRole: the engine logs in with a role id and secret id from 0600 files', async () => {
    await server.api('POST', 'sys/auth/approle', { type: 'approle' }).catch(() => {})
    await server.api('PUT', 'sys/policies/acl/approle-ci', { policy: memberPolicy('team/approle') })
    await server.api('POST', 'auth/approle/role/ci', { token_policies: ['approle-ci'], token_ttl: '10m' })
    const roleId = (await server.api('GET', 'auth/approle/role/ci/role-id')).data.role_id
    const secretId = (await server.api('POST', 'auth/approle/role/ci/secret-id', {})).data.secret_id
    tokens.push(secretId)
    await putSecret(server, 'team/approle/APPROLE_KEY', CANARY)
    const dir = makeHome({ init: false })
    const home = boundHome('team/approle', 'resolve', [
      `--role-id-file=${privateFile(dir, 'role-id', roleId)}`,
      `--secret-id-file=${privateFile(dir, 'secret-id', secretId)}`,
    ])
    const c = client(home)
    try {
      await c.call(`${up.url}/echo`, { bearer: 'APPROLE_KEY' })
      assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${CANARY}`)
    } finally {
      await c.close()
    }
  })

  it('faults: denied by policy, revoked token, each a typed error with no stale value', async () => {
    await putSecret(server, 'team/faults/FAULT_KEY', CANARY)
    const denyToken = await tokenWithPolicy(server, 'elsewhere', memberPolicy('team/elsewhere'))
    tokens.push(denyToken)
    const dir = makeHome({ init: false })
    const denied = boundHome('team/faults', 'resolve', [`--token-file=${privateFile(dir, 'deny', denyToken)}`], ['--no-check'])
    const c1 = client(denied)
    const e1 = await rejection(c1.call(`${up.url}/echo`, { bearer: 'FAULT_KEY' }))
    assert.ok(e1 instanceof PermissionDenied && e1.code === 'REMOTE_DENIED', String(e1))
    shown.push(e1)
    await c1.close()

    const token = await tokenWithPolicy(server, 'faults', memberPolicy('team/faults'))
    tokens.push(token)
    const home = boundHome('team/faults', 'resolve', [`--token-file=${privateFile(dir, 'good', token)}`], ['--cache-ttl=0'])
    const c2 = client(home)
    try {
      await c2.call(`${up.url}/echo`, { bearer: 'FAULT_KEY' })
      await server.api('POST', 'auth/token/revoke', { token })
      const e2 = await rejection(c2.call(`${up.url}/echo`, { bearer: 'FAULT_KEY' }))
      assert.ok(e2 instanceof SessionExpired && e2.code === 'SESSION_EXPIRED', String(e2))
      shown.push(e2)
    } finally {
      await c2.close()
    }
  })

  it('examples/teams-ci.mjs runs headless from AGENTSECRETS_REMOTE (AppRole from env) and prints no value', async () => {
    await putSecret(server, 'team/example/OPENAI_API_KEY', CANARY)
    await server.api('POST', 'sys/auth/approle', { type: 'approle' }).catch(() => {})
    await server.api('PUT', 'sys/policies/acl/example-ci', { policy: memberPolicy('team/example') })
    await server.api('POST', 'auth/approle/role/example', { token_policies: ['example-ci'] })
    const roleId = (await server.api('GET', 'auth/approle/role/example/role-id')).data.role_id
    const secretId = (await server.api('POST', 'auth/approle/role/example/secret-id', {})).data.secret_id
    tokens.push(secretId)
    const models = await startUpstream((req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ data: [{ id: 'm1' }, { id: 'm2' }], echo: req.headers.authorization }))
    })
    const home = makeHome()
    homes.push(home)
    const env = {
      ...engineEnv(home),
      OPENAI_BASE_URL: `${models.url}/v1`,
      AGENTSECRETS_REMOTE: `${server.address}?prefix=team/example&role-id-env=BAO_ROLE_ID&secret-id-env=BAO_SECRET_ID`,
      BAO_ROLE_ID: roleId,
      BAO_SECRET_ID: secretId,
    }
    const { spawn } = await import('node:child_process')
    const child = spawn(process.execPath, [path.join(import.meta.dirname, '..', 'examples', 'teams-ci.mjs')], { env })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    child.stderr.on('data', (c) => (out += c))
    const code = await new Promise((resolve) => child.on('exit', resolve))
    await models.close()
    assert.equal(code, 0, out)
    assert.equal(out.trim(), 'status 200, 2 models')
    assert.equal(models.requests[0].headers.authorization, `Bearer ${CANARY}`)
    shown.push(out)
  })

  it('one binding down: its scope fails typed, other scopes go on and are still scanned for its values', async () => {
    const other = await startBao(bao)
    const B_VALUE = 'cnry-bao-second-server-P4n7'
    try {
      await putSecret(other, 'team/b/B_KEY', B_VALUE)
      await putSecret(server, 'team/o/O_KEY', CANARY)
      const dir = makeHome({ init: false })
      const bToken = await tokenWithPolicy(other, 'b', memberPolicy('team/b'))
      tokens.push(bToken)
      const oAuth = await memberTokenFile('team/o', dir)
      const home = makeHome()
      homes.push(home)
      cli(home, ['project', 'create', 'other'])
      const set = (args) => shown.push(cli(home, ['remote', 'set', '--password-stdin', ...args], `${ADMIN_PASSWORD}\n`))
      set([`--address=${server.address}`, '--prefix=team/o', '--project=other', ...oAuth])
      set([`--address=${other.address}`, '--prefix=team/b', `--token-file=${privateFile(dir, 'b-token', bToken)}`, '--cache-ttl=0'])
      const c = client(home)
      try {
        await c.call(`${up.url}/store`, { method: 'POST', body: { v: '' }, bodyField: { v: 'B_KEY' } })
        assert.ok(stored.includes(B_VALUE))
        await other.stop()
        const down = await rejection(c.call(`${up.url}/echo`, { bearer: 'B_KEY' }))
        assert.ok(down instanceof RemoteUnavailable, String(down))
        const res = await c.project('other').call(`${up.url}/read`, { bearer: 'O_KEY' })
        assert.equal(res.statusCode, 200)
        assertNoCanary(assert, res, B_VALUE, 'read-back of the down binding\'s value')
      } finally {
        await c.close()
      }
    } finally {
      await other.stop()
    }
  })

  it('faults: sealed, then stopped mid-run, each a typed error (the cached value is not used)', async () => {
    await putSecret(server, 'team/down/DOWN_KEY', CANARY)
    const dir = makeHome({ init: false })
    const home = boundHome('team/down', 'resolve', await memberTokenFile('team/down', dir), ['--cache-ttl=0'])
    const c = client(home)
    try {
      await c.call(`${up.url}/echo`, { bearer: 'DOWN_KEY' })
      await server.api('PUT', 'sys/seal')
      const sealed = await rejection(c.call(`${up.url}/echo`, { bearer: 'DOWN_KEY' }))
      assert.ok(sealed instanceof RemoteUnavailable && sealed.code === 'REMOTE_SEALED', String(sealed))
      await server.stop()
      const t0 = Date.now()
      const down = await rejection(c.call(`${up.url}/echo`, { bearer: 'DOWN_KEY' }))
      assert.ok(down instanceof RemoteUnavailable && down.code === 'REMOTE_UNREACHABLE', String(down))
      assert.ok(Date.now() - t0 < 5000, 'retries are bounded')
      shown.push(sealed, down)
    } finally {
      await c.close()
    }
  })

  it('no token or value in any SDK output, CLI output, engine log or audit line', () => {
    const files = homes.flatMap((h) =>
      ['proxy.log', 'remote.json', 'remote-state.json', path.join('run', 'proxy.err')].map((f) => path.join(h, f)).filter((f) => fs.existsSync(f)),
    )
    assert.ok(files.some((f) => f.endsWith('proxy.log')))
    const texts = [...files.map((f) => fs.readFileSync(f, 'utf8')), ...shown.map((s) => (typeof s === 'string' ? s : JSON.stringify(s)))]
    for (const s of shown) if (typeof s === 'object') for (const v of [CANARY, PUSHED, ...tokens]) assertNoCanary(assert, s, v, 'shown value')
    for (const t of texts) for (const v of [CANARY, PUSHED, STORED, ...tokens]) assert.ok(!t.includes(v), `a token or value is visible: ${t.slice(0, 200)}`)
  })
})
