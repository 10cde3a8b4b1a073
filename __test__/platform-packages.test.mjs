// The platforms are listed in package.json's napi.targets; the per-platform
// packages under npm/ and the SDK's list of prebuilt platforms (the one its
// "no build for your platform" error names) must say the same.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const pkg = require('../package.json')
const { PREBUILT } = require('../lib/platform.js')

/** What npm matches a platform package on, for a Rust target triple. */
function expectedFor(triple) {
  const [arch, , sys, abi] = triple.split('-')
  const cpu = { x86_64: 'x64', aarch64: 'arm64' }[arch]
  if (sys === 'linux') return { suffix: `linux-${cpu}-${abi}`, os: 'linux', cpu, libc: abi === 'gnu' ? 'glibc' : 'musl' }
  if (sys === 'darwin') return { suffix: `darwin-${cpu}`, os: 'darwin', cpu }
  if (sys === 'windows') return { suffix: `win32-${cpu}-${abi}`, os: 'win32', cpu }
  throw new Error(`unknown target ${triple}`)
}

const expected = pkg.napi.targets.map(expectedFor)

test('the SDK names exactly the platforms of napi.targets as prebuilt', () => {
  assert.deepEqual([...PREBUILT].sort(), expected.map((e) => e.suffix).sort())
})

test('npm/ holds one package per target, with the os, cpu and libc npm selects it by', () => {
  assert.deepEqual(fs.readdirSync(path.join(ROOT, 'npm')).sort(), expected.map((e) => e.suffix).sort())
  for (const e of expected) {
    const sub = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', e.suffix, 'package.json'), 'utf8'))
    assert.equal(sub.name, `${pkg.name}-${e.suffix}`)
    assert.equal(sub.version, pkg.version, `${e.suffix} is released with the package`)
    assert.deepEqual(sub.os, [e.os], e.suffix)
    assert.deepEqual(sub.cpu, [e.cpu], e.suffix)
    assert.deepEqual(sub.libc, e.libc ? [e.libc] : undefined, e.suffix)
    assert.equal(sub.main, `${pkg.napi.binaryName}.${e.suffix}.node`)
  }
})
