'use strict'

// @the-17/agentsecrets: use API credentials by name. The value is resolved
// and injected by the local engine and never enters this process.

const errors = require('./errors.js')
const { AgentSecrets } = require('./lib/client.js')
const { AgentSecretsResponse } = require('./lib/response.js')
const { SpawnedProcess } = require('./lib/spawn.js')

module.exports = {
  AgentSecrets,
  AgentSecretsResponse,
  SpawnedProcess,
  convertError: errors.convertError,
  AgentSecretsError: errors.AgentSecretsError,
  AgentSecretsNotRunning: errors.AgentSecretsNotRunning,
  NotInitialized: errors.NotInitialized,
  ProxyConnectionError: errors.ProxyConnectionError,
  ProxyAuthError: errors.ProxyAuthError,
  SessionExpired: errors.SessionExpired,
  SecretNotFound: errors.SecretNotFound,
  DomainNotAllowed: errors.DomainNotAllowed,
  UpstreamError: errors.UpstreamError,
  UpstreamUnreachable: errors.UpstreamUnreachable,
  PermissionDenied: errors.PermissionDenied,
  WorkspaceNotFound: errors.WorkspaceNotFound,
  ProjectNotFound: errors.ProjectNotFound,
  CLINotFound: errors.CLINotFound,
  CLIError: errors.CLIError,
  AllowlistModificationDenied: errors.AllowlistModificationDenied,
  InvalidArgument: errors.InvalidArgument,
  InjectionFailed: errors.InjectionFailed,
  TimeoutError: errors.TimeoutError,
  AbortError: errors.AbortError,
  BackendUnsupported: errors.BackendUnsupported,
  ClientClosed: errors.ClientClosed,
  PlatformNotSupported: errors.PlatformNotSupported,
  EngineError: errors.EngineError,
  ResponseTooLarge: errors.ResponseTooLarge,
}
