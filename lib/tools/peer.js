'use strict'

// The integrations' libraries are optional peer dependencies: loaded on
// first use, with an error that says what to install when one is missing.

const { makeError } = require('../../errors.js')

/**
 * @param {string} specifier what to require
 * @param {string} feature e.g. '@the-17/agentsecrets/langchain'
 * @param {string} install the packages to install, e.g. '@langchain/core zod'
 * @returns {any}
 */
function requirePeer(specifier, feature, install) {
  try {
    return require(specifier)
  } catch (cause) {
    const missing = /** @type {{ code?: string }} */ (cause)?.code === 'MODULE_NOT_FOUND'
    if (!missing) throw cause
    throw makeError({ code: 'PEER_DEPENDENCY_MISSING', message: `${feature} needs ${specifier}, which is not installed.`, fix: `npm install ${install}`, cause })
  }
}

module.exports = { requirePeer }
