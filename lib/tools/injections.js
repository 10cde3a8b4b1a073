'use strict'

// The injection map of the `api_call` tools (LangChain and MCP): style →
// secret NAME, as the upstream AgentSecrets MCP server's `api_call` takes it.
// `{ bearer: 'K', 'header:X-Api-Key': 'K2', 'query:key': 'K3', 'body:auth.key': 'K4', 'form:f': 'K5', basic: 'K6' }`
// becomes the secret options of `client.call()`.

const { makeError } = require('../../errors.js')

/** The keys the map accepts, for messages and tool descriptions. */
const INJECTION_FORMS = ['bearer', 'basic', 'header:NAME', 'query:NAME', 'body:PATH', 'form:FIELD']
/** The prefixed styles and the `call()` option each fills. */
const PREFIXED = /** @type {const} */ ({ header: 'header', query: 'query', body: 'bodyField', form: 'formField' })
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** A secret name as the engine stores them. */
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/

/**
 * Whether `text` holds a C0 control character or DEL (CR, LF and NUL among them).
 * @param {string} text
 */
function hasControl(text) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

/** @param {string} message */
function refused(message) {
  return makeError({ code: 'INVALID_ARGUMENT', message })
}

/**
 * @typedef {object} ParsedInjections
 * @property {import('../../index').CallOptions} options the secret options of `call()`
 * @property {string[]} secrets every secret name used, once each
 */

/**
 * Turns the model's injection map into `call()` options; throws
 * InvalidArgument with a message the model can act on.
 * @param {unknown} map
 * @returns {ParsedInjections}
 */
function parseInjections(map) {
  /** @type {Record<string, any>} */
  const options = {}
  /** @type {Set<string>} */
  const secrets = new Set()
  if (map === undefined || map === null) return { options, secrets: [] }
  if (typeof map !== 'object' || Array.isArray(map)) {
    throw refused(`injections must be an object mapping a style (${INJECTION_FORMS.join(', ')}) to a secret name`)
  }
  for (const [key, name] of Object.entries(map)) {
    if (typeof name !== 'string' || !SECRET_NAME.test(name)) {
      throw refused(`injections['${key}'] must be a secret NAME (letters, digits, _ . -), never a value`)
    }
    secrets.add(name)
    const style = key.trim()
    const lower = style.toLowerCase()
    if (lower === 'bearer' || lower === 'basic') {
      if (options[lower] !== undefined) throw refused(`injections has '${lower}' twice`)
      options[lower] = name
      continue
    }
    const colon = style.indexOf(':')
    const prefix = /** @type {keyof typeof PREFIXED} */ (colon > 0 ? lower.slice(0, colon) : '')
    const target = colon > 0 ? style.slice(colon + 1) : ''
    if (!Object.hasOwn(PREFIXED, prefix) || target.length === 0) {
      throw refused(`unknown injection style '${key}'; use one of: ${INJECTION_FORMS.join(', ')}`)
    }
    if (prefix === 'header') checkHeaderName(target)
    if (hasControl(target)) throw refused(`the injection target in '${key}' contains a control character`)
    const option = PREFIXED[prefix]
    options[option] ??= Object.create(null)
    options[option][target] = name
  }
  return { options, secrets: [...secrets] }
}

/**
 * Refuses a header name that is not an HTTP token (CR/LF, spaces, colons…).
 * @param {string} name
 */
function checkHeaderName(name) {
  if (!HEADER_NAME.test(name)) throw refused(`'${name.slice(0, 60)}' is not a valid HTTP header name`)
}

module.exports = { parseInjections, checkHeaderName, hasControl, INJECTION_FORMS, SECRET_NAME }
