'use strict'

// Error classes of @the-17/agentsecrets and the one function that maps the
// addon's coded errors onto them. The addon encodes every failure as
// `AGENTSECRETS_ERROR:{"code":..,"message":..,"fix":..}`; `convertError`
// turns it into the class for its code and keeps the original as `cause`.

const ERROR_PREFIX = 'AGENTSECRETS_ERROR:'

/** Base class of every error the SDK throws. */
class AgentSecretsError extends Error {
  /**
   * @param {string} message
   * @param {{ code?: string, fixHint?: string, cause?: unknown }} [options]
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

/** The session of a team backend expired (upstream parity; the local engine has no sessions). */
class SessionExpired extends AgentSecretsError {}

/** The named secret does not exist in the workspace/project used. */
class SecretNotFound extends AgentSecretsError {
  constructor(message, options = {}) {
    super(message, options)
    /** The secret's name (never its value). */
    this.key = options.key ?? null
  }
}

/** The target host is not on the workspace allowlist. */
class DomainNotAllowed extends AgentSecretsError {
  constructor(message, options = {}) {
    super(message, options)
    this.domain = options.domain ?? null
  }
}

/** The upstream API answered with a status >= 400 (the credential was injected). */
class UpstreamError extends AgentSecretsError {
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
  constructor(message, options = {}) {
    super(message, options)
    this.workspace = options.workspace ?? null
  }
}

class ProjectNotFound extends AgentSecretsError {
  constructor(message, options = {}) {
    super(message, options)
    this.project = options.project ?? null
  }
}

/** No `agentsecrets` binary was found to run. */
class CLINotFound extends AgentSecretsError {}

/** The `agentsecrets` binary ran and failed. */
class CLIError extends AgentSecretsError {
  constructor(message, options = {}) {
    super(message, options)
    this.exitCode = options.exitCode ?? null
  }
}

/** Allowlist changes need a human: a TTY or the admin password. */
class AllowlistModificationDenied extends AgentSecretsError {}

/** Bad arguments; nothing was sent. */
class InvalidArgument extends AgentSecretsError {}

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

/** Any other engine failure (vault, internal, limits, unreadable upstream encoding). */
class EngineError extends AgentSecretsError {}

/**
 * The answer is over a response size limit: the call's `maxResponseBytes`
 * (reading stopped there) or the engine's `--max-response-mib` (the engine
 * cut it). Nothing of it is returned.
 */
class ResponseTooLarge extends AgentSecretsError {}

/** Which class each code maps to. */
const CLASS_BY_CODE = {
  ENGINE_NOT_RUNNING: AgentSecretsNotRunning,
  PROXY_NOT_RUNNING: AgentSecretsNotRunning,
  NOT_INITIALIZED: NotInitialized,
  PROXY_CONNECTION: ProxyConnectionError,
  BAD_ENGINE_RESPONSE: ProxyConnectionError,
  PROXY_AUTH_REQUIRED: ProxyAuthError,
  SESSION_EXPIRED: SessionExpired,
  SECRET_NOT_FOUND: SecretNotFound,
  DOMAIN_NOT_ALLOWED: DomainNotAllowed,
  UPSTREAM_HTTP: UpstreamError,
  UPSTREAM_UNREACHABLE: UpstreamUnreachable,
  FORBIDDEN_CALLER: PermissionDenied,
  INSECURE_SCHEME: PermissionDenied,
  ADDRESS_REFUSED: PermissionDenied,
  PERMISSION_DENIED: PermissionDenied,
  WORKSPACE_NOT_FOUND: WorkspaceNotFound,
  PROJECT_NOT_FOUND: ProjectNotFound,
  CLI_NOT_FOUND: CLINotFound,
  CLI_ERROR: CLIError,
  ALLOWLIST_MODIFICATION_DENIED: AllowlistModificationDenied,
  INVALID_ARGUMENT: InvalidArgument,
  INVALID_REQUEST: InvalidArgument,
  INJECTION_FAILED: InjectionFailed,
  TIMEOUT: TimeoutError,
  UPSTREAM_TIMEOUT: TimeoutError,
  ABORTED: AbortError,
  BACKEND_UNSUPPORTED: BackendUnsupported,
  UNSUPPORTED: BackendUnsupported,
  CLIENT_CLOSED: ClientClosed,
  PLATFORM_NOT_SUPPORTED: PlatformNotSupported,
  UPSTREAM_ENCODING: EngineError,
  REQUEST_TOO_LARGE: EngineError,
  RESPONSE_TOO_LARGE: ResponseTooLarge,
  VAULT_ERROR: EngineError,
  ALREADY_EXISTS: EngineError,
  INTERNAL: EngineError,
}

/** Builds the error for a decoded `{ code, message, fix, ... }` record. */
function errorFromRecord(record, cause) {
  const Cls = CLASS_BY_CODE[record.code] ?? EngineError
  const message = record.fix ? `${record.message}\nTo fix: ${record.fix}` : record.message
  return new Cls(message, {
    code: record.code,
    fixHint: record.fix ?? null,
    cause,
    key: record.key,
    domain: record.domain,
    workspace: record.workspace,
    project: record.project,
    statusCode: record.statusCode,
    body: record.body,
    headers: record.headers,
    url: record.url,
    exitCode: record.exitCode,
  })
}

/**
 * Maps an error from the addon to its class. Errors that are already ours,
 * or not from the addon, are returned unchanged.
 * @param {unknown} err
 * @returns {unknown}
 */
function convertError(err) {
  if (err instanceof AgentSecretsError) return err
  const msg = err && typeof err.message === 'string' ? err.message : null
  if (msg === null || !msg.startsWith(ERROR_PREFIX)) return err
  let record
  try {
    record = JSON.parse(msg.slice(ERROR_PREFIX.length))
  } catch {
    return new EngineError('the native addon returned an unreadable error', {
      code: 'INTERNAL',
      fixHint: 'report this error',
      cause: err,
    })
  }
  return errorFromRecord(record, err)
}

module.exports = {
  ERROR_PREFIX,
  AgentSecretsError,
  AgentSecretsNotRunning,
  NotInitialized,
  ProxyConnectionError,
  ProxyAuthError,
  SessionExpired,
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
  InjectionFailed,
  TimeoutError,
  AbortError,
  BackendUnsupported,
  ClientClosed,
  PlatformNotSupported,
  EngineError,
  ResponseTooLarge,
  CLASS_BY_CODE,
  errorFromRecord,
  convertError,
}
