'use strict'

// @the-17/agentsecrets/testing: a test double of AgentSecrets that needs no
// engine and no credentials. It records secret NAMES, never values.

const { MockAgentSecrets } = require('./lib/testing/mock.js')
const { MockSpawnedProcess } = require('./lib/testing/spawn.js')
const { MARKER } = require('./lib/testing/vault.js')

module.exports = { MockAgentSecrets, MockSpawnedProcess, REDACTION_MARKER: MARKER }
