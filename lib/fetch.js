'use strict'

// `client.fetch(input, init)`: the WHATWG fetch shape over the engine. The
// request is normalised here; the answer becomes a global `Response` whose
// body streams from the addon one chunk per pull (a slow reader slows the
// transfer), and whose `redacted` promise settles when the body ends.

const { invalid, isPlainObject, describe, checkKeys, optString, optTimeout, optSignal, dropUndefined } = require('./arguments.js')
const { secretMap, secretName } = require('./options.js')
const { AbortError, convertError } = require('../errors.js')
const { abortError } = require('./stopped.js')

/** @typedef {import('../binding').NativeCallRequest} NativeCallRequest */
/** @typedef {import('../binding').NativeFetchResponse} NativeFetchResponse */
/** @typedef {import('./options.js').CallDefaults} CallDefaults */

// Fetch options that mean nothing outside a browser; accepted and ignored so
// that code written for `fetch` runs unchanged.
const IGNORED_INIT = ['cache', 'credentials', 'mode', 'referrer', 'referrerPolicy', 'integrity', 'keepalive', 'priority', 'window', 'dispatcher']
const FETCH_INIT = ['method', 'headers', 'body', 'signal', 'redirect', 'duplex', ...IGNORED_INIT]
const INJECTION_OPTIONS = ['bearer', 'basic', 'header', 'query', 'bodyField', 'formField', 'workspace', 'project', 'agentId', 'timeoutMs']
const FETCH_OPTIONS = [...FETCH_INIT, ...INJECTION_OPTIONS]

// Set by the HTTP transport; `fetch` forbids them too, so they are dropped.
const TRANSPORT_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-connection'])

// Statuses whose response has no body (the Response constructor refuses one).
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])

/**
 * @param {unknown} input
 * @returns {{ url: string, request: Request | undefined }}
 */
function target(input) {
  if (typeof input === 'string') return { url: input, request: undefined }
  if (input instanceof URL) return { url: input.href, request: undefined }
  if (input instanceof Request) return { url: input.url, request: input }
  throw invalid(`fetch input must be a string, a URL or a Request, got ${describe(input)}`)
}

/**
 * @param {unknown} init
 * @returns {Headers}
 */
function headersOf(init) {
  try {
    return new Headers(/** @type {HeadersInit} */ (init))
  } catch (e) {
    throw invalid(`headers: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/**
 * The body as bytes. Every BodyInit `fetch` takes is accepted (string,
 * buffers, Blob, FormData, URLSearchParams, ReadableStream, async iterable);
 * its implied content type is added when none was given.
 * @param {unknown} body
 * @param {Headers} headers
 * @returns {Promise<Buffer | undefined>}
 */
async function bodyBytes(body, headers) {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  if (Buffer.isBuffer(body)) return body
  let packed
  try {
    // `duplex` is required for a stream body; Node's RequestInit type lacks it.
    packed = new Request('http://body.invalid/', /** @type {RequestInit} */ ({ method: 'POST', body: /** @type {BodyInit} */ (body), duplex: 'half' }))
  } catch (e) {
    throw invalid(`body: ${e instanceof Error ? e.message : String(e)}`)
  }
  const type = packed.headers.get('content-type')
  if (type !== null && !headers.has('content-type')) headers.set('content-type', type)
  return Buffer.from(await packed.arrayBuffer())
}

/**
 * `fetch(input, init)` → the addon's request, the signal and the method.
 * @param {unknown} input
 * @param {unknown} init
 * @param {CallDefaults} defaults
 * @returns {Promise<{ request: NativeCallRequest, signal: AbortSignal | undefined, method: string, upload: AsyncIterable<unknown> | undefined }>}
 */
async function prepareFetch(input, init, defaults) {
  const { url, request: from } = target(input)
  if (init === undefined || init === null) init = {}
  if (!isPlainObject(init)) throw invalid(`fetch init must be an object, got ${describe(init)}`)
  checkKeys(init, FETCH_OPTIONS, 'fetch')
  if (init.redirect !== undefined && init.redirect !== 'manual') {
    throw invalid(`redirect must be 'manual' (the engine never follows redirects: a redirect would carry the credential elsewhere), got ${describe(init.redirect)}`)
  }
  const method = (optString(init.method, 'method') ?? from?.method ?? 'GET').toUpperCase()
  const headers = headersOf(init.headers ?? from?.headers)
  const body = 'body' in init ? init.body : from?.body
  if ((method === 'GET' || method === 'HEAD') && body !== undefined && body !== null) {
    throw invalid(`a ${method} request cannot have a body`)
  }
  const signal = init.signal !== undefined && init.signal !== null ? optSignal(init.signal) : from?.signal
  // A stream given in `init` streams to the engine; anything else is bytes.
  const upload = 'body' in init && isStreamBody(body) ? /** @type {AsyncIterable<unknown>} */ (body) : undefined
  const bytes = upload ? undefined : await bodyBytes(body, headers)

  /** @type {import('../binding').NameValue[]} */
  const plain = []
  for (const [name, value] of headers) if (!TRANSPORT_HEADERS.has(name)) plain.push({ name, value })

  /** @type {NativeCallRequest} */
  const request = {
    url,
    method,
    headers: plain,
    body: bytes,
    bearer: secretName(init.bearer, 'bearer'),
    basic: secretName(init.basic, 'basic'),
    header: secretMap(init.header, 'header'),
    query: secretMap(init.query, 'query'),
    bodyField: secretMap(init.bodyField, 'bodyField'),
    formField: secretMap(init.formField, 'formField'),
    agentId: optString(init.agentId, 'agentId') ?? defaults.agentId,
    timeoutMs: optTimeout(init.timeoutMs) ?? defaults.timeoutMs,
    // HTTP statuses are answers, never errors: that is fetch's contract.
    throwOnHttpError: false,
    workspace: optString(init.workspace, 'workspace'),
    project: optString(init.project, 'project'),
  }
  return { request: dropUndefined(request), signal, method, upload }
}

/**
 * A ReadableStream or an async iterable (not a string or bytes).
 * @param {unknown} body
 */
function isStreamBody(body) {
  if (body instanceof ReadableStream) return true
  return typeof body === 'object' && body !== null && !ArrayBuffer.isView(body) && Symbol.asyncIterator in body
}

/**
 * One chunk of a streamed request body as bytes.
 * @param {unknown} chunk
 * @returns {Buffer}
 */
function chunkBytes(chunk) {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8')
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk)
  throw invalid(`request body chunks must be bytes or strings, got ${describe(chunk)}`)
}

/**
 * Feeds `source` into the addon's upload, one chunk at a time: each write
 * waits for room, so a slow upstream slows the producer. A failed source
 * fails the upload (the request is aborted, never sent as if complete).
 * @param {AsyncIterable<unknown>} source
 * @param {import('../binding').NativeUpload} sink
 */
async function pump(source, sink) {
  try {
    for await (const chunk of source) {
      const bytes = chunkBytes(chunk)
      if (bytes.length > 0) await sink.write(bytes)
    }
    sink.end()
  } catch {
    sink.fail()
  }
}

/** The `Response` of `client.fetch()`: a global Response plus what the engine says. */
class AgentSecretsFetchResponse extends Response {
  #url
  #backend
  #redacted
  /**
   * A small body that came whole, kept as bytes: building the platform's
   * body stream for it costs more than the rest of the call, so a stream is
   * made only if `body` is asked for.
   * @type {Uint8Array<ArrayBuffer> | null}
   */
  #whole
  /** @type {ReadableStream<Uint8Array<ArrayBuffer>> | undefined} */
  #wholeStream
  #wholeUsed = false

  /**
   * @param {ReadableStream<Uint8Array> | Buffer | null} body
   * @param {ResponseInit} init
   * @param {{ url: string, backend: string, redacted: Promise<boolean> }} meta
   */
  constructor(body, init, meta) {
    const whole = Buffer.isBuffer(body) ? /** @type {Uint8Array<ArrayBuffer>} */ (new Uint8Array(body.buffer, body.byteOffset, body.byteLength)) : null
    super(whole === null ? /** @type {ReadableStream<Uint8Array> | null} */ (body) : null, init)
    this.#whole = whole
    this.#url = meta.url
    this.#backend = meta.backend
    this.#redacted = meta.redacted
  }

  get body() {
    const whole = this.#whole
    if (whole === null) return super.body
    // Pulled only when read, which is when the body counts as used.
    this.#wholeStream ??= new ReadableStream(
      {
        pull: (controller) => {
          this.#wholeUsed = true
          if (whole.length > 0) controller.enqueue(whole)
          controller.close()
        },
      },
      { highWaterMark: 0 },
    )
    return this.#wholeStream
  }

  get bodyUsed() {
    if (this.#whole === null) return super.bodyUsed
    return this.#wholeUsed || (this.#wholeStream?.locked ?? false)
  }

  /** The whole body, once. */
  #takeWhole() {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read')
    this.#wholeUsed = true
    return /** @type {Uint8Array<ArrayBuffer>} */ (this.#whole)
  }

  async text() {
    if (this.#whole === null) return super.text()
    return new TextDecoder().decode(this.#takeWhole())
  }

  async json() {
    if (this.#whole === null) return super.json()
    return JSON.parse(await this.text())
  }

  async arrayBuffer() {
    if (this.#whole === null) return super.arrayBuffer()
    const b = this.#takeWhole()
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)
  }

  async blob() {
    if (this.#whole === null) return super.blob()
    return new Blob([this.#takeWhole()], { type: this.headers.get('content-type') ?? '' })
  }

  async formData() {
    if (this.#whole === null) return super.formData()
    return new Response(this.#takeWhole(), { headers: this.headers }).formData()
  }

  /** @returns {Response} */
  clone() {
    if (this.#whole === null) return super.clone()
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.')
    const init = { status: this.status, statusText: this.statusText, headers: this.headers }
    return new AgentSecretsFetchResponse(Buffer.from(this.#whole), init, { url: this.#url, backend: this.#backend, redacted: this.#redacted })
  }

  /** The target URL that was called. */
  get url() {
    return this.#url
  }

  /** `engine`, `upstream-proxy` or `direct`. */
  get backend() {
    return this.#backend
  }

  /**
   * Resolves, once the body has been read to its end (or at once when the
   * headers already said), to whether the engine replaced an echoed value.
   * Rejects like the body when the body fails or is cancelled.
   * @returns {Promise<boolean>}
   */
  get redacted() {
    return this.#redacted
  }
}

/**
 * The error a failed read turns into.
 * @param {unknown} e
 * @param {AbortSignal | undefined} signal
 */
function readError(e, signal) {
  const err = convertError(e)
  if (err instanceof AbortError && signal?.aborted) return abortError(signal)
  return err
}

/**
 * @param {NativeFetchResponse} native
 * @param {AbortSignal | undefined} signal
 * @param {(err?: unknown) => void} settle
 * @returns {ReadableStream<Uint8Array>}
 */
function bodyStream(native, signal, settle) {
  const onAbort = () => native.cancel()
  signal?.addEventListener('abort', onAbort, { once: true })
  /** @param {unknown} [err] */
  const done = (err) => {
    signal?.removeEventListener('abort', onAbort)
    settle(err)
  }
  return new ReadableStream(
    {
      async pull(controller) {
        try {
          // Bytes the addon read ahead come without a wait; else wait.
          const chunk = native.take() ?? (await native.read())
          if (chunk === null) {
            controller.close()
            done()
          } else {
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          }
        } catch (e) {
          const err = readError(e, signal)
          controller.error(err)
          done(err)
        }
      },
      cancel(reason) {
        native.cancel()
        done(abortError(/** @type {AbortSignal} */ ({ reason })))
      },
    },
    // One chunk read ahead of the consumer, no more.
    { highWaterMark: 1 },
  )
}

/**
 * Reads a body that must be empty (HEAD, 204, 304...) to its end.
 * @param {NativeFetchResponse} native
 */
async function drain(native) {
  for (;;) {
    const chunk = await native.read()
    if (chunk === null) return
  }
}

// What `Headers` takes as a value: Latin-1 text without NUL, CR or LF.
const HEADER_VALUE = /^[^\0\r\n\u0100-\uffff]*$/

/**
 * The answer's headers, repeated names kept apart: the pairs as they are
 * when `Headers` takes every value (the `Response` builds its own from
 * them), else a `Headers` without the values it refuses (non-Latin-1 text).
 * @param {string[]} flat name, value, name, value...
 * @returns {HeadersInit}
 */
function responseHeaders(flat) {
  /** @type {[string, string][]} */
  const list = []
  let valid = true
  for (let i = 0; i + 1 < flat.length; i += 2) {
    list.push([flat[i], flat[i + 1]])
    valid &&= HEADER_VALUE.test(flat[i + 1])
  }
  if (valid) return list
  const headers = new Headers()
  for (const [name, value] of list) {
    try {
      headers.append(name, value)
    } catch {
      // Left out.
    }
  }
  return headers
}

/**
 * The `redacted` promise and its settle function: settled at once when the
 * headers said, else when the body ends (from the trailer or the marker).
 * @param {NativeFetchResponse} native
 * @param {boolean | null | undefined} known
 * @returns {{ redacted: Promise<boolean>, settle: (err?: unknown) => void }}
 */
function redactedPromise(native, known) {
  if (known !== null && known !== undefined) return { redacted: Promise.resolve(known), settle: () => {} }
  /** @type {(v: boolean) => void} */
  let resolve = () => {}
  /** @type {(e: unknown) => void} */
  let reject = () => {}
  /** @type {Promise<boolean>} */
  const redacted = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  // Read or not, a rejection here must never be an unhandled one.
  redacted.catch(() => {})
  /** @param {unknown} [err] */
  const settle = (err) => {
    if (err === undefined) resolve(native.redacted ?? false)
    else reject(err)
  }
  return { redacted, settle }
}

/**
 * The addon's streamed answer as a global `Response`.
 * @param {NativeFetchResponse} native
 * @param {AbortSignal | undefined} signal
 * @param {string} method
 * @returns {Promise<AgentSecretsFetchResponse>}
 */
async function toResponse(native, signal, method) {
  const head = native.head()
  const status = head.status
  const headers = responseHeaders(head.headers)
  const { redacted, settle } = redactedPromise(native, head.redacted)
  /** @type {ReadableStream<Uint8Array> | Buffer | null} */
  let body = null
  const whole = head.whole
  if (whole !== null && whole !== undefined) {
    // A small answer came whole with the headers.
    if (!NULL_BODY_STATUS.has(status) && method !== 'HEAD') body = whole
    settle()
  } else if (NULL_BODY_STATUS.has(status) || method === 'HEAD') {
    try {
      await drain(native)
      settle()
    } catch (e) {
      throw readError(e, signal)
    }
  } else {
    body = bodyStream(native, signal, settle)
  }
  return new AgentSecretsFetchResponse(body, { status, headers }, { url: head.url, backend: head.backend, redacted })
}

module.exports = { prepareFetch, pump, chunkBytes, toResponse, bodyBytes, headersOf, AgentSecretsFetchResponse, NULL_BODY_STATUS }
