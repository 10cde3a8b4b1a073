'use strict'

// Which CLI backend a client runs its management commands and spawns with,
// decided once per client: this project's engine (lib/backends/engine.js) or
// the upstream AgentSecrets CLI, Go (lib/backends/upstream_cli.js). Both
// offer the same operations; the client never asks which one it has.
//
// What the binary is, the addon finds out (src/cli_backend.rs), once per
// client.

const { convertError } = require('../../errors.js')
const { EngineBackend } = require('./engine.js')
const { UpstreamCliBackend } = require('./upstream_cli.js')

/** @typedef {import('./engine.js').Backend} Backend */
/** @typedef {import('../../binding').NativeClient} NativeClient */

/** @type {WeakMap<NativeClient, Backend>} */
const chosen = new WeakMap()

/**
 * The backend of `native`, found on first use (a client that only makes
 * calls never runs the CLI) and kept.
 * @param {NativeClient} native
 * @returns {Backend}
 */
function backendFor(native) {
  let backend = chosen.get(native)
  if (!backend) {
    backend = detect(native)
    chosen.set(native, backend)
  }
  return backend
}

/**
 * @param {NativeClient} native
 * @returns {Backend}
 */
function detect(native) {
  let found
  try {
    found = native.cliBackend()
  } catch (e) {
    throw convertError(e)
  }
  if (found.kind === 'upstream-cli') return new UpstreamCliBackend(native, found.file, found.version)
  return new EngineBackend(native, found.file, found.version)
}

module.exports = { backendFor }
