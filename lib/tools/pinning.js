'use strict'

// What one tool may do, fixed by the program (never by the model): URL
// prefixes, methods and secret names. A call outside them is refused here,
// before anything is sent. A URL prefix is compared as an origin (scheme,
// host, port) plus whole path segments, on the parsed URL that is then sent,
// so `https://api.x.com.evil.net`, `https://api.x.com@evil.net`,
// `/v1/../admin`, `/v1%2F..%2Fadmin` and `/v10` do not pass a pin on
// `https://api.x.com/v1`.

const { makeError } = require('../../errors.js')
const { checkHeaderName, hasControl, SECRET_NAME } = require('./injections.js')

/** A method name (RFC 9110 token, upper case). */
const METHOD = /^[A-Z][A-Z-]{0,19}$/
/** Headers the model may not set: routing, framing, and the engine's own protocol. */
const RESERVED_HEADERS = /^(host|content-length|transfer-encoding|connection|keep-alive|te|trailer|upgrade|expect|proxy-.*|x-as-.*|x-agentsecrets-.*)$/i
/** Decoded path segments that could move the path elsewhere on the server. */
const ESCAPING_SEGMENT = /^\.{1,2}$|[/\\]/

/**
 * @typedef {object} UrlPin
 * @property {string} origin
 * @property {string[]} segments
 * @property {string} text as configured, for descriptions
 */

/**
 * @typedef {object} Pins
 * @property {UrlPin[] | null} urls null: any URL (the engine's allowlist still applies)
 * @property {string[] | null} methods null: any method
 * @property {string[] | null} secrets null: any secret of the project
 */

/**
 * @typedef {object} PinOptions
 * @property {string | string[]} [allowUrls]
 * @property {string | string[]} [allowMethods]
 * @property {string | string[]} [allowSecrets]
 */

/**
 * @param {string} message
 * @param {string} [fix]
 */
function refused(message, fix) {
  return makeError({ code: 'INVALID_ARGUMENT', message, fix: fix ?? null })
}

/**
 * @param {unknown} v
 * @param {string} what
 * @returns {string[] | null}
 */
function list(v, what) {
  if (v === undefined || v === null) return null
  const items = typeof v === 'string' ? [v] : v
  if (!Array.isArray(items) || items.length === 0 || items.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw refused(`${what} must be a non-empty string or a non-empty array of non-empty strings`, `correct the tool's ${what} option`)
  }
  return items
}

/**
 * The path segments of a parsed URL (`/a/b/` → `['a', 'b', '']`).
 * @param {URL} url
 */
function segmentsOf(url) {
  return url.pathname.split('/').slice(1)
}

/**
 * @param {string} text
 * @returns {UrlPin}
 */
function urlPin(text) {
  let url
  try {
    url = new URL(text)
  } catch {
    throw refused(`allowUrls entry '${text}' is not an absolute URL`, 'give prefixes like https://api.example.com/v1')
  }
  if (url.username || url.password || url.search || url.hash) {
    throw refused(`allowUrls entry '${text}' must not carry credentials, a query or a fragment`, 'give prefixes like https://api.example.com/v1')
  }
  const segments = segmentsOf(url)
  // `/v1/` and `/v1` pin the same segments.
  if (segments[segments.length - 1] === '') segments.pop()
  return { origin: url.origin, segments, text }
}

/**
 * Checks the pinning options of a tool.
 * @param {PinOptions} options
 * @returns {Pins}
 */
function makePins(options) {
  const urls = list(options.allowUrls, 'allowUrls')
  const methods = list(options.allowMethods, 'allowMethods')?.map((m) => m.toUpperCase()) ?? null
  for (const m of methods ?? []) if (!METHOD.test(m)) throw refused(`allowMethods entry '${m}' is not an HTTP method`)
  const secrets = list(options.allowSecrets, 'allowSecrets')
  for (const s of secrets ?? []) if (!SECRET_NAME.test(s)) throw refused(`allowSecrets entry '${s}' is not a secret name`)
  return { urls: urls?.map(urlPin) ?? null, methods, secrets }
}

/**
 * Whether `url`'s path starts with the whole segments of `pin`.
 * @param {UrlPin} pin
 * @param {URL} url
 */
function underPin(pin, url) {
  if (url.origin !== pin.origin) return false
  const segments = segmentsOf(url)
  return pin.segments.every((s, i) => segments[i] === s)
}

/**
 * Parses the model's URL and refuses what no pin allows, or what could be
 * read differently by the server than by this check.
 * @param {Pins} pins
 * @param {unknown} text
 * @returns {URL} the URL to send
 */
function checkUrl(pins, text) {
  if (typeof text !== 'string' || text.length === 0) throw refused('url must be an absolute http(s) URL')
  if (hasControl(text) || text.includes(' ')) throw refused('url must not contain spaces or control characters')
  let url
  try {
    url = new URL(text)
  } catch {
    throw refused(`'${text.slice(0, 200)}' is not an absolute URL`, 'give the full URL, e.g. https://api.example.com/v1/items')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refused(`the scheme ${url.protocol} is not supported; use https`)
  if (url.username || url.password) throw refused('url must not contain a user name or password', 'use the injections map for credentials')
  for (const raw of segmentsOf(url)) {
    let decoded
    try {
      decoded = decodeURIComponent(raw)
    } catch {
      throw refused('url has a malformed percent-escape in its path')
    }
    if (ESCAPING_SEGMENT.test(decoded)) throw refused('url path must not contain encoded slashes or dot segments')
  }
  if (pins.urls && !pins.urls.some((p) => underPin(p, url))) {
    throw refused(
      `${url.origin}${url.pathname} is outside what this tool may call`,
      `call a URL under ${pins.urls.map((p) => p.text).join(' or ')}; a person can widen the tool's allowUrls`,
    )
  }
  return url
}

/**
 * @param {Pins} pins
 * @param {unknown} method
 * @returns {string}
 */
function checkMethod(pins, method) {
  const m = method === undefined || method === null || method === '' ? 'GET' : method
  if (typeof m !== 'string' || !METHOD.test(m.toUpperCase())) throw refused('method must be an HTTP method such as GET or POST')
  const upper = m.toUpperCase()
  if (pins.methods && !pins.methods.includes(upper)) {
    throw refused(`the method ${upper} is not allowed for this tool`, `use ${pins.methods.join(', ')}`)
  }
  return upper
}

/**
 * @param {Pins} pins
 * @param {string[]} names
 */
function checkSecrets(pins, names) {
  if (!pins.secrets) return
  const outside = names.filter((n) => !pins.secrets?.includes(n))
  if (outside.length > 0) {
    throw refused(`this tool may not use the secret ${outside.join(', ')}`, `use only ${pins.secrets.join(', ')}`)
  }
}

/**
 * Checks the model's plain headers: names that are HTTP tokens, none of the
 * reserved ones, values without CR/LF/NUL (no header injection).
 * @param {unknown} headers
 * @returns {Record<string, string>}
 */
function checkHeaders(headers) {
  if (headers === undefined || headers === null) return {}
  if (typeof headers !== 'object' || Array.isArray(headers)) throw refused('headers must be an object of header name → text')
  /** @type {Record<string, string>} */
  const out = Object.create(null)
  for (const [name, value] of Object.entries(headers)) {
    checkHeaderName(name)
    if (RESERVED_HEADERS.test(name)) throw refused(`the header ${name} may not be set by this tool`)
    if (typeof value !== 'string' && typeof value !== 'number') throw refused(`the value of header ${name} must be text`)
    const text = String(value)
    if (hasControl(text.replaceAll('\t', ' '))) throw refused(`the value of header ${name} contains a line break or control character`)
    out[name] = text
  }
  return out
}

module.exports = { makePins, checkUrl, checkMethod, checkSecrets, checkHeaders }
