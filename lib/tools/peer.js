'use strict'

// The integrations' libraries are optional peer dependencies: loaded on
// first use, with an error that says what to install when one is missing.

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
    const err = new Error(`${feature} needs ${specifier}, which is not installed.\nTo fix: npm install ${install}`, { cause })
    Object.assign(err, { code: 'PEER_DEPENDENCY_MISSING' })
    throw err
  }
}

module.exports = { requirePeer }
