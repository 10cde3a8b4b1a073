'use strict'

// This project's engine as the CLI backend: every operation is one
// `agentsecrets --json ARGS` run through the addon, whose JSON the
// management sub-clients map; spawning runs its `env`, which masks the
// child's output.

const { convertError, makeError } = require('../../errors.js')

/** @typedef {import('../../binding').NativeClient} NativeClient */
/** @typedef {import('../../binding').NativeEnvCommand} NativeEnvCommand */
/** @typedef {import('../../binding').NativeEnvRequest} NativeEnvRequest */
/** @typedef {import('../spawn.js').NormalizedSpawn} NormalizedSpawn */
/** @typedef {{ workspace?: string, project?: string }} Scope */

/**
 * What both CLI backends offer.
 * @typedef {object} Backend
 * @property {'engine' | 'upstream'} kind
 * @property {string} file the binary run
 * @property {string} version its version
 * @property {<T>(args: string[], stdin?: Buffer) => Promise<T>} json the JSON the engine prints for `--json ARGS`
 * @property {(normalized: NormalizedSpawn) => NativeEnvCommand} envCommand the command that runs a spawn
 * @property {(request: NativeEnvRequest) => Promise<void> | undefined} precheck typed errors for what a spawn would be refused for, before it starts
 * @property {(what: string) => Error} teamOnly the refusal of an operation that needs a team backend
 */

/**
 * `--workspace` / `--project` flags for `scope` (never a global switch).
 * @param {Scope} scope
 * @returns {string[]}
 */
function scopeFlags(scope) {
  const out = []
  if (scope.workspace !== undefined) out.push(`--workspace=${scope.workspace}`)
  if (scope.project !== undefined) out.push(`--project=${scope.project}`)
  return out
}

/**
 * The engine's refusal of an operation it leaves to the team's OpenBao / Vault.
 * @param {string} what
 */
function teamOnly(what) {
  return makeError({
    code: 'BACKEND_UNSUPPORTED',
    message: `${what} is not offered by the engine: a team's members are identities of its OpenBao / Vault, not of the SDK`,
    fix: 'an OpenBao admin adds the member (a policy plus a userpass or AppRole identity) and hands over the credential by response wrapping; see "Teams and CI" in the README',
  })
}

/** @implements {Backend} */
class EngineBackend {
  #native

  /**
   * @param {NativeClient} native
   * @param {string} file
   * @param {string} version
   */
  constructor(native, file, version) {
    this.#native = native
    /** @type {'engine'} */
    this.kind = 'engine'
    this.file = file
    this.version = version
  }

  /**
   * @template T
   * @param {string[]} args
   * @param {Buffer} [stdin]
   * @returns {Promise<T>}
   */
  async json(args, stdin) {
    let out
    try {
      out = await this.#native.runCli({ args, stdin })
    } catch (e) {
      throw convertError(e)
    }
    try {
      return JSON.parse(out)
    } catch {
      throw makeError({
        code: 'BAD_ENGINE_RESPONSE',
        message: `\`agentsecrets ${args[0]} ${args[1] ?? ''}\` printed output that is not JSON`,
        fix: "check that AGENTSECRETS_CLI names this project's engine",
      })
    }
  }

  /** @param {NormalizedSpawn} normalized */
  envCommand(normalized) {
    try {
      return this.#native.envCommand(normalized.request)
    } catch (e) {
      throw convertError(e)
    }
  }

  /**
   * Typed errors for a missing home, workspace, project or `only` name,
   * before anything runs (the engine's `env` would only exit non-zero).
   * @param {NativeEnvRequest} request
   * @returns {Promise<void>}
   */
  async precheck(request) {
    /** @type {Array<{ key: string }>} */
    const rows = await this.json(['secrets', 'list', ...scopeFlags(request)])
    for (const key of request.only ?? []) {
      if (!rows.some((r) => r.key === key)) throw secretNotFound(key)
    }
  }

  /** @param {string} what */
  teamOnly(what) {
    return teamOnly(what)
  }
}

/**
 * A secret named in `only` that the scope does not hold.
 * @param {string} key
 */
function secretNotFound(key) {
  return makeError({
    code: 'SECRET_NOT_FOUND',
    message: `secret ${key} does not exist in the scope used`,
    fix: `store it with \`agentsecrets secrets set ${key}\` (the value is read from stdin), or drop it from \`only\``,
    key,
  })
}

module.exports = { EngineBackend, scopeFlags, teamOnly }
