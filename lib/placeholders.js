'use strict'

// Secret placeholders and `createFetch()`: code written for `fetch` (and SDKs
// that take a `fetch`) puts `AS_SECRET_<NAME>` where a credential goes; the
// request is sent through the engine with exactly the injections those
// placeholders stand for. A placeholder where no injection can put a value
// (path, cookie, body, fragment...) fails closed before anything is sent.
//
// Grammar (docs/PROTOCOL.md "Secret placeholders"):
//   placeholder = "AS_SECRET_" name
//   name        = 1*256 ( ALPHA / DIGIT / "_" / "-" / "." ), not starting with "-"
//                 (the vault's secret name rules)
// A placeholder is recognised only as a whole value: a header value, a query
// parameter value, `Bearer <placeholder>`, or `Basic base64(<placeholder>)`.

const { invalid, describe, isPlainObject, checkKeys, optBool } = require('./arguments.js')
const { bodyBytes, headersOf } = require('./fetch.js')
const { makeError } = require('../errors.js')

const PREFIX = 'AS_SECRET_'
const NAME = '[A-Za-z0-9_.][A-Za-z0-9_.-]{0,255}'
const WHOLE = new RegExp(`^${PREFIX}(${NAME})$`)
const BEARER = new RegExp(`^Bearer +${PREFIX}(${NAME})$`, 'i')
const BASIC = /^Basic +([A-Za-z0-9+/]+={0,2})$/i

const GLOBAL_FETCH_OPTIONS = ['workspace', 'project', 'agentId', 'timeoutMs']
const CREATE_FETCH_OPTIONS = ['requirePlaceholder', ...GLOBAL_FETCH_OPTIONS]

/**
 * The placeholder for secret `name`: `AS_SECRET_<name>`.
 * @param {string} name
 * @returns {string}
 */
function secretRef(name) {
  if (typeof name !== 'string' || !new RegExp(`^${NAME}$`).test(name)) {
    throw invalid(`secretRef() takes a secret name (1 to 256 letters, digits, '_', '-', '.'; not starting with '-'), got ${describe(name)}`)
  }
  return PREFIX + name
}

/**
 * The secret name `value` stands for, if it is a whole placeholder.
 * @param {string} value
 */
function placeholderName(value) {
  return WHOLE.exec(value.trim())?.[1]
}

/**
 * @param {string} where
 */
function notInjectable(where) {
  return makeError({
    code: 'PLACEHOLDER_NOT_INJECTABLE',
    message: `a secret placeholder (${PREFIX}...) is in ${where}, where the engine cannot inject a value; nothing was sent`,
    fix: 'put placeholders only as a whole header value, `Authorization: Bearer <placeholder>`, Basic credentials that encode a placeholder, or a whole query parameter value; for other places use client.fetch() or client.call() with bodyField/formField',
  })
}

/** @typedef {{ bearer?: string, basic?: string, header: Record<string, string>, query: Record<string, string> }} Injections */

/**
 * Finds the placeholders of `url`: whole query values become query
 * injections (the parameter is removed, the engine adds it); anywhere else
 * is refused.
 * @param {URL} url
 * @param {Injections} found
 * @returns {string} the URL without the injected parameters
 */
function scanUrl(url, found) {
  const decoded = (/** @type {string} */ s) => {
    try {
      return decodeURIComponent(s)
    } catch {
      return s
    }
  }
  if (decoded(url.username).includes(PREFIX) || decoded(url.password).includes(PREFIX)) throw notInjectable('the URL user info')
  if (url.hostname.toUpperCase().includes(PREFIX)) throw notInjectable('the host name')
  if (decoded(url.pathname).includes(PREFIX)) throw notInjectable('the URL path')
  if (decoded(url.hash).includes(PREFIX)) throw notInjectable('the URL fragment')
  if (url.search === '') return url.href
  const kept = []
  for (const raw of url.search.slice(1).split('&')) {
    const [[name, value] = ['', '']] = new URLSearchParams(raw)
    const secret = placeholderName(value)
    if (name.includes(PREFIX)) throw notInjectable('a query parameter name')
    if (secret !== undefined) {
      if (name in found.query) throw notInjectable(`query parameter '${name}', given twice`)
      found.query[name] = secret
    } else if (value.includes(PREFIX)) {
      throw notInjectable(`part of query parameter '${name}'`)
    } else {
      kept.push(raw)
    }
  }
  const out = new URL(url.href)
  out.search = kept.length > 0 ? `?${kept.join('&')}` : ''
  return out.href
}

/**
 * Finds the placeholders of `headers` and removes the headers they inject.
 * @param {Headers} headers
 * @param {Injections} found
 */
function scanHeaders(headers, found) {
  for (const [name, value] of [...headers]) {
    if (name.toUpperCase().includes(PREFIX)) throw notInjectable('a header name')
    if (!value.includes(PREFIX) && name !== 'authorization') continue
    if (name === 'cookie') throw notInjectable('the Cookie header')
    if (name === 'authorization') {
      const bearer = BEARER.exec(value.trim())?.[1]
      const basic = BASIC.exec(value.trim())?.[1]
      const creds = basic === undefined ? '' : Buffer.from(basic, 'base64').toString('utf8')
      if (bearer !== undefined) found.bearer = bearer
      else if (placeholderName(creds) !== undefined) found.basic = placeholderName(creds)
      else if (value.includes(PREFIX) || creds.includes(PREFIX)) throw notInjectable('part of the Authorization header')
      else continue
      headers.delete(name)
      continue
    }
    const secret = placeholderName(value)
    if (secret === undefined) throw notInjectable(`part of header '${name}'`)
    found.header[name] = secret
    headers.delete(name)
  }
}

/**
 * A `fetch` that sends requests carrying secret placeholders through
 * `client.fetch()` with the injections they stand for.
 * @param {FetchClient} client
 * @param {import('../index').CreateFetchOptions} [options]
 * @returns {(input: string | URL | Request, init?: RequestInit) => Promise<Response>}
 */
function createFetch(client, options = {}) {
  const scope = fetchScope(client, options, 'createFetch', CREATE_FETCH_OPTIONS)
  const requirePlaceholder = optBool(options.requirePlaceholder, 'requirePlaceholder') ?? false
  return async function agentSecretsFetch(input, init) {
    return sendInjected(client, scope, placeholdersOf(input, init), requirePlaceholder)
  }
}

/**
 * Replaces `globalThis.fetch` so that code calling the global `fetch` can use
 * placeholders too: a request carrying one goes through `client.fetch()`
 * exactly as with `createFetch()`; any other request goes to the `fetch`
 * that was installed before, untouched. Returns the function that puts it back.
 * @param {FetchClient} client
 * @param {import('../index').InstallGlobalFetchOptions} [options]
 * @returns {() => void}
 */
function installGlobalFetch(client, options = {}) {
  const scope = fetchScope(client, options, 'installGlobalFetch', GLOBAL_FETCH_OPTIONS)
  const previous = globalThis.fetch
  if (typeof previous !== 'function') throw invalid('installGlobalFetch() needs a global fetch to fall back on (Node 18 or later)')
  /** @type {typeof fetch} */
  const installed = async function agentSecretsGlobalFetch(input, init) {
    const request = placeholdersOf(input, init)
    return request.any ? sendInjected(client, scope, request) : previous(input, init)
  }
  globalThis.fetch = installed
  return function restoreGlobalFetch() {
    if (globalThis.fetch === installed) globalThis.fetch = previous
  }
}

/** @typedef {{ fetch: (input: string, init: Record<string, unknown>) => Promise<Response> }} FetchClient */

/**
 * The options every request of a placeholder fetch gets (scope, agent,
 * timeout), after checking the client and the option names.
 * @param {FetchClient} client
 * @param {{ workspace?: string, project?: string, agentId?: string, timeoutMs?: number }} options
 * @param {string} fn
 * @param {string[]} allowed
 */
function fetchScope(client, options, fn, allowed) {
  if (client === null || typeof client !== 'object' || typeof client.fetch !== 'function') {
    throw invalid(`${fn}() takes an AgentSecrets client, got ${describe(client)}`)
  }
  if (!isPlainObject(options)) throw invalid(`${fn} options must be an object, got ${describe(options)}`)
  checkKeys(options, allowed, fn)
  const { workspace, project, agentId, timeoutMs } = options
  return Object.fromEntries(Object.entries({ workspace, project, agentId, timeoutMs }).filter(([, v]) => v !== undefined))
}

/**
 * The placeholders of a request's URL and headers (a misplaced one throws
 * `PlaceholderNotInjectable`); its body is not read yet.
 * @param {string | URL | Request} input
 * @param {RequestInit | undefined} init
 */
function placeholdersOf(input, init) {
  const from = input instanceof Request ? input : undefined
  const href = from ? from.url : input instanceof URL ? input.href : input
  if (typeof href !== 'string') throw invalid(`fetch input must be a string, a URL or a Request, got ${describe(input)}`)
  let url
  try {
    url = new URL(href)
  } catch {
    throw invalid(`${describe(href)} is not an absolute URL`)
  }
  const given = init ?? {}
  if (!isPlainObject(given)) throw invalid(`fetch init must be an object, got ${describe(given)}`)
  /** @type {Injections} */
  const found = { header: {}, query: {} }
  const target = scanUrl(url, found)
  const headers = headersOf(given.headers ?? from?.headers)
  scanHeaders(headers, found)
  const any = found.bearer !== undefined || found.basic !== undefined || Object.keys(found.header).length > 0 || Object.keys(found.query).length > 0
  return { url, target, given, from, found, headers, any }
}

/**
 * Sends a request through `client.fetch()` with the injections its
 * placeholders stand for. The body is read whole to be scanned: a
 * placeholder in it cannot be injected.
 * @param {FetchClient} client
 * @param {Record<string, unknown>} scope
 * @param {ReturnType<typeof placeholdersOf>} request
 * @param {boolean} [requirePlaceholder] refuse a request without any
 */
async function sendInjected(client, scope, { url, target, given, from, found, headers, any }, requirePlaceholder = false) {
  const body = await bodyBytes('body' in given ? given.body : from?.body, headers)
  if (body !== undefined && body.includes(PREFIX)) throw notInjectable('the request body')
  if (!any && requirePlaceholder) {
    throw invalid(`the request to ${url.origin} carries no secret placeholder, and this fetch was created with requirePlaceholder: true`)
  }
  /** @type {Record<string, unknown>} */
  const out = { ...scope, ...given, method: given.method ?? from?.method, headers, body, signal: given.signal ?? from?.signal }
  delete out.duplex
  if (found.bearer !== undefined) out.bearer = found.bearer
  if (found.basic !== undefined) out.basic = found.basic
  if (Object.keys(found.header).length > 0) out.header = found.header
  if (Object.keys(found.query).length > 0) out.query = found.query
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k]
  return client.fetch(target, out)
}

module.exports = { secretRef, createFetch, installGlobalFetch, PLACEHOLDER_PREFIX: PREFIX }
