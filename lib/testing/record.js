'use strict'

// What the mock keeps of a call or a spawn: the request as the engine would
// receive it, with secret NAMES only. There is no value field, and text the
// caller sent is passed through the vault's redaction all the same.

/** @typedef {import('../../binding').NameValue} NameValue */
/** @typedef {import('../../binding').NativeCallRequest} NativeCallRequest */
/** @typedef {import('../../testing').MockCallRecord} MockCallRecord */
/** @typedef {import('../../testing').MockSpawnRecord} MockSpawnRecord */
/** @typedef {import('../spawn.js').NormalizedSpawn} NormalizedSpawn */
/** @typedef {import('./vault.js').Vault} Vault */
/**
 * A normalised call with the workspace and project it uses filled in.
 * @typedef {NativeCallRequest & { workspace: string, project: string }} ScopedCall
 */
/**
 * A normalised spawn with the workspace and project it uses filled in.
 * @typedef {NormalizedSpawn & { request: NormalizedSpawn['request'] & { workspace: string, project: string } }} ScopedSpawn
 */

/**
 * @param {NameValue[] | undefined} pairs
 * @returns {Readonly<Record<string, string>> | undefined}
 */
function namesOf(pairs) {
  if (pairs === undefined) return undefined
  return Object.freeze(Object.fromEntries(pairs.map((p) => [p.name, p.value])))
}

/**
 * Every secret name a normalised call injects, in option order, without repeats.
 * @param {NativeCallRequest} request
 * @returns {string[]}
 */
function secretKeysOf(request) {
  const keys = []
  if (request.bearer !== undefined) keys.push(request.bearer)
  if (request.basic !== undefined) keys.push(request.basic)
  for (const pairs of [request.header, request.query, request.bodyField, request.formField]) {
    for (const p of pairs ?? []) keys.push(p.value)
  }
  return [...new Set(keys)]
}

/**
 * The frozen record of a normalised call (`normalizeCall().request`).
 * @param {ScopedCall} request
 * @param {Vault} vault
 * @returns {MockCallRecord}
 */
function callRecord(request, vault) {
  /** @type {Record<string, string>} */
  const headers = {}
  for (const h of request.headers ?? []) headers[h.name] = vault.redact(h.value).text
  return Object.freeze({
    url: request.url,
    method: (request.method ?? 'GET').toUpperCase(),
    headers: Object.freeze(headers),
    body: request.body === undefined ? null : vault.redact(request.body.toString('utf8')).text,
    bearer: request.bearer,
    basic: request.basic,
    header: namesOf(request.header),
    query: namesOf(request.query),
    bodyField: namesOf(request.bodyField),
    formField: namesOf(request.formField),
    secretKeys: Object.freeze(secretKeysOf(request)),
    agentId: request.agentId,
    workspace: request.workspace,
    project: request.project,
    timestamp: new Date(),
  })
}

/**
 * The frozen record of a normalised spawn (`normalizeSpawn()`).
 * @param {ScopedSpawn} n
 * @param {Vault} vault
 * @returns {MockSpawnRecord}
 */
function spawnRecord(n, vault) {
  const env = n.env === undefined ? undefined : Object.fromEntries(Object.entries(n.env).map(([k, v]) => [k, vault.redact(v).text]))
  return Object.freeze({
    command: n.request.command,
    args: Object.freeze(n.request.args.map((a) => vault.redact(a).text)),
    workspace: n.request.workspace,
    project: n.request.project,
    only: n.request.only === undefined ? undefined : Object.freeze([...n.request.only]),
    env: env === undefined ? undefined : Object.freeze(env),
    cwd: n.cwd,
    capture: n.capture,
    stdio: n.stdio,
    timestamp: new Date(),
  })
}

module.exports = { callRecord, spawnRecord }
