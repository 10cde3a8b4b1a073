'use strict'

// @the-17/agentsecrets/langchain: LangChain.js tools that call APIs with
// stored credentials by name. Needs @langchain/core and zod (optional peers).

const { createApiCallTool, createSecretTools } = require('./lib/integrations/langchain.js')

module.exports = { createApiCallTool, createSecretTools }
