'use strict'

// Checks and normalises the options of `new AgentSecrets()` and `call()`
// into the plain shapes the addon takes. Anything wrong is an
// InvalidArgument thrown before a byte is sent.

const { invalid, isPlainObject, describe, checkKeys, optString, optBool, optTimeout, optSignal, dropUndefined } = require('./arguments.js')

/** @typedef {import('../binding').NameValue} NameValue */
/** @typedef {import('../binding').NativeCallRequest} NativeCallRequest */
/** @typedef {import('../binding').NativeClientOptions} NativeClientOptions */
/**
 * Client options that become the defaults of each call.
 * @typedef {{ agentId?: string, timeoutMs?: number, throwOnHttpError?: boolean, maxResponseBytes?: number }} CallDefaults
 */

const CLIENT_OPTIONS = ['port', 'backend', 'workspace', 'project', 'autoStart', 'home', 'cli', 'agentId', 'timeoutMs', 'throwOnHttpError', 'maxResponseBytes']

const CALL_OPTIONS = [
  'method',
  'body',
  'headers',
  'bearer',
  'basic',
  'header',
  'query',
  'bodyField',
  'formField',
  'agentId',
  'timeoutMs',
  'signal',
  'throwOnHttpError',
  'workspace',
  'project',
  'maxResponseBytes',
]

/** Upper bound of `maxResponseBytes`: 4 GiB. */
const MAX_RESPONSE_BYTES = 2 ** 32

/**
 * @param {unknown} v
 * @returns {number | undefined}
 */
function optResponseLimit(v) {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_RESPONSE_BYTES) {
    throw invalid(`maxResponseBytes must be an integer number of bytes from 1 to ${MAX_RESPONSE_BYTES} (4 GiB), got ${typeof v === 'number' ? v : describe(v)}`)
  }
  return v
}

/**
 * `{ name: secretName }` → `[{ name, value }]`, checking every secret name is a string.
 * @param {unknown} v
 * @param {string} option
 * @returns {NameValue[] | undefined}
 */
function secretMap(v, option) {
  if (v === undefined) return undefined
  if (!isPlainObject(v)) throw invalid(`${option} must be an object mapping names to secret names, got ${describe(v)}`)
  const out = []
  for (const [name, secret] of Object.entries(v)) {
    if (typeof secret !== 'string') {
      throw invalid(`the secret name for ${option} '${name}' must be a string (a secret's NAME, never its value), got ${describe(secret)}`)
    }
    out.push({ name, value: secret })
  }
  return out
}

/**
 * @param {unknown} v
 * @param {string} option
 * @returns {string | undefined}
 */
function secretName(v, option) {
  if (v === undefined) return undefined
  if (typeof v !== 'string') {
    throw invalid(`${option} must be a secret's name (a string), got ${describe(v)}`)
  }
  return v
}

/**
 * Plain headers: object, Headers, Map or [name, value] pairs.
 * @param {unknown} v
 * @returns {NameValue[]}
 */
function plainHeaders(v) {
  if (v === undefined) return []
  /** @type {unknown[]} */
  let entries
  if (isPlainObject(v)) entries = Object.entries(v)
  else if (v instanceof Map) entries = [...v.entries()]
  else if (v instanceof Headers) entries = [...v.entries()]
  else if (Array.isArray(v)) entries = v
  else throw invalid(`headers must be an object, a Headers or [name, value] pairs, got ${describe(v)}`)
  const out = []
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2) throw invalid('headers pairs must be [name, value]')
    const [name, value] = entry
    if (typeof name !== 'string') throw invalid(`header names must be strings, got ${describe(name)}`)
    if (value === undefined) continue
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw invalid(`the value of header '${name}' must be a string, got ${describe(value)}`)
    }
    out.push({ name, value: String(value) })
  }
  return out
}

/**
 * @param {NameValue[]} headers
 * @param {string} name
 */
function hasHeader(headers, name) {
  const lower = name.toLowerCase()
  return headers.some((h) => h.name.toLowerCase() === lower)
}

/** @typedef {{ bytes: Buffer | undefined, type: string | undefined }} EncodedBody */

/**
 * A plain object as a urlencoded form (for `formField` calls).
 * @param {Record<string, unknown>} body
 * @returns {EncodedBody}
 */
function encodeForm(body) {
  const form = new URLSearchParams()
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined) continue
    if (v === null || typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol') {
      throw invalid(`with formField, body field '${k}' must be a string, number or boolean, got ${describe(v)}`)
    }
    form.append(k, String(v))
  }
  return { bytes: Buffer.from(form.toString(), 'utf8'), type: 'application/x-www-form-urlencoded' }
}

/**
 * The request body as bytes, and the content type it implies.
 * @param {unknown} body
 * @param {boolean} [asForm]
 * @returns {EncodedBody}
 */
function encodeBody(body, asForm = false) {
  if (body === undefined || body === null) return { bytes: undefined, type: undefined }
  if (asForm && isPlainObject(body)) return encodeForm(body)
  if (typeof body === 'string') return { bytes: Buffer.from(body, 'utf8'), type: undefined }
  if (Buffer.isBuffer(body)) return { bytes: body, type: undefined }
  if (ArrayBuffer.isView(body)) {
    return { bytes: Buffer.from(body.buffer, body.byteOffset, body.byteLength), type: undefined }
  }
  if (body instanceof ArrayBuffer) return { bytes: Buffer.from(body), type: undefined }
  if (body instanceof URLSearchParams) {
    return { bytes: Buffer.from(body.toString(), 'utf8'), type: 'application/x-www-form-urlencoded' }
  }
  if (isPlainObject(body) || Array.isArray(body)) {
    let json
    try {
      json = JSON.stringify(body)
    } catch (e) {
      throw invalid(`body cannot be serialised as JSON: ${e instanceof Error ? e.message : String(e)}`)
    }
    if (typeof json !== 'string') throw invalid('body cannot be serialised as JSON')
    return { bytes: Buffer.from(json, 'utf8'), type: 'application/json' }
  }
  throw invalid(`body must be an object, an array, a string, a Buffer, a Uint8Array, an ArrayBuffer or URLSearchParams, got ${describe(body)}`)
}

/**
 * Client options → the addon's options plus call defaults.
 * @param {unknown} options
 * @returns {{ native: NativeClientOptions, defaults: CallDefaults }}
 */
function normalizeClientOptions(options) {
  if (options === undefined || options === null) options = {}
  if (!isPlainObject(options)) throw invalid(`AgentSecrets options must be an object, got ${describe(options)}`)
  checkKeys(options, CLIENT_OPTIONS, 'AgentSecrets')
  const { port } = options
  if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)) {
    throw invalid('port must be an integer between 0 and 65535')
  }
  return {
    native: {
      port,
      workspace: optString(options.workspace, 'workspace'),
      project: optString(options.project, 'project'),
      autoStart: optBool(options.autoStart, 'autoStart'),
      home: optString(options.home, 'home'),
      cli: optString(options.cli, 'cli'),
      // Its values are checked by the addon, with AGENTSECRETS_BACKEND.
      backend: optString(options.backend, 'backend'),
    },
    defaults: {
      agentId: optString(options.agentId, 'agentId'),
      timeoutMs: optTimeout(options.timeoutMs),
      throwOnHttpError: optBool(options.throwOnHttpError, 'throwOnHttpError'),
      maxResponseBytes: optResponseLimit(options.maxResponseBytes),
    },
  }
}

/**
 * `call(url, options)` → the addon's request and the abort signal.
 * @param {unknown} url
 * @param {unknown} options
 * @param {CallDefaults} [defaults]
 * @returns {{ request: NativeCallRequest, signal: AbortSignal | undefined }}
 */
function normalizeCall(url, options, defaults = {}) {
  let target
  if (typeof url === 'string') target = url
  else if (url instanceof URL) target = url.href
  else throw invalid(`url must be a string or a URL, got ${describe(url)}`)
  if (options === undefined || options === null) options = {}
  if (!isPlainObject(options)) throw invalid(`call options must be an object, got ${describe(options)}`)
  checkKeys(options, CALL_OPTIONS, 'call')

  const method = optString(options.method, 'method')
  const headers = plainHeaders(options.headers)
  const bodyField = secretMap(options.bodyField, 'bodyField')
  const formField = secretMap(options.formField, 'formField')
  const { bytes, type } = encodeBody(options.body, formField !== undefined)
  let contentType = type
  // Raw bodies carry no type of their own; the injection style implies one.
  if (contentType === undefined) {
    if (formField) contentType = 'application/x-www-form-urlencoded'
    else if (bodyField) contentType = 'application/json'
  }
  if (contentType && !hasHeader(headers, 'content-type')) headers.push({ name: 'Content-Type', value: contentType })

  const signal = optSignal(options.signal)

  /** @type {NativeCallRequest} */
  const request = {
    url: target,
    method,
    headers,
    body: bytes,
    bearer: secretName(options.bearer, 'bearer'),
    basic: secretName(options.basic, 'basic'),
    header: secretMap(options.header, 'header'),
    query: secretMap(options.query, 'query'),
    bodyField,
    formField,
    agentId: optString(options.agentId, 'agentId') ?? defaults.agentId,
    timeoutMs: optTimeout(options.timeoutMs) ?? defaults.timeoutMs,
    throwOnHttpError: optBool(options.throwOnHttpError, 'throwOnHttpError') ?? defaults.throwOnHttpError,
    workspace: optString(options.workspace, 'workspace'),
    project: optString(options.project, 'project'),
    maxResponseBytes: optResponseLimit(options.maxResponseBytes) ?? defaults.maxResponseBytes,
  }
  return { request: dropUndefined(request), signal }
}

module.exports = { normalizeClientOptions, normalizeCall, secretMap, secretName }
