'use strict'

// Options of `new MockAgentSecrets()`: the real client's options (checked by
// the real code) plus `secrets` (name → value) and `allowlist` (hosts).

const { normalizeClientOptions } = require('../options.js')
const { invalid, isPlainObject, domains, secretKey, secretValue } = require('../arguments.js')

const MOCK_OPTIONS = ['secrets', 'allowlist']

/**
 * @param {unknown} v
 */
function mockSecrets(v) {
  if (v === undefined) return undefined
  if (!isPlainObject(v)) throw invalid('secrets must be an object mapping secret names to values')
  return Object.entries(v).map(([key, value]) => /** @type {[string, Buffer]} */ ([secretKey(key), secretValue(value)]))
}

/**
 * @param {unknown} v
 */
function mockAllowlist(v) {
  if (v === undefined) return undefined
  if (Array.isArray(v) && v.length === 0) return []
  return domains(v)
}

/**
 * @param {unknown} options
 * @returns {{ native: import('../../binding').NativeClientOptions, defaults: import('../options.js').CallDefaults, secrets?: Array<[string, Buffer]>, allowlist?: string[] }}
 */
function normalizeMockOptions(options) {
  if (options === undefined || options === null) options = {}
  if (!isPlainObject(options)) throw invalid('MockAgentSecrets options must be an object')
  const rest = { ...options }
  for (const k of MOCK_OPTIONS) delete rest[k]
  const { native, defaults } = normalizeClientOptions(rest)
  return { native, defaults, secrets: mockSecrets(options.secrets), allowlist: mockAllowlist(options.allowlist) }
}

module.exports = { normalizeMockOptions }
