'use strict'

// Arguments of `workspace(name, fn?)` / `project(name, fn?)`, shared by the
// real client and the test double.

const { invalid } = require('./arguments.js')

/**
 * Throws InvalidArgument unless `name` is a non-empty string and `fn` is absent or a function.
 * @param {'workspace' | 'project'} what
 * @param {unknown} name
 * @param {unknown} fn
 * @returns {asserts name is string}
 */
function checkScopeArgs(what, name, fn) {
  if (typeof name !== 'string') throw invalid(`${what} name must be a string`)
  if (name.length === 0) throw invalid(`${what} name must be a non-empty string`)
  if (fn !== undefined && typeof fn !== 'function') throw invalid(`the second argument of ${what}() must be a function`)
}

/**
 * `scoped` itself, or with `fn` the promise of `fn(scoped)`.
 * @template S, T
 * @param {S} scoped
 * @param {((scoped: S) => T | Promise<T>) | undefined} fn
 * @returns {S | Promise<T>}
 */
function runScoped(scoped, fn) {
  return fn === undefined ? scoped : Promise.resolve().then(() => fn(scoped))
}

module.exports = { checkScopeArgs, runScoped }
