'use strict'

// Scripted answers: a response spec (`{ statusCode, headers, body, delayMs }`)
// checked and turned into the same AgentSecretsResponse the real client
// returns, after the redaction the engine applies, with the real client's
// UpstreamError (status >= 400) and ResponseTooLarge behaviour.

const { invalid, isPlainObject } = require('../arguments.js')
const { AgentSecretsResponse } = require('../response.js')
const { makeError } = require('../../errors.js')

/** @typedef {import('./vault.js').Vault} Vault */
/**
 * A checked response spec.
 * @typedef {{ statusCode: number, headers: Record<string, string>, body: Buffer, delayMs: number }} ResponseSpec
 */

const SPEC_KEYS = ['statusCode', 'headers', 'body', 'delayMs']
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
/** The `backend` of every mock response. */
const MOCK_BACKEND = 'mock'

/**
 * @param {unknown} h
 * @returns {Record<string, string>}
 */
function specHeaders(h) {
  if (h === undefined) return {}
  if (!isPlainObject(h)) throw invalid('a scripted response\'s headers must be an object of strings')
  /** @type {Record<string, string>} */
  const out = {}
  for (const [k, v] of Object.entries(h)) {
    if (typeof v !== 'string' && typeof v !== 'number') throw invalid(`scripted response header '${k}' must be a string`)
    const name = k.toLowerCase()
    out[name] = out[name] === undefined ? String(v) : `${out[name]}, ${v}`
  }
  return out
}

/**
 * @param {unknown} body
 * @param {Record<string, string>} headers gets the content type JSON implies
 */
function specBody(body, headers) {
  if (body === undefined || body === null) return Buffer.alloc(0)
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  if (body instanceof Uint8Array) return Buffer.from(body)
  if (isPlainObject(body) || Array.isArray(body)) {
    headers['content-type'] ??= 'application/json'
    return Buffer.from(JSON.stringify(body), 'utf8')
  }
  throw invalid('a scripted response body must be a string, a Buffer, a Uint8Array, an object or an array')
}

/**
 * Checks a response spec.
 * @param {unknown} spec
 * @returns {ResponseSpec}
 */
function normalizeSpec(spec) {
  if (!isPlainObject(spec)) throw invalid('a scripted response must be an object like { statusCode, headers, body }')
  for (const k of Object.keys(spec)) if (!SPEC_KEYS.includes(k)) throw invalid(`unknown scripted response key '${k}'; known: ${SPEC_KEYS.join(', ')}`)
  const statusCode = spec.statusCode ?? 200
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) throw invalid('a scripted statusCode must be an integer from 100 to 599')
  const delayMs = spec.delayMs ?? 0
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) throw invalid('a scripted delayMs must be a non-negative number')
  const headers = specHeaders(spec.headers)
  const body = specBody(spec.body, headers)
  return { statusCode, headers, body, delayMs }
}

/** The answer of a call nothing was scripted for: 200 `{"ok":true}`. */
function defaultSpec() {
  return normalizeSpec({ statusCode: 200, body: { ok: true } })
}

/**
 * @param {Record<string, string>} headers
 * @param {Vault} vault
 */
function redactHeaders(headers, vault) {
  let redacted = false
  /** @type {Record<string, string>} */
  const out = {}
  for (const [k, v] of Object.entries(headers)) {
    const r = vault.redact(v)
    out[k] = r.text
    redacted ||= r.redacted
  }
  return { headers: out, redacted }
}

/** @param {number} limit */
function tooLarge(limit) {
  return makeError({
    code: 'RESPONSE_TOO_LARGE',
    message: `the response is larger than maxResponseBytes (${limit} bytes); reading stopped there and the rest was discarded`,
    fix: 'pass a larger `maxResponseBytes` to call() or to new AgentSecrets() (at most 4 GiB), or ask the API for less (pagination, a smaller range)',
  })
}

/** @param {AgentSecretsResponse} r */
function upstreamError(r) {
  return makeError({
    code: 'UPSTREAM_HTTP',
    message: `the upstream API answered ${r.statusCode} for ${r.url}`,
    fix: "the credential was injected; check the upstream API's documentation for this status, or pass `throwOnHttpError: false` to get the response instead",
    statusCode: r.statusCode,
    body: r.body,
    headers: r.headers,
    url: r.url,
  })
}

/**
 * The response (or the error) the real client would give for `spec`.
 * @param {ResponseSpec} spec
 * @param {{ url: string, throwOnHttpError?: boolean, maxResponseBytes?: number }} request
 * @param {import('./vault').Vault} vault
 * @param {number} durationMs
 */
function buildResponse(spec, request, vault, durationMs) {
  const limit = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  if (spec.body.length > limit) throw tooLarge(limit)
  const body = vault.redactBytes(spec.body)
  const headers = redactHeaders(spec.headers, vault)
  const response = new AgentSecretsResponse({
    statusCode: spec.statusCode,
    headers: headers.headers,
    body: body.bytes,
    redacted: body.redacted || headers.redacted,
    durationMs,
    url: request.url,
    backend: MOCK_BACKEND,
  })
  if (response.statusCode >= 400 && request.throwOnHttpError !== false) throw upstreamError(response)
  return response
}

module.exports = { normalizeSpec, defaultSpec, buildResponse, MOCK_BACKEND }
