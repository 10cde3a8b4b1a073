'use strict'

// Error classes of @the-17/agentsecrets and the one factory that builds
// every error the SDK throws. The addon encodes every failure as
// `AGENTSECRETS_ERROR:{"code":..,"message":..,"fix":..}` (src/errors.rs);
// `convertError` decodes it, and `makeError` turns a `{ code, message, fix }`
// record, from the addon or from the JS layer, into the class for its code.

/** Must equal the addon's `ERROR_PREFIX` (src/errors.rs); a test ties the two. */
const ERROR_PREFIX = 'AGENTSECRETS_ERROR:'

/**
 * @typedef {object} ErrorFields
 * @property {string} [code] stable machine-readable code
 * @property {string | null} [fixHint] what to run or change to fix it
 * @property {unknown} [cause] the error this one wraps
 * @property {string | null} [key] a secret's name (never its value)
 * @property {string | null} [domain]
 * @property {string | null} [workspace]
 * @property {string | null} [project]
 * @property {number} [statusCode]
 * @property {string} [body]
 * @property {Record<string, string>} [headers]
 * @property {string} [url]
 * @property {number | null} [exitCode]
 */

/** Base class of every error the SDK throws. */
class AgentSecretsError extends Error {
  /**
   * @param {string} message
   * @param {ErrorFields} [options]
   */
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    /** Stable machine-readable code (an engine code or an SDK code). */
    this.code = options.code ?? 'AGENTSECRETS_ERROR'
    /** What to run or change to fix it. */
    this.fixHint = options.fixHint ?? null
  }
}

/** No proxy is running for this home and none could be started. */
class AgentSecretsNotRunning extends AgentSecretsError {}

/** The home has no vault yet: `agentsecrets init` has not been run. */
class NotInitialized extends AgentSecretsNotRunning {}

/** A proxy was found but the connection to it failed. */
class ProxyConnectionError extends AgentSecretsError {}

/** The engine refused the caller: wrong or missing caller token. */
class ProxyAuthError extends AgentSecretsError {}

/** The token of a team backend (OpenBao / Vault binding) expired or was revoked, or its AppRole login was refused. */
class SessionExpired extends AgentSecretsError {}

/** The bound OpenBao / Vault server is unreachable (`REMOTE_UNREACHABLE`) or sealed (`REMOTE_SEALED`); no stale value was used. */
class RemoteUnavailable extends AgentSecretsError {}

/** A push lost a check-and-set race: the key changed remotely since this machine last pulled it. */
class RemoteConflict extends AgentSecretsError {
  /**
   * @param {string} message
   * @param {ErrorFields} [options]
   */
  constructor(message, options = {}) {
    super(message, options)
    /** The secret's name (never its value). */
    this.key = options.key ?? null
  }
}

/** The named secret does not exist in the workspace/project used. */
class SecretNotFound extends AgentSecretsError {
  /**
   * @param {string} message
   * @param {ErrorFields} [options]
   */
  constructor(message, options = {}) {
    super(message, options)
    /** The secret's name (never its value). */
    this.key = options.key ?? null
  }
}

/** The target host is not on the workspace allowlist. */
class DomainNotAllowed extends AgentSecretsError {
  /**
   * @param {string} message
   * @param {ErrorFields} [options]
   */
  constructor(message, options = {}) {
    super(message, options)
    this.domain = options.domain ?? null
  }
}

/** The upstream API answered with a status >= 400 (the credential was injected). */
class UpstreamError extends AgentSecretsError {
  /**
   * @param {string} message
   * @param {ErrorFields} [options]
   */
  constructor(message, options = {}) {
    super(message, options)
    this.statusCode = options.statusCode ?? 0
    /** The upstream's answer, redacted by the engine. */
    this.body = options.body ?? ''
    this.headers = options.headers ?? {}
    this.url = options.url ?? ''
  }
}

/** The upstream could not be reached (refused, reset, DNS, TLS). */
class UpstreamUnreachable extends AgentSecretsError {}

/** The engine refused the call by policy: insecure scheme, refused address, forbidden caller. */
class PermissionDenied extends AgentSecretsError {}

class WorkspaceNotFound extends AgentSecretsError {
  /**
   * @param {string} message
   * @param {ErrorFields} [options]
   */
  constructor(message, options = {}) {
    super(message, options)
    this.workspace = options.workspace ?? null
  }
}

class ProjectNotFound extends AgentSecretsError {
  /**
   * @param {string} message
   * @param {ErrorFields} [options]
   */
  constructor(message, options = {}) {
    super(message, options)
    this.project = options.project ?? null
  }
}

/** No `agentsecrets` binary was found to run. */
class CLINotFound extends AgentSecretsError {}

/** The `agentsecrets` binary ran and failed. */
class CLIError extends AgentSecretsError {
  /**
   * @param {string} message
   * @param {ErrorFields} [options]
   */
  constructor(message, options = {}) {
    super(message, options)
    this.exitCode = options.exitCode ?? null
  }
}

/** Allowlist changes need a human: a TTY or the admin password. */
class AllowlistModificationDenied extends AgentSecretsError {}

/** Bad arguments; nothing was sent. */
class InvalidArgument extends AgentSecretsError {}

/** `createFetch()`: a secret placeholder where no value can be injected (path, cookie, body...); nothing was sent. */
class PlaceholderNotInjectable extends InvalidArgument {}

/** The secret's value or the request body does not fit the injection style. */
class InjectionFailed extends AgentSecretsError {}

/** The call did not finish in time (`timeoutMs`, or the engine's upstream timeout). */
class TimeoutError extends AgentSecretsError {}

/** The call was aborted through its AbortSignal. */
class AbortError extends AgentSecretsError {}

/** The backend cannot do what was asked (e.g. per-request scope on the upstream proxy). */
class BackendUnsupported extends AgentSecretsError {}

/** The client was closed. */
class ClientClosed extends AgentSecretsError {}

/**
 * The agentsecrets engine does not run on this platform (Windows): the
 * default backend, auto-start, spawning and management need it.
 */
class PlatformNotSupported extends AgentSecretsError {}

/**
 * An optional peer dependency an integration needs (`@langchain/core`,
 * `@modelcontextprotocol/sdk`, `zod`) is not installed.
 */
class DependencyMissing extends AgentSecretsError {}

/** Any other engine failure (vault, internal, limits, unreadable upstream encoding). */
class EngineError extends AgentSecretsError {}

/**
 * The answer is over a response size limit: the call's `maxResponseBytes`
 * (reading stopped there) or the engine's `--max-response-mib` (the engine
 * cut it). Nothing of it is returned.
 */
class ResponseTooLarge extends AgentSecretsError {}

/**
 * The class of every code: the engine's (crates/wire/src/error.rs), the
 * addon's (src/errors.rs `sdk_codes`) and the JS layer's. Adding a code is
 * one line here; __test__/errors.test.mjs fails for a code left out.
 * @type {Readonly<Record<string, typeof AgentSecretsError>>}
 */
const CLASS_BY_CODE = Object.freeze({
  ENGINE_NOT_RUNNING: AgentSecretsNotRunning,
  PROXY_NOT_RUNNING: AgentSecretsNotRunning,
  NOT_INITIALIZED: NotInitialized,
  PROXY_CONNECTION: ProxyConnectionError,
  BAD_ENGINE_RESPONSE: ProxyConnectionError,
  PROXY_AUTH_REQUIRED: ProxyAuthError,
  // Parity with the Python SDK: no backend of this SDK has sessions yet.
  SESSION_EXPIRED: SessionExpired,
  REMOTE_UNREACHABLE: RemoteUnavailable,
  REMOTE_SEALED: RemoteUnavailable,
  REMOTE_DENIED: PermissionDenied,
  REMOTE_CONFLICT: RemoteConflict,
  SECRET_NOT_FOUND: SecretNotFound,
  DOMAIN_NOT_ALLOWED: DomainNotAllowed,
  UPSTREAM_HTTP: UpstreamError,
  UPSTREAM_UNREACHABLE: UpstreamUnreachable,
  FORBIDDEN_CALLER: PermissionDenied,
  INSECURE_SCHEME: PermissionDenied,
  ADDRESS_REFUSED: PermissionDenied,
  WORKSPACE_NOT_FOUND: WorkspaceNotFound,
  PROJECT_NOT_FOUND: ProjectNotFound,
  CLI_NOT_FOUND: CLINotFound,
  CLI_ERROR: CLIError,
  ALLOWLIST_MODIFICATION_DENIED: AllowlistModificationDenied,
  INVALID_ARGUMENT: InvalidArgument,
  INVALID_REQUEST: InvalidArgument,
  PLACEHOLDER_NOT_INJECTABLE: PlaceholderNotInjectable,
  INJECTION_FAILED: InjectionFailed,
  TIMEOUT: TimeoutError,
  UPSTREAM_TIMEOUT: TimeoutError,
  ABORTED: AbortError,
  BACKEND_UNSUPPORTED: BackendUnsupported,
  UNSUPPORTED: BackendUnsupported,
  CLIENT_CLOSED: ClientClosed,
  PLATFORM_NOT_SUPPORTED: PlatformNotSupported,
  PEER_DEPENDENCY_MISSING: DependencyMissing,
  UPSTREAM_ENCODING: EngineError,
  REQUEST_TOO_LARGE: EngineError,
  RESPONSE_TOO_LARGE: ResponseTooLarge,
  VAULT_ERROR: EngineError,
  ALREADY_EXISTS: EngineError,
  INTERNAL: EngineError,
})

/**
 * What an error is built from: its code, what happened, what to do, and the
 * fields its class carries (`key`, `domain`, `statusCode`, ...).
 * @typedef {{ code: string, message: string, fix?: string | null } & Omit<ErrorFields, 'code' | 'fixHint'>} ErrorRecord
 */

/**
 * Builds every error the SDK throws: the class for `record.code` (an
 * EngineError for a code this version does not know), the message followed
 * by "To fix: ...", and the record's fields.
 * @param {ErrorRecord} record
 * @returns {AgentSecretsError}
 */
function makeError(record) {
  const { code, message, fix, ...fields } = record
  const Cls = CLASS_BY_CODE[code] ?? EngineError
  return new Cls(fix ? `${message}\nTo fix: ${fix}` : message, { ...fields, code, fixHint: fix ?? null })
}

/**
 * The message of an error the addon encoded, else null.
 * @param {unknown} err
 * @returns {string | null}
 */
function addonMessage(err) {
  if (err instanceof AgentSecretsError || err === null || typeof err !== 'object' || !('message' in err)) return null
  const { message } = err
  return typeof message === 'string' && message.startsWith(ERROR_PREFIX) ? message : null
}

/**
 * Maps an error from the addon to its class. Errors that are already ours,
 * or not from the addon, are returned unchanged.
 * @param {unknown} err
 * @returns {unknown}
 */
function convertError(err) {
  const message = addonMessage(err)
  if (message === null) return err
  let record
  try {
    record = JSON.parse(message.slice(ERROR_PREFIX.length))
  } catch {
    return makeError({ code: 'INTERNAL', message: 'the native addon returned an unreadable error', fix: 'report this error', cause: err })
  }
  return makeError({ ...record, cause: err })
}

/** Every class, by name: the package exports them all (index.js). */
const CLASSES = {
  AgentSecretsError,
  AgentSecretsNotRunning,
  NotInitialized,
  ProxyConnectionError,
  ProxyAuthError,
  SessionExpired,
  RemoteUnavailable,
  RemoteConflict,
  SecretNotFound,
  DomainNotAllowed,
  UpstreamError,
  UpstreamUnreachable,
  PermissionDenied,
  WorkspaceNotFound,
  ProjectNotFound,
  CLINotFound,
  CLIError,
  AllowlistModificationDenied,
  InvalidArgument,
  PlaceholderNotInjectable,
  InjectionFailed,
  TimeoutError,
  AbortError,
  BackendUnsupported,
  ClientClosed,
  PlatformNotSupported,
  DependencyMissing,
  EngineError,
  ResponseTooLarge,
}

module.exports = { ...CLASSES, CLASSES, ERROR_PREFIX, CLASS_BY_CODE, makeError, convertError }
