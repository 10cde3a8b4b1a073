'use strict'

// The AbortError of a call whose AbortSignal fired (shared by the real
// client and the test double).

const { AbortError } = require('../errors.js')

const FIX = 'the AbortSignal passed as `signal` fired; retry without aborting if the call is still wanted'

/** @param {AbortSignal} signal */
function abortError(signal) {
  return new AbortError(`the call was aborted\nTo fix: ${FIX}`, { code: 'ABORTED', fixHint: FIX, cause: signal.reason })
}

module.exports = { abortError }
