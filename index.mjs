// ESM entry: the same objects as the CommonJS entry, so `instanceof` works
// whichever way a program loads the package.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const cjs = require('./index.js')

export const {
  AgentSecrets,
  AgentSecretsResponse,
  SpawnedProcess,
  AgentSecretsFetchResponse,
  secretRef,
  createFetch,
  installGlobalFetch,
  convertError,
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
} = cjs

export default cjs
