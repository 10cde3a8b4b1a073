'use strict'

// What the mock answers: scripted responses, simulated failures and spawn
// outcomes, each kept with its matcher, first registered first used.

const { invalid } = require('../arguments.js')
const { AgentSecretsError } = require('../../errors.js')
const { callMatcher, spawnMatcher } = require('./match.js')
const { normalizeSpec, defaultSpec } = require('./respond.js')
const { normalizeSpawnSpec, defaultSpawnSpec } = require('./spawn.js')

function times(options) {
  if (options === undefined || options === null) return Infinity
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('options must be an object like { times }')
  for (const k of Object.keys(options)) if (k !== 'times') throw invalid(`unknown option '${k}'; known: times`)
  if (options.times === undefined) return Infinity
  if (!Number.isInteger(options.times) || options.times < 1) throw invalid('times must be a positive integer')
  return options.times
}

function errorStrings(e) {
  const fields = [e.message, e.fixHint, e.body, e.url, e.key, e.domain, e.workspace, e.project, e.stack]
  return [...fields, ...Object.values(e.headers ?? {})].filter((s) => typeof s === 'string')
}

/**
 * Refuses an error that is not one of the SDK's classes, or that shows a
 * mock secret value (the real client never could).
 * @param {import('./vault').Vault} vault
 */
function checkError(error, vault) {
  if (!(error instanceof AgentSecretsError)) throw invalid('a simulated error must be an instance of an AgentSecretsError class (e.g. new DomainNotAllowed(...))')
  if (errorStrings(error).some((s) => vault.reveals(s))) throw invalid('a simulated error shows the value of a mock secret; the real client never returns one')
  return error
}

/** Takes the first entry of `list` whose matcher accepts `record`, using up one of its `times`. */
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
  #routes = []
  #once = []
  #failures = []
  #spawns = []

  constructor(vault) {
    this.#vault = vault
  }

  respond(matcher, response, options) {
    const match = callMatcher(matcher)
    if (typeof response !== 'function') response = normalizeSpec(response)
    this.#routes.push({ match, response, left: times(options) })
  }

  failNext(error) {
    this.#once.push(checkError(error, this.#vault))
  }

  failWhen(matcher, error, options) {
    this.#failures.push({ match: callMatcher(matcher), error: checkError(error, this.#vault), left: times(options) })
  }

  respondSpawn(matcher, result, options) {
    this.#spawns.push({ match: spawnMatcher(matcher), result: normalizeSpawnSpec(result), left: times(options) })
  }

  /** The simulated failure for `record`, if any (failNext first). */
  failure(record) {
    const error = this.#once.shift() ?? take(this.#failures, record)?.error
    return error === undefined ? undefined : checkError(error, this.#vault)
  }

  /** The checked response spec for `record`. */
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

module.exports = { Script, checkError }
