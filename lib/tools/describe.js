'use strict'

// Text for the model: the tools' descriptions (names only, never values),
// an answer as status + redacted body, and an error as a short instruction
// (never a stack trace). Shared by the LangChain and MCP tools.

const { AgentSecretsError } = require('../../errors.js')
const { INJECTION_FORMS } = require('./injections.js')

/** Default of `maxOutputChars`: how much of a body the model sees. */
const DEFAULT_MAX_OUTPUT_CHARS = 16000
/** Longest error text given to the model. */
const MAX_ERROR_CHARS = 600
/** What the model itself can do next, for the errors where that is not the engine's fix. */
const NEXT_STEP = /** @type {Record<string, string>} */ ({
  SECRET_NOT_FOUND: 'Call list_secrets for the names you may use.',
})

/**
 * The `api_call` description: what it does and what it may use.
 * @param {import('./pinning.js').Pins} pins
 */
function describeApiCall(pins) {
  const lines = [
    'Calls an HTTP API with credentials injected by the AgentSecrets engine. You never see or send a credential value:',
    `name the secret to use in "injections", keyed by where it goes (${INJECTION_FORMS.join(', ')}).`,
    'Returns the HTTP status and the response body (credentials echoed by the API are redacted).',
    pins.urls ? `Allowed URLs (prefixes): ${pins.urls.map((p) => p.text).join(', ')}.` : 'Allowed hosts: those on the workspace allowlist.',
    pins.methods ? `Allowed methods: ${pins.methods.join(', ')}.` : '',
    pins.secrets ? `Secrets you may use: ${pins.secrets.join(', ')}.` : 'Secrets: any of the project (call list_secrets for their names).',
  ]
  return lines.filter(Boolean).join('\n')
}

/**
 * One line: the error's message and fix, for the model to act on.
 * @param {unknown} err
 */
function errorText(err) {
  let text
  if (err instanceof AgentSecretsError) {
    const message = err.message.replace(/\.?\s*\nTo fix: /, '. To fix: ').replace(/\s*\n\s*/g, ' ')
    text = `Error (${err.code}): ${message}${NEXT_STEP[err.code] ? ` ${NEXT_STEP[err.code]}` : ''}`
  } else {
    // Not ours (a bug or a library's): its first line only, no stack.
    const message = err instanceof Error ? err.message : String(err)
    text = `Error: ${message.split('\n')[0]}`
  }
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 3)}...` : text
}

/**
 * The body as text, or a note when it is not UTF-8 text.
 * @param {Buffer} bytes
 */
function bodyText(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return null
  }
}

/**
 * Status, content type, a redaction note and the body, truncated to
 * `maxChars` characters with a note saying so.
 * @param {import('../../index').AgentSecretsResponse} response
 * @param {number} maxChars
 */
function responseText(response, maxChars) {
  const head = [`HTTP ${response.statusCode}`]
  const type = response.headers['content-type']
  if (type) head.push(`content-type: ${type}`)
  // The engine never follows a redirect: the model may call the new URL itself (through the pins again).
  const location = response.headers.location
  if (location && response.statusCode >= 300 && response.statusCode < 400) head.push(`location: ${location}`)
  if (response.redacted) head.push('note: the API echoed a credential; it was replaced by [REDACTED_BY_AGENTSECRETS]')
  const bytes = response.bytes()
  const text = bodyText(bytes)
  let body
  if (text === null) body = `[${bytes.length} bytes of binary content, not shown]`
  else if (text.length > maxChars) {
    body = `${text.slice(0, maxChars)}\n[truncated: showing the first ${maxChars} of ${text.length} characters; ask the API for less, e.g. a smaller page]`
  } else body = text
  return `${head.join('\n')}\n\n${body}`
}

module.exports = { describeApiCall, errorText, responseText, DEFAULT_MAX_OUTPUT_CHARS }
