'use strict'

// @the-17/agentsecrets: use API credentials by name. The value is resolved
// and injected by the local engine and never enters this process.

const errors = require('./errors.js')
const { AgentSecrets } = require('./lib/client.js')
const { AgentSecretsResponse } = require('./lib/response.js')
const { SpawnedProcess } = require('./lib/spawn.js')
const { AgentSecretsFetchResponse } = require('./lib/fetch.js')
const { secretRef, createFetch, installGlobalFetch } = require('./lib/placeholders.js')

module.exports = {
  AgentSecrets,
  AgentSecretsResponse,
  SpawnedProcess,
  AgentSecretsFetchResponse,
  secretRef,
  createFetch,
  installGlobalFetch,
  convertError: errors.convertError,
  // Every error class (errors.js CLASSES); index.mjs and index.d.ts name each.
  ...errors.CLASSES,
}
