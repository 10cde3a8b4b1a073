'use strict'

// The tools' input schemas, built with the caller's zod (an optional peer),
// one definition for LangChain and MCP. Values stay loose on purpose (plain
// strings): the tool checks them itself and answers the model with text it
// can act on, instead of a schema library's validation dump.

const { INJECTION_FORMS } = require('./injections.js')

/**
 * The `api_call` arguments, as a zod raw shape.
 * @param {any} z zod
 */
function apiCallShape(z) {
  return {
    url: z.string().describe('Absolute URL to call, e.g. https://api.example.com/v1/items?limit=10'),
    method: z.string().optional().describe('HTTP method (default GET)'),
    headers: z.record(z.string(), z.string()).optional().describe('Plain, non-secret request headers'),
    body: z
      .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])
      .optional()
      .describe('Request body: text, or a JSON object/array (sent as JSON; as a form with a form: injection)'),
    injections: z
      .record(z.string(), z.string())
      .optional()
      .describe(`Where to inject which secret: ${INJECTION_FORMS.join(', ')} → secret NAME (never a value), e.g. {"bearer": "OPENAI_KEY"}`),
  }
}

/**
 * The `run_with_secrets` arguments.
 * @param {any} z zod
 * @param {string[]} commands
 */
function spawnShape(z, commands) {
  return {
    command: z.string().describe(`The program to run: one of ${commands.join(', ')}`),
    args: z.array(z.string()).optional().describe('Its arguments'),
  }
}

module.exports = { apiCallShape, spawnShape }
