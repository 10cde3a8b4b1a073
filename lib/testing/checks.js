'use strict'

// The refusals the engine and the addon give before or while a call runs,
// as the same typed errors: a bad target, an insecure scheme, a missing
// secret, a host off the allowlist, a closed client, a timeout.

const { invalid } = require('../options.js')
const { abortError } = require('../abort.js')
const { ClientClosed, DomainNotAllowed, PermissionDenied, TimeoutError } = require('../../errors.js')
const { secretNotFound } = require('./manage.js')

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]']

/** The call's target as a URL; InvalidArgument unless it is an absolute http(s) URL. */
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

/** The refusal of the engine for `record` (which injects secrets), or undefined. */
function refusal(target, record, { vault, world, checkSecrets }) {
  if (record.secretKeys.length === 0) return undefined
  if (target.protocol === 'http:' && !LOOPBACK.includes(target.hostname)) {
    const fix = 'use https:// (credentials are only injected over TLS, or to loopback)'
    return new PermissionDenied(`refusing to inject credentials into plain http to ${target.hostname}\nTo fix: ${fix}`, { code: 'INSECURE_SCHEME', fixHint: fix })
  }
  const missing = checkSecrets ? record.secretKeys.find((k) => !vault.has(k)) : undefined
  if (missing !== undefined) return secretNotFound(missing)
  if (!world.allows(target.hostname, record.workspace)) {
    const fix = `add it with \`agentsecrets workspace allowlist add ${target.hostname}\` (needs the admin password)`
    return new DomainNotAllowed(`${target.hostname} is not on the workspace allowlist\nTo fix: ${fix}`, { code: 'DOMAIN_NOT_ALLOWED', fixHint: fix, domain: target.hostname })
  }
  return undefined
}

function closedError() {
  return new ClientClosed('this AgentSecrets client was closed\nTo fix: create a new AgentSecrets client', { code: 'CLIENT_CLOSED', fixHint: 'create a new AgentSecrets client' })
}

function timeoutError(ms) {
  const fix = 'raise `timeoutMs`, or check that the target answers'
  return new TimeoutError(`the call did not complete within ${ms} ms\nTo fix: ${fix}`, { code: 'TIMEOUT', fixHint: fix })
}

/**
 * Waits `ms` (a scripted delay). Rejects with TimeoutError when `timeoutMs`
 * (> 0) runs out first, and with AbortError when `signal` fires.
 */
function delay(ms, timeoutMs, signal) {
  if (signal?.aborted) return Promise.reject(abortError(signal))
  const late = timeoutMs > 0 && ms >= timeoutMs
  if (ms === 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortError(signal))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      if (late) reject(timeoutError(timeoutMs))
      else resolve()
    }, late ? timeoutMs : ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

module.exports = { parseTarget, refusal, closedError, delay }
