'use strict'

// The refusals the engine and the addon give before or while a call runs,
// as the same typed errors: a bad target, an insecure scheme, a missing
// secret, a host off the allowlist, a closed client, a timeout.

const { invalid } = require('../arguments.js')
const { abortError, callTimeout } = require('../stopped.js')
const { makeError } = require('../../errors.js')
const { secretNotFound } = require('./manage.js')

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]']

/**
 * The call's target as a URL; InvalidArgument unless it is an absolute http(s) URL.
 * @param {string} url
 */
function parseTarget(url) {
  let target
  try {
    target = new URL(url)
  } catch {
    throw invalid(`url is not a valid absolute URL: ${JSON.stringify(url)}`)
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw invalid(`url must be an http or https URL, got ${target.protocol}`)
  return target
}

/**
 * The refusal of the engine for `record` (which injects secrets), or undefined.
 * @param {URL} target
 * @param {import('../../testing').MockCallRecord} record
 * @param {{ vault: import('./vault.js').Vault, world: import('./world.js').World, checkSecrets: boolean }} state
 */
function refusal(target, record, { vault, world, checkSecrets }) {
  if (record.secretKeys.length === 0) return undefined
  if (target.protocol === 'http:' && !LOOPBACK.includes(target.hostname)) {
    return makeError({
      code: 'INSECURE_SCHEME',
      message: `refusing to inject credentials into plain http to ${target.hostname}`,
      fix: 'use https:// (credentials are only injected over TLS, or to loopback)',
    })
  }
  const missing = checkSecrets ? record.secretKeys.find((k) => !vault.has(k)) : undefined
  if (missing !== undefined) return secretNotFound(missing)
  if (!world.allows(target.hostname, record.workspace)) {
    return makeError({
      code: 'DOMAIN_NOT_ALLOWED',
      message: `${target.hostname} is not on the workspace allowlist`,
      fix: `add it with \`agentsecrets workspace allowlist add ${target.hostname}\` (needs the admin password)`,
      domain: target.hostname,
    })
  }
  return undefined
}

function closedError() {
  return makeError({ code: 'CLIENT_CLOSED', message: 'this AgentSecrets client was closed', fix: 'create a new AgentSecrets client' })
}

/**
 * Waits `ms` (a scripted delay). Rejects with TimeoutError when `timeoutMs`
 * (> 0) runs out first, and with AbortError when `signal` fires.
 * @param {number} ms
 * @param {number} timeoutMs
 * @param {AbortSignal | undefined} signal
 */
function delay(ms, timeoutMs, signal) {
  if (signal?.aborted) return Promise.reject(abortError(signal))
  const late = timeoutMs > 0 && ms >= timeoutMs
  if (ms === 0) return Promise.resolve()
  return /** @type {Promise<void>} */ (
    new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer)
        if (signal) reject(abortError(signal))
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        if (late) reject(callTimeout(timeoutMs))
        else resolve(undefined)
      }, late ? timeoutMs : ms)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  )
}

module.exports = { parseTarget, refusal, closedError, delay }
