'use strict'

// The response of `call()`. It holds what the upstream answered (after the
// engine's redaction) and nothing else: no field can carry a credential.

class AgentSecretsResponse {
  #bytes
  /** @type {string | undefined} */
  #text

  /** @param {import('../binding').NativeResponse} native */
  constructor(native) {
    /** HTTP status from the upstream API. */
    this.statusCode = native.statusCode
    /** Response headers, lower-case names; repeated headers joined with ', '. */
    this.headers = native.headers
    /** True when the engine replaced an echoed credential with [REDACTED_BY_AGENTSECRETS]. */
    this.redacted = native.redacted
    /** Round trip in milliseconds, as measured by the addon. */
    this.durationMs = native.durationMs
    /** The target URL called. */
    this.url = native.url
    /** Which path served it: 'engine', 'upstream-proxy' or 'direct' (no injection, with the upstream proxy). */
    this.backend = native.backend
    this.#bytes = native.body
    this.#text = undefined
  }

  /** True for a 2xx status. */
  get ok() {
    return this.statusCode >= 200 && this.statusCode < 300
  }

  /** The body decoded as UTF-8. */
  get body() {
    if (this.#text === undefined) this.#text = this.#bytes.toString('utf8')
    return this.#text
  }

  /** Same as `body`. */
  text() {
    return this.body
  }

  /** The raw body bytes (a copy; the response stays unchanged). */
  bytes() {
    return Buffer.from(this.#bytes)
  }

  /** The body parsed as JSON; throws a SyntaxError if it is not JSON. */
  json() {
    return JSON.parse(this.body)
  }

  toJSON() {
    return {
      statusCode: this.statusCode,
      headers: this.headers,
      body: this.body,
      redacted: this.redacted,
      durationMs: this.durationMs,
      url: this.url,
      backend: this.backend,
    }
  }
}

module.exports = { AgentSecretsResponse }
