// Real SDKs, unmodified, with `fetch: createFetch(client)`: `openai` and
// `@anthropic-ai/sdk` against a loopback upstream speaking their wire
// formats, through the real engine. Asserts what the upstream received, that
// streamed answers arrive chunk by chunk as sent (each chunk is only sent
// after the previous one reached the SDK's caller), and that no value
// reaches JS.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { assertNoCanary, makeHome, startEngine, startUpstream, stopEngine } from './helpers.mjs'
import { AgentSecrets, createFetch, secretRef } from '../index.mjs'

const S = { OPENAI_KEY: 'sk-cnry-openai-5Hs8Kd2', ANTHROPIC_KEY: 'sk-ant-cnry-7Pq3Lm1' }
const WORDS = ['Hel', 'lo', ', ', 'wor', 'ld']

let up
let home
let client
/** Per-stream: resolvers the upstream waits on before sending the next event. */
const delivered = []
const sent = []

/** Waits until the test saw event `i` (or 2 s, so a buffering bug fails on the assertions, not a hang). */
function seenByCaller(i) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 2000)
    delivered[i] = () => {
      clearTimeout(t)
      resolve()
    }
  })
}

async function sse(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  sent.length = 0
  for (let i = 0; i < events.length; i++) {
    const [event, data] = events[i]
    res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`)
    sent.push(performance.now())
    if (i < events.length - 1) await seenByCaller(i)
  }
  res.end()
}

function openaiChunk(i) {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta: { content: WORDS[i] }, finish_reason: null }] }
}

before(async () => {
  up = await startUpstream((req, res, rec) => {
    const body = rec.body ? JSON.parse(rec.body) : {}
    if (req.url === '/v1/chat/completions' && !body.stream) {
      res.setHeader('content-type', 'application/json')
      // Echoes the credential it got: the engine must redact it.
      const content = `you sent ${req.headers.authorization}`
      res.end(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }))
      return
    }
    if (req.url === '/v1/chat/completions') {
      void sse(res, [...WORDS.map((_, i) => [null, openaiChunk(i)]), [null, '[DONE]']])
      return
    }
    if (req.url === '/v1/messages' && !body.stream) {
      res.setHeader('content-type', 'application/json')
      const text = `key was ${req.headers['x-api-key'] ?? req.headers.authorization}`
      res.end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: body.model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 4 } }))
      return
    }
    if (req.url === '/v1/messages') {
      const message = { id: 'msg_1', type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 0 } }
      void sse(res, [
        ['message_start', { type: 'message_start', message }],
        ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
        ...WORDS.map((w) => ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } }]),
        ['content_block_stop', { type: 'content_block_stop', index: 0 }],
        ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } }],
        ['message_stop', { type: 'message_stop' }],
      ])
      return
    }
    res.writeHead(404)
    res.end()
  })
  home = makeHome({ secrets: S })
  startEngine(home)
  client = new AgentSecrets({ home, autoStart: false })
})

after(async () => {
  await client.close()
  stopEngine(home)
  await up.close()
})

describe('openai with createFetch()', () => {
  const openai = () => new OpenAI({ apiKey: secretRef('OPENAI_KEY'), baseURL: `${up.url}/v1`, fetch: createFetch(client), maxRetries: 0 })

  it('a chat completion: the upstream gets the Bearer value, JS only the redacted echo', async () => {
    const completion = await openai().chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
    const rec = up.requests.at(-1)
    assert.equal(rec.headers.authorization, `Bearer ${S.OPENAI_KEY}`)
    assert.equal(JSON.parse(rec.body).messages[0].content, 'hi')
    assert.equal(completion.choices[0].message.content, 'you sent Bearer [REDACTED_BY_AGENTSECRETS]')
    assertNoCanary(assert, completion, S.OPENAI_KEY, 'openai completion')
  })

  it('a streamed chat completion: each chunk reaches the caller before the next is sent', async () => {
    const stream = await openai().chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true })
    const got = []
    const at = []
    for await (const chunk of stream) {
      at.push(performance.now())
      got.push(chunk.choices[0].delta.content)
      delivered[got.length - 1]?.()
      assertNoCanary(assert, chunk, S.OPENAI_KEY, 'openai chunk')
    }
    assert.deepEqual(got, WORDS)
    assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${S.OPENAI_KEY}`)
    assertInStep(at)
  })
})

describe('@anthropic-ai/sdk with createFetch()', () => {
  const anthropic = () => new Anthropic({ apiKey: secretRef('ANTHROPIC_KEY'), baseURL: up.url, fetch: createFetch(client), maxRetries: 0 })

  // Older versions send the key as x-api-key, 1.x as Authorization: Bearer.
  const sentKey = (rec) => rec.headers['x-api-key'] ?? rec.headers.authorization?.replace(/^Bearer /, '')

  it('a message: the upstream gets the key, JS only the redacted echo', async () => {
    const msg = await anthropic().messages.create({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
    assert.equal(sentKey(up.requests.at(-1)), S.ANTHROPIC_KEY)
    assert.match(msg.content[0].text, /^key was (Bearer )?\[REDACTED_BY_AGENTSECRETS\]$/)
    assertNoCanary(assert, msg, S.ANTHROPIC_KEY, 'anthropic message')
  })

  it('a streamed message: text deltas arrive one by one as sent', async () => {
    const stream = await anthropic().messages.create({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], stream: true })
    const text = []
    const at = []
    let n = 0
    for await (const event of stream) {
      at.push(performance.now())
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text.push(event.delta.text)
      delivered[n++]?.()
      assertNoCanary(assert, event, S.ANTHROPIC_KEY, 'anthropic event')
    }
    assert.deepEqual(text, WORDS)
    assert.equal(sentKey(up.requests.at(-1)), S.ANTHROPIC_KEY)
    assertInStep(at)
  })
})

/**
 * Each event was received after it was sent and before the next was sent:
 * nothing was held back and released in a batch.
 * @param {number[]} at
 */
function assertInStep(at) {
  for (let i = 0; i < at.length; i++) {
    assert.ok(at[i] >= sent[i], `chunk ${i} received before it was sent?`)
    if (i + 1 < sent.length) assert.ok(at[i] < sent[i + 1], `chunk ${i} reached the caller only after chunk ${i + 1} was sent (buffered)`)
  }
}
