'use strict'

// The audit event the engine would log for a mock call: names, never values.

/** @typedef {import('../../testing').MockCallRecord} MockCallRecord */
/** @typedef {import('../response.js').AgentSecretsResponse} AgentSecretsResponse */

/** @type {ReadonlyArray<'bearer' | 'basic' | 'header' | 'query' | 'bodyField' | 'formField'>} */
const STYLES = ['bearer', 'basic', 'header', 'query', 'bodyField', 'formField']
const BLOCKED = ['DOMAIN_NOT_ALLOWED', 'INSECURE_SCHEME', 'ADDRESS_REFUSED']

/**
 * @param {MockCallRecord} record the call record
 * @param {{ response?: AgentSecretsResponse, error?: unknown, durationMs: number }} outcome
 * @returns {import('../../index').AuditEvent}
 */
function auditEvent(record, { response, error, durationMs }) {
  // The mock only throws AgentSecretsErrors; an UpstreamError carries a status.
  const failed = /** @type {{ code?: string, statusCode?: number } | undefined} */ (error)
  const statusCode = response?.statusCode ?? failed?.statusCode ?? null
  let status = 'OK'
  if (failed && !(statusCode !== null && statusCode > 0)) status = BLOCKED.includes(failed.code ?? '') ? 'BLOCKED' : 'ERROR'
  return Object.freeze({
    timestamp: new Date(),
    method: record.method,
    targetUrl: record.url,
    domain: new URL(record.url).hostname,
    secretKeys: [...record.secretKeys],
    authStyles: STYLES.filter((s) => record[s] !== undefined),
    statusCode,
    status,
    reason: status === 'OK' ? null : (failed?.code ?? null),
    redacted: response?.redacted === true,
    durationMs,
    agentId: record.agentId ?? null,
    workspace: record.workspace ?? null,
    project: record.project ?? null,
  })
}

module.exports = { auditEvent }
