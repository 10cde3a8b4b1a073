// spawn / spawnAsync through the engine's `env`: masking of captured output,
// exit codes and signals, timeout and abort killing the whole tree, stdio
// pass-through of a JSON-RPC child, signals forwarded from the parent, and
// S9: no process's argv ever holds the value.

import assert from 'node:assert/strict'
import { spawn as nodeSpawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { before, describe, it } from 'node:test'
import { assertNoCanary, makeHome } from './helpers.mjs'
import { AbortError, AgentSecrets, InvalidArgument, ProjectNotFound, SecretNotFound, SpawnedProcess, TimeoutError, WorkspaceNotFound } from '../index.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CANARY = 'cnry-spawn-4b8d1e6f27'
const OTHER = 'cnry-spawn-other-93ac51'

let home
let client

before(() => {
  home = makeHome({ secrets: { KEY: CANARY, OTHER_KEY: OTHER }, allow: [] })
  client = new AgentSecrets({ home, autoStart: false })
})

function alive(pid) {
  if (process.platform !== 'linux') {
    // No /proc (macOS): ps shows the state, Z for a zombie.
    const stat = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim()
    return stat !== '' && !stat.startsWith('Z')
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // A zombie is dead; it only waits to be reaped.
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

async function until(fn, ms = 3000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (fn()) return true
    await new Promise((r) => setTimeout(r, 20))
  }
  return fn()
}

describe('spawn: capture and masking', () => {
  it('printenv KEY comes back masked; the child did get the value', async () => {
    const r = await client.spawn('printenv', ['KEY'], { capture: true })
    assert.equal(r.exitCode, 0)
    assert.equal(r.signal, null)
    assert.equal(r.stdout, '[REDACTED_BY_AGENTSECRETS]\n')
    assertNoCanary(assert, r, CANARY, 'spawn result')
    // Proof of injection without the value entering this process.
    const len = await client.spawn('sh', ['-c', 'printf %s "${#KEY}"'], { capture: true })
    assert.equal(len.stdout, String(CANARY.length))
  })

  it('masks stderr and values embedded in other text', async () => {
    const r = await client.spawn('sh', ['-c', 'echo "a=$KEY;" >&2; echo "x$OTHER_KEY"'], { capture: true })
    assertNoCanary(assert, r, CANARY, 'stderr')
    assertNoCanary(assert, r, OTHER, 'stdout')
    assert.match(r.stderr, /a=\[REDACTED_BY_AGENTSECRETS\];/)
  })

  it('only injects the names asked for', async () => {
    const r = await client.spawn('sh', ['-c', 'echo "${KEY:-unset} ${OTHER_KEY:-unset}"'], { capture: true, only: ['OTHER_KEY'] })
    assert.equal(r.stdout, 'unset [REDACTED_BY_AGENTSECRETS]\n')
    await assert.rejects(client.spawn('true', [], { only: 'MISSING' }), SecretNotFound)
  })

  it('input, env, cwd', async () => {
    const r = await client.spawn('sh', ['-c', 'cat; echo "$PLAIN"; pwd'], { capture: true, input: 'hello\n', env: { PLAIN: 'plain-1' }, cwd: '/tmp' })
    assert.equal(r.stdout, 'hello\nplain-1\n/tmp\n')
  })
})

describe('spawn: exit codes and signals', () => {
  it('passes the exit code through', async () => {
    assert.equal((await client.spawn('sh', ['-c', 'exit 7'], { capture: true })).exitCode, 7)
    assert.equal((await client.spawn('true', [], { stdio: 'ignore' })).exitCode, 0)
  })

  it('a child killed by a signal reports 128+N and the signal', async () => {
    const r = await client.spawn('sh', ['-c', 'kill -KILL $$'], { capture: true })
    assert.equal(r.exitCode, 137)
    assert.equal(r.signal, 'SIGKILL')
  })

  it('a command that exits 128+N by itself reports no signal', async () => {
    assert.deepEqual(await client.spawn('sh', ['-c', 'exit 130'], { stdio: 'ignore' }), { exitCode: 130, signal: null })
    const r = await client.spawnAsync('sh', ['-c', 'kill -TERM $$'], { stdio: 'ignore' }).wait()
    assert.deepEqual(r, { exitCode: 143, signal: 'SIGTERM' })
  })

  it('a missing command is 127', async () => {
    const r = await client.spawn('definitely-not-a-command-xyz', [], { capture: true })
    assert.equal(r.exitCode, 127)
  })

  it('typed errors for a missing workspace/project; bad options refused', async () => {
    await assert.rejects(client.spawn('true', [], { project: 'nope' }), ProjectNotFound)
    await assert.rejects(client.spawn('true', [], { workspace: 'Nope' }), WorkspaceNotFound)
    await assert.rejects(client.spawn('', []), InvalidArgument)
    await assert.rejects(client.spawn('true', 'x'), InvalidArgument)
    await assert.rejects(client.spawn('true', [], { capture: true, stdio: 'inherit' }), InvalidArgument)
    await assert.rejects(client.spawn('true', [], { bogus: 1 }), InvalidArgument)
    assert.throws(() => client.spawnAsync('true', [], { only: ['A=B'] }), InvalidArgument)
  })

  it('spawnAsync returns at once and wait() says why the engine refused, typed', async () => {
    const p = client.spawnAsync('true', [], { project: 'nope', stdio: 'ignore' })
    assert.ok(p instanceof SpawnedProcess)
    const e = await p.wait().catch((x) => x)
    assert.ok(e instanceof ProjectNotFound, String(e))
    assert.notEqual(e.result.exitCode, 0)
    const w = await client.spawnAsync('true', [], { workspace: 'Nope', stdio: 'ignore' }).wait().catch((x) => x)
    assert.ok(w instanceof WorkspaceNotFound, String(w))
    const k = await client.spawnAsync('true', [], { only: ['MISSING_KEY'], stdio: 'ignore' }).wait().catch((x) => x)
    assert.ok(k instanceof SecretNotFound, String(k))
    // A command's own failure stays a result.
    assert.deepEqual(await client.spawnAsync('sh', ['-c', 'exit 3'], { stdio: 'ignore' }).wait(), { exitCode: 3, signal: null })
  })
})

describe('spawn: timeout and abort kill the whole tree', () => {
  it('timeoutMs kills the child and its grandchild', async () => {
    const dir = fs.mkdtempSync(path.join(home, 'tree-'))
    const pidFile = path.join(dir, 'grandchild.pid')
    const started = Date.now()
    const e = await client
      .spawn('sh', ['-c', `sleep 300 & echo $! > ${pidFile}; wait`], { capture: true, timeoutMs: 500 })
      .catch((x) => x)
    assert.ok(e instanceof TimeoutError, String(e))
    assert.ok(Date.now() - started < 5000)
    assert.ok(e.result.signal || e.result.exitCode > 128, JSON.stringify(e.result))
    const gc = Number(fs.readFileSync(pidFile, 'utf8'))
    assert.ok(gc > 0)
    assert.ok(await until(() => !alive(gc)), `grandchild ${gc} still alive`)
  })

  it('a child ignoring SIGTERM is killed after the grace period', async () => {
    const e = await client.spawn('sh', ['-c', "trap '' TERM; sleep 300 & wait; sleep 300"], { capture: true, timeoutMs: 300 }).catch((x) => x)
    assert.ok(e instanceof TimeoutError)
  })

  it('an AbortSignal kills the tree', async () => {
    const ac = new AbortController()
    const p = client.spawnAsync('sh', ['-c', 'sleep 300 & wait'], { signal: ac.signal, stdio: 'ignore' })
    assert.ok(p instanceof SpawnedProcess)
    setTimeout(() => ac.abort(), 200)
    await assert.rejects(p.wait(), AbortError)
    assert.ok(await until(() => !alive(p.pid)))
    await assert.rejects(client.spawn('true', [], { signal: AbortSignal.abort() }), AbortError)
  })

  it('kill() signals the whole tree', async () => {
    const p = client.spawnAsync('sleep', ['300'], { stdio: 'ignore' })
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(p.kill('SIGTERM'), true)
    const r = await p.wait()
    assert.ok(r.exitCode === 143 || r.signal === 'SIGTERM', JSON.stringify(r))
  })
})

describe('spawnAsync: stdio pass-through', () => {
  it('a JSON-RPC echo child gets and returns bytes unchanged and promptly', async () => {
    const echo = 'process.stdin.on("data", (d) => process.stdout.write(d))'
    const p = client.spawnAsync(process.execPath, ['-e', echo], { stdio: 'pipe' })
    assert.equal(typeof p.pid, 'number')
    const lines = []
    let buf = ''
    let waiter = null
    p.stdout.on('data', (d) => {
      buf += d.toString('utf8')
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i))
        buf = buf.slice(i + 1)
        waiter?.()
      }
    })
    for (let id = 1; id <= 20; id++) {
      const msg = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { text: 'é ✓ \u0000 \\ "q"', n: id } })
      const t0 = Date.now()
      const got = new Promise((r) => (waiter = r))
      p.stdin.write(`${msg}\n`)
      await got
      // Each answer before the next request: no buffering until exit.
      assert.ok(Date.now() - t0 < 1000, `reply ${id} took ${Date.now() - t0} ms`)
      assert.equal(lines.at(-1), msg)
    }
    p.stdin.end()
    const r = await p.wait()
    assert.equal(r.exitCode, 0)
    assert.equal(lines.length, 20)
  })
})

describe('S9: the value is never in any argv', () => {
  it('while secrets.set and spawn run, no /proc/*/cmdline holds the canary', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const canary = 'cnry-s9-argv-5d7e1f3a'
    let scanning = true
    let sawEngine = false
    const hits = []
    const scan = async () => {
      while (scanning) {
        for (const pid of fs.readdirSync('/proc')) {
          if (!/^\d+$/.test(pid)) continue
          let cmd
          try {
            cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1')
          } catch {
            continue
          }
          if (cmd.includes(canary)) hits.push(cmd.replace(/\0/g, ' '))
          if (cmd.includes('agentsecrets') && (cmd.includes('set') || cmd.includes('env'))) sawEngine = true
        }
        await new Promise((r) => setImmediate(r))
      }
    }
    const scanner = scan()
    for (let i = 0; i < 10; i++) {
      await client.secrets.set('S9_KEY', `${canary}-${'x'.repeat(4096)}`)
      await client.spawn('sh', ['-c', 'sleep 0.05; printenv S9_KEY >/dev/null'], { only: 'S9_KEY', stdio: 'ignore' })
    }
    scanning = false
    await scanner
    assert.deepEqual(hits, [])
    assert.ok(sawEngine, 'the scan never saw an engine process: it proves nothing')
  })
})

describe('signals sent to the parent are forwarded', () => {
  it('SIGTERM to the Node process reaches the spawned child', async () => {
    const dir = fs.mkdtempSync(path.join(home, 'fwd-'))
    const marker = path.join(dir, 'marker')
    const script = path.join(dir, 'parent.mjs')
    fs.writeFileSync(
      script,
      `import { AgentSecrets } from ${JSON.stringify(path.join(ROOT, 'index.mjs'))}
const c = new AgentSecrets({ home: ${JSON.stringify(home)}, autoStart: false })
await c.spawn('sh', ['-c', ${JSON.stringify(`trap 'echo term > ${marker}; exit 0' TERM; echo started > ${marker}; sleep 30 & wait`)}], { stdio: 'ignore' })
`,
    )
    const parent = nodeSpawn(process.execPath, [script], { stdio: 'ignore' })
    assert.ok(await until(() => fs.existsSync(marker), 10_000), 'child never started')
    parent.kill('SIGTERM')
    const [, sig] = await new Promise((r) => parent.once('exit', (...a) => r(a)))
    assert.equal(sig, 'SIGTERM')
    assert.ok(await until(() => fs.readFileSync(marker, 'utf8').trim() === 'term'), 'the child did not get SIGTERM')
  })

  it('SIGINT to the Node process reaches the child exactly once', async () => {
    const dir = fs.mkdtempSync(path.join(home, 'int-'))
    const started = path.join(dir, 'started')
    const marker = path.join(dir, 'ints')
    const script = path.join(dir, 'parent.mjs')
    const sh = `trap 'echo int >> ${marker}' INT; echo 1 > ${started}; i=0; while [ $i -lt 15 ]; do sleep 0.1; i=$((i+1)); done`
    fs.writeFileSync(
      script,
      `import { AgentSecrets } from ${JSON.stringify(path.join(ROOT, 'index.mjs'))}
const c = new AgentSecrets({ home: ${JSON.stringify(home)}, autoStart: false })
await c.spawn('sh', ['-c', ${JSON.stringify(sh)}], { stdio: 'ignore' })
`,
    )
    const parent = nodeSpawn(process.execPath, [script], { stdio: 'ignore' })
    assert.ok(await until(() => fs.existsSync(started), 10_000), 'child never started')
    parent.kill('SIGINT')
    const [, sig] = await new Promise((r) => parent.once('exit', (...a) => r(a)))
    assert.equal(sig, 'SIGINT')
    assert.ok(await until(() => fs.existsSync(marker)), 'the child did not get SIGINT')
    // Let the child finish its loop, then count deliveries.
    await new Promise((r) => setTimeout(r, 2000))
    assert.equal(fs.readFileSync(marker, 'utf8'), 'int\n')
  })
})
