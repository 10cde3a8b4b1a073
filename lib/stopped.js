'use strict'

// The errors of a call or a command stopped by its AbortSignal or its
// timeout, shared by the real client and the test double.

const { makeError } = require('../errors.js')

/** @typedef {import('../index').SpawnResult} SpawnResult */

/**
 * A call whose AbortSignal fired.
 * @param {AbortSignal} signal
 */
function abortError(signal) {
  return makeError({
    code: 'ABORTED',
    message: 'the call was aborted',
    fix: 'the AbortSignal passed as `signal` fired; retry without aborting if the call is still wanted',
    cause: signal.reason,
  })
}

/**
 * A call over its `timeoutMs` (the addon says the same for real calls).
 * @param {number} ms
 */
function callTimeout(ms) {
  return makeError({ code: 'TIMEOUT', message: `the call did not complete within ${ms} ms`, fix: 'raise `timeoutMs`, or check that the target answers' })
}

/**
 * A spawned command killed because its AbortSignal fired.
 * @param {unknown} reason the signal's reason
 * @param {SpawnResult} result how it ended
 */
function commandAborted(reason, result) {
  const e = makeError({
    code: 'ABORTED',
    message: 'the command was aborted and killed',
    fix: 'the AbortSignal passed as `signal` fired; run the command again if it is still wanted',
    cause: reason,
  })
  return Object.assign(e, { result })
}

/**
 * A spawned command killed at its `timeoutMs`.
 * @param {number} ms
 * @param {SpawnResult} result how it ended
 */
function commandTimeout(ms, result) {
  const e = makeError({
    code: 'TIMEOUT',
    message: `the command did not finish within ${ms} ms and was killed`,
    fix: 'raise `timeoutMs`, or check why the command does not finish',
  })
  return Object.assign(e, { result })
}

module.exports = { abortError, callTimeout, commandAborted, commandTimeout }
