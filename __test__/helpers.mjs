// Shared test fixtures: temporary homes set up through the real engine CLI
// (secret values only ever on its stdin), the engine started detached, and a
// loopback upstream that records what it received.

import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export const ENGINE = process.env.AGENTSECRETS_CLI || path.join(ROOT, 'target', 'debug', 'agentsecrets')
export const ADMIN_PASSWORD = 'test-admin-password-42'

// Never touch the real ~/.agentsecrets, never probe a shared port.
const SANDBOX = fs.mkdtempSync(path.join(os.tmpdir(), 'as-sdk-test-'))
process.env.AGENTSECRETS_HOME = path.join(SANDBOX, 'default-home')
process.env.AGENTSECRETS_KEY_STORE = 'file'
process.env.AGENTSECRETS_PORT = '0'
process.env.AGENTSECRETS_CLI = ENGINE
delete process.env.AGENTSECRETS_WORKSPACE
delete process.env.AGENTSECRETS_PROJECT

const started = new Set()

/** A new directory in this run's sandbox, removed with it when the process exits. */
export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(SANDBOX, prefix))
}

export function engineEnv(home) {
  return { ...process.env, AGENTSECRETS_HOME: home, AGENTSECRETS_KEY_STORE: 'file', AGENTSECRETS_PORT: '0' }
}

/** Runs the engine CLI; `input` goes to its stdin. Returns stdout. */
export function cli(home, args, input) {
  const r = spawnSync(ENGINE, args, { env: engineEnv(home), input: input ?? '', encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`agentsecrets ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/**
 * A fresh initialised home. `secrets` maps names to values (stored via stdin),
 * `allow` lists hosts for the allowlist (added through the admin-password path).
 */
export function makeHome({ secrets = {}, allow = ['127.0.0.1'], init = true } = {}) {
  const home = tempDir('home-')
  if (!init) return home
  cli(home, ['init', '--admin-password-stdin'], `${ADMIN_PASSWORD}\n`)
  for (const [k, v] of Object.entries(secrets)) cli(home, ['secrets', 'set', k], v)
  for (const host of allow) cli(home, ['workspace', 'allowlist', 'add', host, '--password-stdin'], `${ADMIN_PASSWORD}\n`)
  return home
}

/** Starts the engine for `home`; returns its Ready line. */
export function startEngine(home) {
  const out = cli(home, ['--json', 'proxy', 'start', '--detach', '--port', '0'])
  started.add(home)
  return JSON.parse(out)
}

/** Kills the engine of `ready` with SIGKILL (its run files stay behind) and waits until its port is free. */
export async function killEngine(ready) {
  process.kill(ready.pid, 'SIGKILL')
  for (let i = 0; i < 500; i++) {
    const free = await new Promise((resolve) => {
      const probe = net.createServer()
      probe.once('error', () => resolve(false))
      probe.listen(ready.port, '127.0.0.1', () => probe.close(() => resolve(true)))
    })
    if (free) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`the engine's port ${ready.port} stayed busy after SIGKILL`)
}

export function stopEngine(home) {
  try {
    execFileSync(ENGINE, ['proxy', 'stop'], { env: engineEnv(home), stdio: 'ignore' })
  } catch {
    // Already stopped.
  }
  started.delete(home)
}

/** Stops every engine a test started, and any started by auto-start in the sandbox. */
export function stopAll() {
  for (const dir of fs.readdirSync(SANDBOX)) {
    const home = path.join(SANDBOX, dir)
    if (fs.existsSync(path.join(home, 'run', 'proxy.pid'))) stopEngine(home)
  }
}

// The sandbox goes with the process: a run leaves no homes (some hold a
// copy of the engine) behind in the temp directory.
process.on('exit', () => {
  try {
    stopAll()
  } catch {
    // Best effort at exit.
  }
  fs.rmSync(SANDBOX, { recursive: true, force: true })
})

/**
 * A loopback upstream recording every request. `handler(req, res, record)`
 * may answer; the default echoes the request as JSON. `port` 0 picks a free
 * one; listening on a taken port rejects.
 */
export async function startUpstream(handler, { port: wanted = 0 } = {}) {
  const requests = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const record = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      requests.push(record)
      if (handler && handler(req, res, record) !== false) return
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ ok: true, path: req.url }))
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(wanted, '127.0.0.1', resolve)
  })
  const { port } = server.address()
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}

/** Every string reachable from `value`: own properties (enumerable or not), causes, stacks, JSON. */
export function visibleStrings(value, seen = new Set()) {
  const out = []
  const walk = (v) => {
    if (v === null || v === undefined) return
    if (typeof v === 'string') return void out.push(v)
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return void out.push(String(v))
    if (typeof v === 'function' || typeof v === 'symbol') return
    if (seen.has(v)) return
    seen.add(v)
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) return void out.push(Buffer.from(v).toString('latin1'))
    for (const key of Reflect.ownKeys(v)) {
      if (typeof key === 'string') out.push(key)
      const d = Object.getOwnPropertyDescriptor(v, key)
      if (d && 'value' in d) walk(d.value)
      else if (d && d.get) {
        try {
          walk(d.get.call(v))
        } catch {
          // Accessors that throw reveal nothing.
        }
      }
    }
    if (v instanceof Error) {
      out.push(String(v.message), String(v.stack), String(v))
      walk(v.cause)
    }
    // Prototype getters (e.g. response.body) and toJSON.
    let proto = Object.getPrototypeOf(v)
    while (proto && proto !== Object.prototype && proto !== Error.prototype) {
      for (const key of Object.getOwnPropertyNames(proto)) {
        const d = Object.getOwnPropertyDescriptor(proto, key)
        if (d?.get) {
          try {
            walk(d.get.call(v))
          } catch {
            // ignore
          }
        }
      }
      proto = Object.getPrototypeOf(proto)
    }
    try {
      const j = JSON.stringify(v)
      if (j) out.push(j)
    } catch {
      // Not serialisable: its parts were walked.
    }
    for (const m of ['text', 'bytes']) {
      if (typeof v[m] === 'function' && v.constructor?.name === 'AgentSecretsResponse') walk(v[m]())
    }
  }
  walk(value)
  return out
}

/** The canary and the encoded forms an echo could take. */
export function canaryForms(canary) {
  return [
    canary,
    Buffer.from(canary).toString('base64'),
    Buffer.from(canary).toString('base64url'),
    encodeURIComponent(canary),
    JSON.stringify(canary).slice(1, -1),
  ]
}

export function assertNoCanary(assert, value, canary, what) {
  const strings = visibleStrings(value)
  for (const form of canaryForms(canary)) {
    for (const s of strings) {
      assert.ok(!s.includes(form), `${what}: the secret value (form ${JSON.stringify(form)}) is visible: ${s.slice(0, 200)}`)
    }
  }
}

/**
 * Asserts that `listener` (a startUpstream record) received at most `/health`
 * probes: no `/proxy` request, no other path, and none of `secrets` (tokens)
 * in any URL, header or body.
 */
export function assertOnlyProbed(assert, listener, secrets, what) {
  for (const r of listener.requests) {
    assert.equal(new URL(r.url, 'http://x').pathname, '/health', `${what}: ${r.method} ${r.url} reached the listener`)
    assert.equal(r.body, '', `${what}: a probe carried a body`)
    const seen = [r.url, r.body, ...r.rawHeaders].join('\n')
    for (const s of secrets) assert.ok(!seen.includes(s), `${what}: the token reached the listener`)
    assert.equal(r.headers['x-as-token'], undefined, `${what}: a probe carried X-AS-Token`)
  }
}

/** The error `promise` rejects with; fails the test if it resolves. */
export async function rejection(promise) {
  return promise.then(
    (r) => assert.fail(`expected a rejection, got ${r?.statusCode === undefined ? 'a result' : `status ${r.statusCode}`}`),
    (e) => e,
  )
}
