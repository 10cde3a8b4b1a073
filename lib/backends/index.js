'use strict'

// Which CLI backend a client runs its management commands and spawns with,
// decided once per client: this project's engine (lib/backends/engine.js) or
// the upstream AgentSecrets CLI, Go (lib/backends/upstream_cli.js). Both
// offer the same operations; the client never asks which one it has.
//
// Our engine prints `agentsecrets X.Y.Z (agentsecrets-engine)` for
// `--version`; the upstream prints `agentsecrets version X.Y.Z` (cobra). The
// bundled engine is not asked: only an explicit or `PATH` binary can be the
// upstream CLI.

const { spawnSync } = require('node:child_process')
const { convertError, makeError } = require('../../errors.js')
const { EngineBackend } = require('./engine.js')
const { UpstreamCliBackend, quietEnv } = require('./upstream_cli.js')
const { lines } = require('./upstream_parse.js')

/** @typedef {import('./engine.js').Backend} Backend */
/** @typedef {import('../../binding').NativeClient} NativeClient */

const VERSION_TIMEOUT_MS = 10_000
const ENGINE_VERSION = /^agentsecrets (\S+) \(agentsecrets-engine\)$/
const UPSTREAM_VERSION = /^agentsecrets version v?(\S+)$/
// The bundled engine is released in the same package as this code.
const BUNDLED_VERSION = require('../../package.json').version

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
    found = native.engineLocation()
  } catch (e) {
    throw convertError(e)
  }
  if (found.bundled) return new EngineBackend(native, found.file, BUNDLED_VERSION)
  const first = versionLine(found.file)
  const engine = ENGINE_VERSION.exec(first)
  if (engine) return new EngineBackend(native, found.file, engine[1])
  const upstream = UPSTREAM_VERSION.exec(first)
  if (upstream) return new UpstreamCliBackend(native, found.file, upstream[1])
  throw makeError({
    code: 'BACKEND_UNSUPPORTED',
    message: `${found.file} is neither this SDK's agentsecrets engine nor the upstream AgentSecrets CLI: \`--version\` printed ${JSON.stringify(first.slice(0, 80))}`,
    fix: 'point AGENTSECRETS_CLI (or the `cli` option) at the bundled agentsecrets engine or at the upstream AgentSecrets CLI, or unset it',
  })
}

/**
 * The first non-empty line `file --version` prints.
 * @param {string} file
 */
function versionLine(file) {
  const r = spawnSync(file, ['--version'], {
    encoding: 'utf8',
    env: quietEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: VERSION_TIMEOUT_MS,
    maxBuffer: 64 * 1024,
  })
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`
    throw makeError({
      code: 'CLI_ERROR',
      message: `\`${file} --version\` failed (${why})`,
      fix: 'check that AGENTSECRETS_CLI (or the `cli` option) names an executable agentsecrets binary',
      exitCode: r.status ?? null,
    })
  }
  return lines(r.stdout).find((l) => l.trim() !== '')?.trim() ?? ''
}

module.exports = { backendFor }
