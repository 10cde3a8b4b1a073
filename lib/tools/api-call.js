'use strict'

// The `api_call` tool's work, shared by LangChain and MCP: check the model's
// arguments against the pins, call through the engine, and answer in text.
// Nothing is sent when a check fails.

const { parseInjections } = require('./injections.js')
const { makePins, checkUrl, checkMethod, checkSecrets, checkHeaders } = require('./pinning.js')
const { describeApiCall, errorText, responseText, DEFAULT_MAX_OUTPUT_CHARS } = require('./describe.js')
const { makeError } = require('../../errors.js')

/** Default of `maxResponseBytes` for tools: the model sees a few KiB, so a huge answer need not be read whole. */
const DEFAULT_TOOL_RESPONSE_BYTES = 8 * 1024 * 1024
const API_CALL_OPTIONS = ['name', 'description', 'allowUrls', 'allowMethods', 'allowSecrets', 'maxOutputChars', 'maxResponseBytes', 'timeoutMs', 'agentId']

/**
 * @typedef {object} ApiCallConfig
 * @property {import('./pinning.js').Pins} pins
 * @property {string} description
 * @property {number} maxOutputChars
 * @property {number} maxResponseBytes
 * @property {number | undefined} timeoutMs
 * @property {string} agentId
 */

/**
 * @param {unknown} v
 * @param {string} what
 */
function positiveInt(v, what) {
  if (!Number.isSafeInteger(v) || /** @type {number} */ (v) < 1) {
    throw makeError({ code: 'INVALID_ARGUMENT', message: `${what} must be a positive integer`, fix: `correct the tool's ${what} option` })
  }
  return /** @type {number} */ (v)
}

/**
 * Checks a tool's options once, when it is created.
 * @param {Record<string, any> | undefined} options
 * @param {string} defaultAgentId
 * @returns {ApiCallConfig}
 */
function apiCallConfig(options, defaultAgentId) {
  const o = options ?? {}
  for (const k of Object.keys(o)) {
    if (!API_CALL_OPTIONS.includes(k)) {
      throw makeError({ code: 'INVALID_ARGUMENT', message: `unknown tool option '${k}'`, fix: `use ${API_CALL_OPTIONS.join(', ')}` })
    }
  }
  const pins = makePins(o)
  return {
    pins,
    description: o.description ?? describeApiCall(pins),
    maxOutputChars: o.maxOutputChars === undefined ? DEFAULT_MAX_OUTPUT_CHARS : positiveInt(o.maxOutputChars, 'maxOutputChars'),
    maxResponseBytes: o.maxResponseBytes === undefined ? DEFAULT_TOOL_RESPONSE_BYTES : positiveInt(o.maxResponseBytes, 'maxResponseBytes'),
    timeoutMs: o.timeoutMs === undefined ? undefined : positiveInt(o.timeoutMs, 'timeoutMs'),
    agentId: o.agentId ?? defaultAgentId,
  }
}

/**
 * The model's body: text as is, an object or array as JSON (a plain object
 * as a form when a `form:` injection is used, which `call()` decides).
 * @param {unknown} body
 */
function checkBody(body) {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string' || typeof body === 'object') return body
  throw makeError({ code: 'INVALID_ARGUMENT', message: 'body must be text or a JSON object' })
}

/**
 * Runs one `api_call`. Never throws: every failure becomes `isError` text.
 * @param {import('../../index').AgentSecretsClient} client
 * @param {ApiCallConfig} config
 * @param {Record<string, unknown>} args the model's
 * @param {AbortSignal} [signal]
 * @returns {Promise<{ text: string, isError: boolean }>}
 */
async function runApiCall(client, config, args, signal) {
  try {
    const { pins } = config
    const url = checkUrl(pins, args.url)
    const method = checkMethod(pins, args.method)
    const injections = parseInjections(args.injections)
    checkSecrets(pins, injections.secrets)
    const headers = checkHeaders(args.headers)
    const response = await client.call(url, {
      ...injections.options,
      method,
      headers,
      body: /** @type {any} */ (checkBody(args.body)),
      throwOnHttpError: false,
      agentId: config.agentId,
      timeoutMs: config.timeoutMs,
      maxResponseBytes: config.maxResponseBytes,
      signal,
    })
    return { text: responseText(response, config.maxOutputChars), isError: false }
  } catch (err) {
    return { text: errorText(err), isError: true }
  }
}

module.exports = { apiCallConfig, runApiCall }
