// Runs the README's "Streaming and fetch" examples as they are written,
// against the real engine and a loopback upstream imitating the APIs they
// call, and checks that the README shows each file exactly.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { engineEnv, makeHome, startEngine, startUpstream, stopEngine, tempDir } from './helpers.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const S = { OPENAI_KEY: 'sk-cnry-example-4Vd9', UPLOAD_KEY: 'cnry-upload-7Ye2' }
const WORDS = ['Hel', 'lo', '!']

let up
let home

before(async () => {
  up = await startUpstream((req, res, rec) => {
    if (req.url === '/v1/chat/completions') {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (const w of WORDS) res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })}\n\n`)
      res.end('data: [DONE]\n\n')
      return
    }
    if (req.url === '/v1/models') {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'm1' }, { id: 'm2' }] }))
      return
    }
    if (req.url === '/v1/files') {
      res.end(`stored ${Buffer.byteLength(rec.body)} bytes`)
      return
    }
    return false
  })
  home = makeHome({ secrets: S })
  startEngine(home)
})

after(async () => {
  stopEngine(home)
  await up.close()
})

async function run(file, extraEnv) {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'examples', file)], {
    env: { ...engineEnv(home), OPENAI_BASE_URL: `${up.url}/v1`, ...extraEnv },
    timeout: 60_000,
  })
  return stdout
}

describe('README "Streaming and fetch" examples', () => {
  it('examples/fetch-stream.mjs prints the streamed answer', async () => {
    const out = await run('fetch-stream.mjs')
    assert.equal(out, `${WORDS.join('')}\nredacted: false\n`)
    assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${S.OPENAI_KEY}`)
  })

  it('examples/fetch-openai-sdk.mjs streams through the unmodified OpenAI SDK', async () => {
    const out = await run('fetch-openai-sdk.mjs')
    assert.equal(out, `${WORDS.join('')}\n`)
    assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${S.OPENAI_KEY}`)
  })

  it('examples/fetch-upload.mjs streams a file', async () => {
    const file = path.join(tempDir('upload-'), 'backup.tar.gz')
    fs.writeFileSync(file, Buffer.alloc(3 << 20, 7))
    const out = await run('fetch-upload.mjs', { UPLOAD_URL: `${up.url}/v1/files`, UPLOAD_FILE: file })
    assert.equal(out, `200 stored ${3 << 20} bytes\n`)
    assert.equal(up.requests.at(-1).headers['x-api-key'], S.UPLOAD_KEY)
  })

  it('examples/fetch-global.mjs injects through the global fetch', async () => {
    const out = await run('fetch-global.mjs')
    assert.equal(out, '200 2 models\n')
    assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${S.OPENAI_KEY}`)
  })

  it('the README shows each example file exactly', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    for (const file of ['fetch-stream.mjs', 'fetch-openai-sdk.mjs', 'fetch-upload.mjs', 'fetch-global.mjs']) {
      const marker = `<!-- example: examples/${file} -->\n\`\`\`js\n`
      const at = readme.indexOf(marker)
      assert.ok(at >= 0, `README has no block for ${file}`)
      const start = at + marker.length
      const block = readme.slice(start, readme.indexOf('```\n', start))
      assert.equal(block, fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'), file)
    }
  })
})
