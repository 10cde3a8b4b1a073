// The README's runnable examples are files under examples/: each is shown
// after a `<!-- example: examples/NAME.mjs -->` line, and the block must be
// the file exactly, so what a reader copies is what the tests run.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
const MARKER = /^<!-- example: (\S+) -->\n```(?:js|mjs|javascript|ts)\n([\s\S]*?)^```$/gm

/** `[file, block]` for every marked block. */
function markedBlocks() {
  return [...README.matchAll(MARKER)].map((m) => [m[1], m[2]])
}

test('every marked README block is its example file, exactly', () => {
  const blocks = markedBlocks()
  assert.ok(blocks.length > 0, 'the README marks its runnable examples')
  assert.equal(blocks.length, README.split('<!-- example: ').length - 1, 'every marker is followed by a code block')
  for (const [file, block] of blocks) {
    const p = path.join(ROOT, file)
    assert.ok(fs.existsSync(p), `${file} exists`)
    assert.equal(block, fs.readFileSync(p, 'utf8'), `the README's block for ${file} is the file`)
  }
})

test('every example file but the demo is shown in the README', () => {
  const shown = new Set(markedBlocks().map(([file]) => file))
  const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.mjs') && f !== 'demo.mjs')
  for (const f of files) assert.ok(shown.has(`examples/${f}`), `examples/${f} is shown in the README`)
})
