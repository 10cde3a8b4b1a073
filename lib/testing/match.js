'use strict'

// Matchers of scripted answers and failures: which recorded call (or spawn)
// they apply to. A matcher is a URL string (exact, or without its query), a
// RegExp tested on the URL, `{ url?, method? }`, or a predicate of the record.

const { invalid } = require('../arguments.js')

/** @typedef {import('../../testing').MockCallRecord} MockCallRecord */
/** @typedef {import('../../testing').MockSpawnRecord} MockSpawnRecord */

const MATCHER_KEYS = ['url', 'method']

/**
 * @param {string} url
 */
function withoutQuery(url) {
  const cut = url.search(/[?#]/)
  return cut === -1 ? url : url.slice(0, cut)
}

/**
 * @param {unknown} u
 * @returns {(url: string) => boolean}
 */
function urlTest(u) {
  if (u instanceof RegExp) return (url) => u.test(url)
  if (typeof u === 'string' && u.length > 0) return (url) => url === u || withoutQuery(url) === u
  throw invalid('a matcher url must be a non-empty string or a RegExp')
}

/**
 * @param {Record<string, unknown>} m
 * @returns {(record: MockCallRecord) => boolean}
 */
function objectMatcher(m) {
  for (const k of Object.keys(m)) if (!MATCHER_KEYS.includes(k)) throw invalid(`unknown matcher key '${k}'; known: ${MATCHER_KEYS.join(', ')}`)
  const url = m.url === undefined ? () => true : urlTest(m.url)
  if (m.method !== undefined && (typeof m.method !== 'string' || m.method.length === 0)) throw invalid('a matcher method must be a non-empty string')
  const method = typeof m.method === 'string' ? m.method.toUpperCase() : undefined
  return (record) => url(record.url) && (method === undefined || record.method === method)
}

/**
 * A predicate on call records.
 * @param {unknown} m
 * @returns {(record: MockCallRecord) => boolean}
 */
function callMatcher(m) {
  if (typeof m === 'function') return (record) => Boolean(m(record))
  if (typeof m === 'string' || m instanceof RegExp) {
    const test = urlTest(m)
    return (record) => test(record.url)
  }
  if (m !== null && typeof m === 'object' && !Array.isArray(m)) return objectMatcher(/** @type {Record<string, unknown>} */ (m))
  throw invalid('a matcher must be a URL string, a RegExp, { url?, method? } or a function of the call record')
}

/**
 * A predicate on spawn records: a command name, a RegExp tested on it, or a
 * predicate of the record.
 * @param {unknown} m
 * @returns {(record: MockSpawnRecord) => boolean}
 */
function spawnMatcher(m) {
  if (typeof m === 'function') return (record) => Boolean(m(record))
  if (m instanceof RegExp) return (record) => m.test(record.command)
  if (typeof m === 'string' && m.length > 0) return (record) => record.command === m
  throw invalid('a spawn matcher must be a command name, a RegExp or a function of the spawn record')
}

module.exports = { callMatcher, spawnMatcher }
