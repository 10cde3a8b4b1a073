'use strict'

// Where the engine binary shipped with this package is, and what to say when
// this platform has none. Loads no addon, so the `agentsecrets` launcher
// (bin/agentsecrets.js) can use it on any platform. The SDK's auto-start and
// the launcher both take their bundled candidates from engineCandidates().

const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')
const PACKAGE = '@the-17/agentsecrets'
const ENGINE_NAME = process.platform === 'win32' ? 'agentsecrets.exe' : 'agentsecrets'

/** What a Windows user can do instead of running the engine. */
const WINDOWS_FIX =
  'run your program in WSL 2 (a Linux distribution, where npm installs the Linux build), ' +
  "or run the upstream AgentSecrets proxy and pass { backend: 'upstream-proxy' }, " +
  'or use MockAgentSecrets from @the-17/agentsecrets/testing in tests'

/** Platforms with a prebuilt package (`npm/<suffix>/`, package.json's napi.targets). */
const PREBUILT = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']

/** The platform suffix napi-rs uses for package names (`linux-x64-gnu`, ...). */
function platformSuffix() {
  const { platform, arch } = process
  if (platform === 'linux') {
    // The report's header is not in @types/node's type of it.
    const report = /** @type {{ header?: { glibcVersionRuntime?: string } } | null} */ (typeof process.report?.getReport === 'function' ? process.report.getReport() : null)
    const glibc = report?.header?.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/**
 * Where the engine shipped with this package may be, in order: next to the
 * addon, in the platform package, in a development checkout's target/.
 * The SDK passes this list to the addon, which tries `AGENTSECRETS_CLI` (or
 * the `cli` option) first, then these, then `PATH`.
 * @returns {string[]}
 */
/** @type {string[] | null} */
let cached = null
function engineCandidates() {
  if (cached) return cached.slice()
  const out = [path.join(ROOT, ENGINE_NAME)]
  try {
    const pkg = require.resolve(`${PACKAGE}-${platformSuffix()}/package.json`)
    out.push(path.join(path.dirname(pkg), ENGINE_NAME))
  } catch {
    // Not installed: the platform package is optional in a checkout.
  }
  for (const profile of ['debug', 'release']) {
    const p = path.join(ROOT, 'target', profile, ENGINE_NAME)
    if (fs.existsSync(p)) out.push(p)
  }
  cached = out
  return out.slice()
}

/** @param {string} p */
function isExecutable(p) {
  try {
    const st = fs.statSync(p)
    if (!st.isFile()) return false
    if (process.platform === 'win32') return true
    fs.accessSync(p, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The engine the launcher runs, in the SDK's order without its last step:
 * `AGENTSECRETS_CLI`, then engineCandidates(). `PATH` is not searched, since
 * under `npx` or an npm script the first `agentsecrets` on it is the launcher
 * itself.
 * @returns {{ path: string, origin: 'explicit' | 'bundled' } | { error: string }}
 */
function findEngine(env = process.env) {
  const cli = env.AGENTSECRETS_CLI
  if (cli) {
    if (isExecutable(cli)) return { path: cli, origin: 'explicit' }
    return {
      error:
        `agentsecrets: AGENTSECRETS_CLI is set to ${cli}, which is not an executable file. ` +
        'Point it at the agentsecrets engine binary, or unset it to use the one installed with this package.',
    }
  }
  const found = engineCandidates().find(isExecutable)
  if (found) return { path: found, origin: 'bundled' }
  return { error: noEngineMessage() }
}

/**
 * One paragraph saying why this install has no engine (or addon) and what to
 * do about it.
 * @param {{ platform?: string, arch?: string, suffix?: string, what?: string }} [where]
 *   defaults to this process; `what` names the missing piece (default: the engine)
 */
function noEngineMessage(where = {}) {
  const what = where.what ?? 'engine'
  const platform = where.platform ?? process.platform
  const suffix = where.suffix ?? platformSuffix()
  if (platform === 'win32' && what === 'engine') {
    return `${PACKAGE}: the agentsecrets engine does not run on Windows yet. To fix: ${WINDOWS_FIX}.`
  }
  const missing = missingBuildMessage(what, platform, where.arch ?? process.arch, suffix)
  if (platform === 'win32') return `${missing} The agentsecrets engine itself does not run on Windows yet: ${WINDOWS_FIX}.`
  return missing
}

/**
 * @param {string} what the missing piece
 * @param {string} platform
 * @param {string} arch
 * @param {string} suffix
 */
function missingBuildMessage(what, platform, arch, suffix) {
  const supported = PREBUILT.join(', ')
  const build =
    'or build from source: in a checkout of https://github.com/the-17/agentsecrets-node, ' +
    '`npm ci && npm run build:all` (needs Rust >= 1.85).'
  if (!PREBUILT.includes(suffix)) {
    return (
      `${PACKAGE}: there is no prebuilt build for ${suffix} (${platform}/${arch}) yet; prebuilt packages ` +
      `(the Node addon and, but on Windows, the agentsecrets engine) exist for ${supported}. Use a supported platform, ${build}`
    )
  }
  return (
    `${PACKAGE}: the ${what} for ${suffix} was not found or could not be loaded. It comes in the optional ` +
    `dependency ${PACKAGE}-${suffix}; reinstall without --omit=optional / --no-optional ` +
    `(npm install ${PACKAGE}). In a source checkout, run npm run build:all.`
  )
}

module.exports = { ENGINE_NAME, PREBUILT, engineCandidates, findEngine, noEngineMessage, platformSuffix }
