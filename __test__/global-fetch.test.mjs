// installGlobalFetch(): code that calls the global `fetch` gets placeholders
// too. A request with a placeholder in its URL or headers goes through the
// real engine (injected, answer scanned); any other request reaches the
// previous global fetch untouched; restoring puts that fetch back.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertNoCanary, makeHome, rejection, startEngine, startUpstream, stopEngine } from './helpers.mjs'
import { AgentSecrets, InvalidArgument, PlaceholderNotInjectable, installGlobalFetch, secretRef } from '../index.mjs'

const VALUE = 'cnry-global-fetch-8Jd3'

let up
let home
let client

before(async () => {
  // Echoes each request, so the engine has something to redact.
  up = await startUpstream((req, res, rec) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(rec))
  })
  home = makeHome({ secrets: { API_KEY: VALUE } })
  startEngine(home)
  client = new AgentSecrets({ home, autoStart: false })
})

after(async () => {
  await client.close()
  stopEngine(home)
  await up.close()
})

/** Runs `fn` with a recording fetch installed under installGlobalFetch(). */
async function withGlobalFetch(fn) {
  const original = globalThis.fetch
  const passed = []
  globalThis.fetch = async (input, init) => {
    passed.push(String(input instanceof Request ? input.url : input))
    return original(input, init)
  }
  const recorder = globalThis.fetch
  const restore = installGlobalFetch(client)
  try {
    await fn(passed)
  } finally {
    restore()
    assert.equal(globalThis.fetch, recorder, 'restore() puts the previous fetch back')
    globalThis.fetch = original
  }
}

describe('installGlobalFetch()', () => {
  it('injects a placeholder sent through the global fetch, and scans the answer', async () => {
    await withGlobalFetch(async (passed) => {
      const res = await fetch(`${up.url}/v1/a`, { headers: { Authorization: `Bearer ${secretRef('API_KEY')}` } })
      assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${VALUE}`)
      const body = await res.json()
      assert.equal(await res.redacted, true)
      assertNoCanary(assert, [res, body], VALUE, 'global fetch echo')
      assert.deepEqual(passed, [], 'not handed to the previous fetch')
    })
  })

  it('hands a request without a placeholder to the previous fetch, body unread', async () => {
    await withGlobalFetch(async (passed) => {
      const body = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('streamed'))
          c.close()
        },
      })
      const res = await fetch(`${up.url}/plain`, { method: 'POST', body, duplex: 'half' })
      assert.equal(res.status, 200)
      assert.equal(res.redacted, undefined, 'a plain Response from the previous fetch')
      assert.deepEqual(passed, [`${up.url}/plain`])
      assert.equal(up.requests.at(-1).body, 'streamed')
    })
  })

  it('fails closed on a misplaced placeholder before anything is sent', async () => {
    await withGlobalFetch(async (passed) => {
      const count = up.requests.length
      assert.ok((await rejection(fetch(`${up.url}/${secretRef('API_KEY')}`))) instanceof PlaceholderNotInjectable)
      const cookie = { headers: { cookie: `k=${secretRef('API_KEY')}` } }
      assert.ok((await rejection(fetch(`${up.url}/x`, cookie))) instanceof PlaceholderNotInjectable)
      assert.equal(up.requests.length, count)
      assert.deepEqual(passed, [])
    })
  })

  it('checks its arguments', () => {
    assert.throws(() => installGlobalFetch(/** @type {any} */ ({})), InvalidArgument)
    assert.throws(() => installGlobalFetch(client, /** @type {any} */ ({ requirePlaceholder: true })), InvalidArgument)
    assert.throws(() => installGlobalFetch(client, /** @type {any} */ ('x')), InvalidArgument)
  })
})
