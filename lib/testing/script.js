'use strict'

// What the mock answers: scripted responses, simulated failures and spawn
// outcomes, each kept with its matcher, first registered first used.

const { invalid } = require('../arguments.js')
const { AgentSecretsError } = require('../../errors.js')
const { callMatcher, spawnMatcher } = require('./match.js')
const { normalizeSpec, defaultSpec } = require('./respond.js')
const { normalizeSpawnSpec, defaultSpawnSpec } = require('./spawn.js')

/** @typedef {import('../../testing').MockCallRecord} MockCallRecord */
/** @typedef {import('../../testing').MockSpawnRecord} MockSpawnRecord */
/** @typedef {import('./respond.js').ResponseSpec} ResponseSpec */
/** @typedef {import('./spawn.js').SpawnSpec} SpawnSpec */
/** @typedef {import('./vault.js').Vault} Vault */
/** @typedef {InstanceType<typeof AgentSecretsError>} SdkError */
/** @typedef {(record: MockCallRecord) => unknown} Responder a function the caller scripted */
/**
 * A script entry: what it applies to, what it gives, how many more times.
 * @template R, T
 * @typedef {{ match: (record: R) => boolean, left: number } & T} Entry
 */

/**
 * How many times a script applies (`{ times }`; default: always).
 * @param {unknown} options
 */
function times(options) {
  if (options === undefined || options === null) return Infinity
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('options must be an object like { times }')
  for (const k of Object.keys(options)) if (k !== 'times') throw invalid(`unknown option '${k}'; known: times`)
  const n = /** @type {{ times?: unknown }} */ (options).times
  if (n === undefined) return Infinity
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw invalid('times must be a positive integer')
  return n
}

/**
 * Every text an error shows.
 * @param {SdkError} error
 */
function errorStrings(error) {
  // The fields of every subclass, read without knowing which one it is.
  const e = /** @type {SdkError & Partial<Record<'body' | 'url' | 'key' | 'domain' | 'workspace' | 'project', unknown>> & { headers?: Record<string, unknown> }} */ (error)
  const fields = [e.message, e.fixHint, e.body, e.url, e.key, e.domain, e.workspace, e.project, e.stack]
  return [...fields, ...Object.values(e.headers ?? {})].filter((s) => typeof s === 'string')
}

/**
 * Refuses an error that is not one of the SDK's classes, or that shows a
 * mock secret value (the real client never could).
 * @param {unknown} error
 * @param {Vault} vault
 * @returns {SdkError}
 */
function checkError(error, vault) {
  if (!(error instanceof AgentSecretsError)) throw invalid('a simulated error must be an instance of an AgentSecretsError class (e.g. new DomainNotAllowed(...))')
  if (errorStrings(error).some((s) => vault.reveals(s))) throw invalid('a simulated error shows the value of a mock secret; the real client never returns one')
  return error
}

/**
 * Takes the first entry of `list` whose matcher accepts `record`, using up one of its `times`.
 * @template R
 * @template {{ match: (record: R) => boolean, left: number }} E
 * @param {E[]} list
 * @param {R} record
 * @returns {E | undefined}
 */
function take(list, record) {
  const i = list.findIndex((e) => e.match(record))
  if (i === -1) return undefined
  const entry = list[i]
  entry.left -= 1
  if (entry.left <= 0) list.splice(i, 1)
  return entry
}

class Script {
  #vault
  /** @type {Array<Entry<MockCallRecord, { response: ResponseSpec | Responder }>>} */
  #routes = []
  /** @type {SdkError[]} */
  #once = []
  /** @type {Array<Entry<MockCallRecord, { error: SdkError }>>} */
  #failures = []
  /** @type {Array<Entry<MockSpawnRecord, { result: SpawnSpec }>>} */
  #spawns = []

  /** @param {Vault} vault */
  constructor(vault) {
    this.#vault = vault
  }

  /**
   * @param {unknown} matcher
   * @param {unknown} response a spec, or a function of the record giving one
   * @param {unknown} [options]
   */
  respond(matcher, response, options) {
    const match = callMatcher(matcher)
    const answer = typeof response === 'function' ? /** @type {Responder} */ (response) : normalizeSpec(response)
    this.#routes.push({ match, response: answer, left: times(options) })
  }

  /** @param {unknown} error */
  failNext(error) {
    this.#once.push(checkError(error, this.#vault))
  }

  /**
   * @param {unknown} matcher
   * @param {unknown} error
   * @param {unknown} [options]
   */
  failWhen(matcher, error, options) {
    this.#failures.push({ match: callMatcher(matcher), error: checkError(error, this.#vault), left: times(options) })
  }

  /**
   * @param {unknown} matcher
   * @param {unknown} result
   * @param {unknown} [options]
   */
  respondSpawn(matcher, result, options) {
    this.#spawns.push({ match: spawnMatcher(matcher), result: normalizeSpawnSpec(result), left: times(options) })
  }

  /**
   * The simulated failure for `record`, if any (failNext first).
   * @param {MockCallRecord} record
   */
  failure(record) {
    const error = this.#once.shift() ?? take(this.#failures, record)?.error
    return error === undefined ? undefined : checkError(error, this.#vault)
  }

  /**
   * The checked response spec for `record`.
   * @param {MockCallRecord} record
   * @returns {Promise<ResponseSpec>}
   */
  async answer(record) {
    const route = take(this.#routes, record)
    if (route === undefined) return defaultSpec()
    if (typeof route.response !== 'function') return route.response
    try {
      return normalizeSpec(await route.response(record))
    } catch (e) {
      throw e instanceof AgentSecretsError ? checkError(e, this.#vault) : e
    }
  }

  /** @param {MockSpawnRecord} record */
  spawnResult(record) {
    return take(this.#spawns, record)?.result ?? defaultSpawnSpec()
  }

  reset() {
    this.#routes.length = 0
    this.#once.length = 0
    this.#failures.length = 0
    this.#spawns.length = 0
  }
}

module.exports = { Script }
