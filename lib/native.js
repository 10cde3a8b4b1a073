'use strict'

// Loads the addon and says where a bundled engine binary may be.

const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')
const ENGINE_NAME = process.platform === 'win32' ? 'agentsecrets.exe' : 'agentsecrets'

const binding = require('../binding.js')

/** The platform suffix napi-rs uses for package names (`linux-x64-gnu`, ...). */
function platformSuffix() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null
    const glibc = report?.header?.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/**
 * Where the engine shipped with this package may be, in order: next to the
 * addon, in the platform package, in a development checkout's target/.
 * `AGENTSECRETS_CLI` and `PATH` are handled by the addon.
 * @returns {string[]}
 */
let cached = null
function engineCandidates() {
  if (cached) return cached.slice()
  const out = [path.join(ROOT, ENGINE_NAME)]
  try {
    const pkg = require.resolve(`@the-17/agentsecrets-${platformSuffix()}/package.json`)
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

module.exports = { binding, engineCandidates, platformSuffix }
