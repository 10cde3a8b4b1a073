'use strict'

// Argument checks shared by the client, spawn, the management sub-clients and
// the test double. Anything wrong is an InvalidArgument thrown before
// anything is sent or started.

const { makeError } = require('../errors.js')

/** Largest timeout Node's timers and the addon take, in milliseconds. */
const MAX_TIMEOUT_MS = 0xffffffff

/**
 * The InvalidArgument for `message`.
 * @param {string} message
 */
function invalid(message) {
  return makeError({ code: 'INVALID_ARGUMENT', message, fix: 'correct the argument; nothing was sent' })
}

/**
 * True for `{}` literals and `Object.create(null)`, not for class instances or arrays.
 * @param {unknown} v
 * @returns {v is Record<string, unknown>}
 */
function isPlainObject(v) {
  if (v === null || typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/**
 * What `v` is, for messages ("a number", "an array", "a Map").
 * @param {unknown} v
 */
function describe(v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? `a ${v.constructor?.name ?? 'object'}` : `a ${typeof v}`
}

/**
 * Refuses a key of `obj` not in `allowed`, suggesting a close one.
 * @param {object} obj
 * @param {readonly string[]} allowed
 * @param {string} what whose options they are
 */
function checkKeys(obj, allowed, what) {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      const close = allowed.find((a) => a.toLowerCase() === key.toLowerCase().replace(/_/g, ''))
      throw invalid(`unknown ${what} option '${key}'${close ? ` (did you mean '${close}'?)` : ''}; known: ${allowed.join(', ')}`)
    }
  }
}

/**
 * @param {unknown} v
 * @param {string} name
 * @returns {string | undefined}
 */
function optString(v, name) {
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw invalid(`${name} must be a string, got ${describe(v)}`)
  return v
}

/**
 * @param {unknown} v
 * @param {string} name
 * @returns {boolean | undefined}
 */
function optBool(v, name) {
  if (v === undefined) return undefined
  if (typeof v !== 'boolean') throw invalid(`${name} must be a boolean, got ${describe(v)}`)
  return v
}

/**
 * A timeout in whole milliseconds (0 disables it).
 * @param {unknown} v
 * @param {string} [name]
 * @returns {number | undefined}
 */
function optTimeout(v, name = 'timeoutMs') {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_TIMEOUT_MS) {
    throw invalid(`${name} must be a number of milliseconds between 0 and ${MAX_TIMEOUT_MS} (0 disables it)`)
  }
  return Math.ceil(v)
}

/**
 * An AbortSignal (anything with `aborted` and the listener methods the SDK calls).
 * @param {unknown} v
 * @returns {AbortSignal | undefined}
 */
function optSignal(v) {
  if (v === undefined) return undefined
  const s = /** @type {Partial<AbortSignal> | null} */ (v)
  if (s === null || typeof s !== 'object' || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function' || typeof s.removeEventListener !== 'function') {
    throw invalid(`signal must be an AbortSignal, got ${describe(v)}`)
  }
  return /** @type {AbortSignal} */ (s)
}

/**
 * `obj` without its undefined properties (the addon's option structs take
 * absent, not undefined, fields).
 * @template {object} T
 * @param {T} obj
 * @returns {T}
 */
function dropUndefined(obj) {
  const o = /** @type {Record<string, unknown>} */ (obj)
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k]
  return obj
}

/**
 * A non-empty string.
 * @param {unknown} v
 * @param {string} what
 * @returns {string}
 */
function nonEmpty(v, what) {
  if (typeof v !== 'string' || v.length === 0) throw invalid(`${what} must be a non-empty string`)
  return v
}

// Arguments of the management sub-clients (the real ones and the mock's).

/**
 * A secret name given to `secrets.set()`.
 * @param {unknown} key
 * @returns {string}
 */
function secretKey(key) {
  const k = nonEmpty(key, 'key')
  if (k.startsWith('-') || k.includes('=')) throw invalid("key must be a secret name (letters, digits, '_', '-', '.'; not starting with '-')")
  return k
}

/**
 * A secret value given to `secrets.set()` as a fresh Buffer (the caller may zero it).
 * @param {unknown} value
 * @returns {Buffer}
 */
function secretValue(value) {
  let bytes
  if (typeof value === 'string') bytes = Buffer.from(value, 'utf8')
  else if (value instanceof Uint8Array) bytes = Buffer.from(value)
  else throw invalid(`value must be a string or a Buffer, got ${value === null ? 'null' : typeof value}`)
  if (bytes.length === 0) throw invalid('value is empty; an empty secret cannot be stored')
  return bytes
}

/**
 * A host name or a non-empty array of them, as an array.
 * @param {unknown} v
 * @returns {string[]}
 */
function domains(v) {
  const list = typeof v === 'string' ? [v] : v
  if (!Array.isArray(list) || list.length === 0 || list.some((d) => typeof d !== 'string' || d.length === 0)) {
    throw invalid('domains must be a host name or a non-empty array of host names')
  }
  if (list.some((d) => d.startsWith('-'))) throw invalid('a domain cannot start with \'-\'')
  return list
}

/**
 * The `adminPassword` of allowlist options `{ adminPassword }`.
 * @param {unknown} options
 * @returns {string | undefined}
 */
function adminPassword(options) {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('allowlist options must be an object like { adminPassword }')
  for (const k of Object.keys(options)) if (k !== 'adminPassword') throw invalid(`unknown allowlist option '${k}'; known: adminPassword`)
  const pw = /** @type {{ adminPassword?: unknown }} */ (options).adminPassword
  if (pw === undefined) return undefined
  if (typeof pw !== 'string' || pw.length === 0 || /[\r\n]/.test(pw)) throw invalid('adminPassword must be a non-empty single-line string')
  return pw
}

/**
 * Checks the keys of log options and returns their `last` (a count).
 * @param {unknown} options
 * @param {readonly string[]} allowed
 * @returns {number | undefined}
 */
function lastOption(options, allowed) {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('options must be an object')
  for (const k of Object.keys(options)) if (!allowed.includes(k)) throw invalid(`unknown option '${k}'; known: ${allowed.join(', ')}`)
  const last = /** @type {{ last?: unknown }} */ (options).last
  if (last === undefined) return undefined
  if (typeof last !== 'number' || !Number.isInteger(last) || last < 0) throw invalid('last must be a non-negative integer')
  return last
}

module.exports = {
  invalid,
  isPlainObject,
  describe,
  checkKeys,
  optString,
  optBool,
  optTimeout,
  optSignal,
  nonEmpty,
  dropUndefined,
  secretKey,
  secretValue,
  domains,
  adminPassword,
  lastOption,
}
