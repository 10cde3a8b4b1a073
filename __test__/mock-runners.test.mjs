// MockAgentSecrets works under node --test, vitest and jest with no setup:
// each runner runs its example in __test__/runners/<runner>/ as a child
// process, and must report it passed.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const RUNNERS = path.join(ROOT, '__test__', 'runners')
const TIMEOUT_MS = 30_000

function run(args) {
  return new Promise((resolve) => {
    const env = { ...process.env, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' }
    // Set by an enclosing `node --test`; the child runner must not inherit it.
    delete env.NODE_TEST_CONTEXT
    execFile(process.execPath, args, { cwd: ROOT, env, timeout: TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, output: `${stdout}\n${stderr}` })
    })
  })
}

describe('MockAgentSecrets under each test runner', { timeout: 3 * TIMEOUT_MS }, () => {
  it('node --test runs the example and it passes', async () => {
    const r = await run(['--test', path.join(RUNNERS, 'node', 'mock.spec.mjs')])
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /# pass 1\b/)
    assert.match(r.output, /# fail 0\b/)
  })

  it('vitest runs the example and it passes', async () => {
    const r = await run([path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', path.join(RUNNERS, 'vitest')])
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /Tests\s+1 passed/)
  })

  it('jest runs the example and it passes', async () => {
    const r = await run([path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--rootDir', path.join(RUNNERS, 'jest'), '--ci'])
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /Tests:\s+1 passed, 1 total/)
  })
})
