'use strict'

// The public AgentSecrets class: a thin wrapper that checks arguments, hands
// them to the native client and maps its errors to the classes of errors.js.

const { binding, engineCandidates } = require('./native.js')
const { normalizeClientOptions, normalizeCall } = require('./options.js')
const { AgentSecretsResponse } = require('./response.js')
const { AbortError, convertError } = require('../errors.js')

let nextCallId = 1
function callId() {
  const id = nextCallId
  nextCallId = nextCallId >= 0xfffffff0 ? 1 : nextCallId + 1
  return id
}

function abortError(signal) {
  return new AbortError('the call was aborted\nTo fix: the AbortSignal passed as `signal` fired; retry without aborting if the call is still wanted', {
    code: 'ABORTED',
    fixHint: 'the AbortSignal passed as `signal` fired; retry without aborting if the call is still wanted',
    cause: signal.reason,
  })
}

class AgentSecrets {
  #native
  #defaults

  /**
   * @param {import('../index').AgentSecretsOptions} [options]
   */
  constructor(options) {
    const { native, defaults } = normalizeClientOptions(options)
    for (const k of Object.keys(native)) if (native[k] === undefined) delete native[k]
    try {
      this.#native = new binding.NativeClient({ ...native, engineCandidates: engineCandidates() })
    } catch (e) {
      throw convertError(e)
    }
    this.#defaults = defaults
  }

  /** The engine home this client uses. */
  get home() {
    return this.#native.home
  }

  /**
   * Calls `url`, injecting the named secrets. Without any injection option the
   * call goes straight to the target (no engine involved).
   * @param {string | URL} url
   * @param {import('../index').CallOptions} [options]
   * @returns {Promise<AgentSecretsResponse>}
   */
  async call(url, options) {
    const { request, signal } = normalizeCall(url, options, this.#defaults)
    if (signal?.aborted) throw abortError(signal)
    const id = callId()
    const native = this.#native
    const onAbort = () => native.cancel(id)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return new AgentSecretsResponse(await native.call(request, id))
    } catch (e) {
      const err = convertError(e)
      if (err instanceof AbortError && signal?.aborted) throw abortError(signal)
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Same as `call()`; kept for parity with the Python SDK's `async_call`. */
  asyncCall(url, options) {
    return this.call(url, options)
  }

  /**
   * Finds the backend now (starting the engine when allowed) instead of on
   * the first call that needs it.
   * @returns {Promise<import('../index').BackendInfo>}
   */
  async connect() {
    try {
      return await this.#native.connect()
    } catch (e) {
      throw convertError(e)
    }
  }

  /** Releases pooled connections. Calls made afterwards are refused. */
  async close() {
    await this.#native.close()
  }
}

module.exports = { AgentSecrets }
