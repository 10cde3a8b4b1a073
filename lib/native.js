'use strict'

// Loads the addon and says where a bundled engine binary may be
// (lib/platform.js, shared with the `agentsecrets` launcher).

const { engineCandidates, noEngineMessage, platformSuffix } = require('./platform.js')

/** @type {typeof import('../binding')} */
let binding
try {
  binding = require('../binding.js')
} catch (e) {
  // No addon for this platform (or the platform package is missing): say
  // what is supported and what to do, keeping napi-rs's details as the cause.
  const err = new Error(`${noEngineMessage({ what: 'Node addon' })} (napi-rs's load errors are in this error's cause.)`, {
    cause: e,
  })
  throw Object.assign(err, { code: 'AGENTSECRETS_NO_BINDING' })
}

module.exports = { binding, engineCandidates, platformSuffix }
