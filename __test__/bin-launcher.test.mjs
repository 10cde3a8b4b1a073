// The `agentsecrets` bin (bin/agentsecrets.js): same argv, stdio and exit
// code as the engine, signals forwarded, death by the engine's signal, and a
// one-paragraph message (no stack trace) when there is no engine.

import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin', 'agentsecrets.js')
const require = createRequire(import.meta.url)
const { noEngineMessage } = require('../lib/platform.js')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'as-bin-test-'))
const FAKE = path.join(dir, 'fake-engine')
fs.writeFileSync(
  FAKE,
  `#!/bin/sh
printf 'args:'; for a in "$@"; do printf '[%s]' "$a"; done; echo
case "$1" in
  exit) exit "$2" ;;
  sleep) echo ready; exec sleep 30 ;;
  trap) trap 'echo "got $2"; exit 3' "$2"; echo ready; while :; do sleep 0.02; done ;;
  count) n=0; trap 'n=$((n+1))' "$2"; echo ready; while [ "$n" -eq 0 ]; do sleep 0.02; done; sleep 0.5; echo "total $n"; exit 3 ;;
esac
`,
  { mode: 0o755 },
)
const env = { ...process.env, AGENTSECRETS_CLI: FAKE }

after(() => fs.rmSync(dir, { recursive: true, force: true }))

/** Starts the launcher on the fake engine; resolves once the engine says ready. */
function launch(args) {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      out += c
      if (out.includes('ready\n')) resolve()
    })
    child.on('exit', () => reject(new Error(`exited before ready: ${out}`)))
  })
  const done = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out: () => out })))
  return { child, ready, done }
}

test('argv, stdout and the exit code are the engine\'s', () => {
  const r = spawnSync(process.execPath, [BIN, 'exit', '7', 'a b', ''], { env, encoding: 'utf8' })
  assert.equal(r.stdout, 'args:[exit][7][a b][]\n')
  assert.equal(r.status, 7)
})

test('the engine dying of SIGTERM makes the launcher die of SIGTERM', async () => {
  const l = launch(['sleep'])
  await l.ready
  l.child.kill('SIGTERM')
  const { code, signal } = await l.done
  assert.equal(code, null)
  assert.equal(signal, 'SIGTERM')
})

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']) {
  test(`${sig} sent to the launcher reaches the engine`, async () => {
    const l = launch(['trap', sig.slice(3)])
    await l.ready
    l.child.kill(sig)
    const { code, out } = await l.done
    assert.match(out(), new RegExp(`got ${sig.slice(3)}`))
    assert.equal(code, 3)
  })
}

// Under a terminal, Ctrl-C reaches the launcher and the engine (one process
// group); the launcher must not add a second SIGINT of its own.
for (const [key, sig] of [['\x03', 'INT'], ['\x1c', 'QUIT']]) {
  test(`SIG${sig} typed on a terminal reaches the engine once`, { skip: !hasScript() && 'no script(1) to make a terminal' }, async () => {
    const cmd = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} count ${sig}`
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c) => {
      if (!out.includes('ready') && (out + c).includes('ready')) child.stdin.write(key)
      out += c
    })
    const code = await new Promise((resolve) => child.on('exit', resolve))
    child.stdin.destroy()
    assert.match(out, /total 1\b/, out)
    assert.equal(code, 3)
  })
}

function hasScript() {
  return spawnSync('script', ['--version']).status === 0
}

test('a bad AGENTSECRETS_CLI gives one line and exit 1, no stack trace', () => {
  const r = spawnSync(process.execPath, [BIN, '--version'], { env: { ...env, AGENTSECRETS_CLI: path.join(dir, 'nope') }, encoding: 'utf8' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /AGENTSECRETS_CLI is set to .*nope, which is not an executable file/)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
})

/** The launcher and its lookup alone, outside the checkout: no platform package, no target/. */
function launcherAlone() {
  const pkg = path.join(dir, 'pkg')
  fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true })
  fs.mkdirSync(path.join(pkg, 'lib'), { recursive: true })
  fs.copyFileSync(BIN, path.join(pkg, 'bin', 'agentsecrets.js'))
  fs.copyFileSync(path.join(ROOT, 'lib', 'platform.js'), path.join(pkg, 'lib', 'platform.js'))
  return path.join(pkg, 'bin', 'agentsecrets.js')
}

function withoutCli() {
  const clean = { ...process.env }
  delete clean.AGENTSECRETS_CLI
  return clean
}

test('no engine installed: one paragraph naming the platform package, exit 1, no stack trace', () => {
  const r = spawnSync(process.execPath, [launcherAlone(), 'init'], { env: withoutCli(), encoding: 'utf8' })
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr.trim().split('\n').length, 1)
  assert.match(r.stderr, /@the-17\/agentsecrets-linux-x64-gnu/)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
})

test('on Windows the launcher says the engine does not run there and what to use, exit 1', () => {
  // process.platform faked before the launcher loads: the Windows code path of lib/platform.js.
  const fake = path.join(dir, 'fake-win32.cjs')
  fs.writeFileSync(fake, "Object.defineProperty(process, 'platform', { value: 'win32' })\n")
  const r = spawnSync(process.execPath, ['--require', fake, launcherAlone(), 'init'], { env: withoutCli(), encoding: 'utf8' })
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr.trim().split('\n').length, 1)
  assert.match(r.stderr, /engine does not run on Windows yet/)
  assert.match(r.stderr, /WSL 2/)
  assert.match(r.stderr, /backend: 'upstream-proxy'/)
  assert.match(r.stderr, /MockAgentSecrets from @the-17\/agentsecrets\/testing/)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
})

test('Windows and unsupported platforms get a message saying what is supported and what to do', () => {
  const win = noEngineMessage({ platform: 'win32', arch: 'x64', suffix: 'win32-x64-msvc' })
  assert.match(win, /engine does not run on Windows yet/)
  assert.match(win, /WSL 2/)
  // Without the addon, the Windows message also says what is prebuilt.
  const noAddon = noEngineMessage({ platform: 'win32', arch: 'arm64', suffix: 'win32-arm64-msvc', what: 'Node addon' })
  assert.match(noAddon, /win32-arm64-msvc/)
  assert.match(noAddon, /linux-x64-gnu/)
  assert.match(noAddon, /engine itself does not run on Windows yet/)
  const bsd = noEngineMessage({ platform: 'freebsd', arch: 'x64', suffix: 'freebsd-x64' })
  assert.match(bsd, /no prebuilt build for freebsd-x64/)
  assert.match(bsd, /linux-arm64-musl/)
  assert.match(bsd, /darwin-arm64/)
  assert.match(bsd, /build from source/)
  const mac = noEngineMessage({ platform: 'darwin', arch: 'arm64', suffix: 'darwin-arm64' })
  assert.match(mac, /optional dependency @the-17\/agentsecrets-darwin-arm64/)
  for (const m of [win, noAddon, bsd, mac]) assert.ok(!m.includes('\n'), 'one paragraph')
})
