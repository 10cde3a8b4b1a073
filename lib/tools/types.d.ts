// Types shared by @the-17/agentsecrets/langchain and @the-17/agentsecrets/mcp
// (kept apart so that each subpath's types need only its own peer).

/**
 * Where the model asks for each secret (by NAME, never a value) to be
 * injected: `bearer`, `basic`, `header:NAME`, `query:NAME`, `body:PATH`
 * (dots nest, as `bodyField`), `form:FIELD`.
 */
export type InjectionMap = {
  bearer?: string
  basic?: string
  [style: `header:${string}` | `query:${string}` | `body:${string}` | `form:${string}`]: string
}

/** The arguments the model gives `api_call` (its JSON schema is in the README). */
export interface ApiCallInput {
  /** Absolute http(s) URL. */
  url: string
  /** Default GET. */
  method?: string
  /** Plain, non-secret headers (no CR/LF; not Host, framing headers or X-AS-*). */
  headers?: Record<string, string>
  /** Text, or a JSON object/array (sent as JSON, or as a form with a `form:` injection). */
  body?: string | Record<string, unknown> | unknown[]
  injections?: InjectionMap
}

/**
 * What one tool may do, fixed by the program: a call outside is refused
 * before anything is sent. Unset: no limit beyond the engine's allowlist.
 */
export interface PinOptions {
  /**
   * URL prefixes: same scheme, host and port, and the path starting with
   * the prefix's whole segments (`https://api.x.com/v1` allows
   * `https://api.x.com/v1/users`, not `/v10`, `/v1/../admin` or
   * `https://api.x.com.evil.net`).
   */
  allowUrls?: string | string[]
  /** HTTP methods (any case). */
  allowMethods?: string | string[]
  /** Secret names the model may inject. */
  allowSecrets?: string | string[]
}

/** Options of an `api_call` tool (LangChain or MCP). */
export interface ApiCallOptions extends PinOptions {
  /** Description given to the model. Default: one listing the pins (names only). */
  description?: string
  /** Characters of a response body shown to the model; more is cut with a note. Default 16000. */
  maxOutputChars?: number
  /** Largest response body read, in bytes (a larger one is an error). Default 8388608 (8 MiB). */
  maxResponseBytes?: number
  /** Whole-call timeout in ms. Default: the client's (30000). */
  timeoutMs?: number
  /** Recorded in the audit log. Default `'langchain'` / `'mcp'`. */
  agentId?: string
}
