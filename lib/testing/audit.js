'use strict'

// The audit event the engine would log for a mock call: names, never values.

const STYLES = ['bearer', 'basic', 'header', 'query', 'bodyField', 'formField']
const BLOCKED = ['DOMAIN_NOT_ALLOWED', 'INSECURE_SCHEME', 'ADDRESS_REFUSED']

/**
 * @param {object} record the call record
 * @param {{ response?: object, error?: Error, durationMs: number }} outcome
 */
function auditEvent(record, { response, error, durationMs }) {
  const statusCode = response?.statusCode ?? error?.statusCode ?? null
  let status = 'OK'
  if (error && !(statusCode > 0)) status = BLOCKED.includes(error.code) ? 'BLOCKED' : 'ERROR'
  return Object.freeze({
    timestamp: new Date(),
    method: record.method,
    targetUrl: record.url,
    domain: new URL(record.url).hostname,
    secretKeys: [...record.secretKeys],
    authStyles: STYLES.filter((s) => record[s] !== undefined),
    statusCode,
    status,
    reason: status === 'OK' ? null : error.code,
    redacted: response?.redacted === true,
    durationMs,
    agentId: record.agentId ?? null,
    workspace: record.workspace ?? null,
    project: record.project ?? null,
  })
}

module.exports = { auditEvent }
