'use strict'

// The mock's secret store. Values stay in a private field: nothing the mock
// hands out (records, responses, errors, listings) is built from them, and
// `redact()` removes them, in the encoded forms an echo could take, from
// text that an answer or a spawned command produced.

const MARKER = '[REDACTED_BY_AGENTSECRETS]'

/** The forms an echoed value may take: raw, base64, base64url, URL-, form- and JSON-escaped, hex. */
/**
 * @param {string} value
 * @returns {string[]}
 */
function forms(value) {
  const buf = Buffer.from(value, 'utf8')
  const hex = buf.toString('hex')
  const uri = encodeURIComponent(value)
  const out = [value, buf.toString('base64'), buf.toString('base64url'), uri, uri.replace(/%20/g, '+'), JSON.stringify(value).slice(1, -1), hex, hex.toUpperCase()]
  return [...new Set(out)].filter((f) => f.length > 0)
}

/**
 * @param {Buffer} buf
 * @param {Buffer} pattern
 * @param {Buffer} marker
 */
function replaceBytes(buf, pattern, marker) {
  const parts = []
  let from = 0
  let at
  while ((at = buf.indexOf(pattern, from)) !== -1) {
    parts.push(buf.subarray(from, at), marker)
    from = at + pattern.length
  }
  if (parts.length === 0) return buf
  parts.push(buf.subarray(from))
  return Buffer.concat(parts)
}

class Vault {
  /** @type {Map<string, string>} */
  #values = new Map()
  /** @type {Map<string, { createdAt: Date, updatedAt: Date }>} */
  #dates = new Map()

  /** @param {string} key @param {Buffer} bytes */
  set(key, bytes) {
    const now = new Date()
    this.#values.set(key, bytes.toString('utf8'))
    this.#dates.set(key, { createdAt: this.#dates.get(key)?.createdAt ?? now, updatedAt: now })
  }

  /** @param {string} key */
  has(key) {
    return this.#values.has(key)
  }

  /** @param {string} key */
  delete(key) {
    this.#dates.delete(key)
    return this.#values.delete(key)
  }

  /** Names and dates, never values. */
  list() {
    return [...this.#dates].map(([key, d]) => ({ key, createdAt: new Date(d.createdAt), updatedAt: new Date(d.updatedAt) }))
  }

  /** Every form of every value, longest first (so no partial form is left behind). */
  #patterns() {
    const all = []
    for (const v of this.#values.values()) all.push(...forms(v))
    return [...new Set(all)].sort((a, b) => b.length - a.length)
  }

  /**
   * `text` with every stored value replaced by the marker; `redacted` says whether one was found.
   * @param {string} text
   */
  redact(text) {
    let out = text
    for (const p of this.#patterns()) out = out.split(p).join(MARKER)
    return { text: out, redacted: out !== text }
  }

  /**
   * `bytes` with every stored value replaced by the marker, byte for byte.
   * @param {Buffer} bytes
   */
  redactBytes(bytes) {
    const marker = Buffer.from(MARKER)
    let out = bytes
    for (const p of this.#patterns()) out = replaceBytes(out, Buffer.from(p, 'utf8'), marker)
    return { bytes: out, redacted: out !== bytes }
  }

  /**
   * Whether `text` shows a stored value in any form.
   * @param {string} text
   */
  reveals(text) {
    return this.#patterns().some((p) => text.includes(p))
  }
}

module.exports = { Vault, MARKER }
