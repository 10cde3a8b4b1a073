// Public types of @the-17/agentsecrets. The native types live in the
// generated binding.d.ts; this file adds the JS layer: options, the
// response class and the error classes.

/// <reference types="node" />

/**
 * Which kind of proxy a client may talk to. `engine` (the default): this home's
 * engine, on its Unix socket or over TCP only after it proved it holds the home's
 * token; started when none runs. `upstream-proxy`: the AgentSecrets Go proxy,
 * which cannot prove who runs it, so it is used only when chosen.
 */
export type BackendChoice = 'engine' | 'upstream-proxy'

/** Options of `new AgentSecrets()`. Every one is optional. */
export interface AgentSecretsOptions {
  /**
   * Proxy TCP port. Default: `AGENTSECRETS_PORT`, else the running engine's, else 8765. `0` means "any" (the engine's Unix socket is used).
   * With the engine, this home's Unix socket is always preferred, and a listener on this port is used only if it proves it is this home's engine.
   */
  port?: number
  /** The backend to use. Default: `AGENTSECRETS_BACKEND`, else `'engine'`. */
  backend?: BackendChoice
  /** Workspace of every call. Default: `AGENTSECRETS_WORKSPACE`, else the active one. */
  workspace?: string
  /** Project of every call. Default: `AGENTSECRETS_PROJECT`, else the active one. */
  project?: string
  /** Start the bundled engine when no proxy answers. Default: true. */
  autoStart?: boolean
  /** Engine home. Default: `AGENTSECRETS_HOME`, else `~/.agentsecrets`. */
  home?: string
  /**
   * The `agentsecrets` binary for spawning and management. Default: `AGENTSECRETS_CLI`, else the bundled one, else `PATH`.
   * It may be the upstream AgentSecrets CLI (Go): see the README for what works with it.
   */
  cli?: string
  /** Default `agentId` of every call (recorded in the audit log). */
  agentId?: string
  /** Default whole-call timeout in ms (30000; 0 disables). */
  timeoutMs?: number
  /** Default of `throwOnHttpError` (true). */
  throwOnHttpError?: boolean
  /** Default of `maxResponseBytes` (64 MiB). */
  maxResponseBytes?: number
}

/** A request body: objects and arrays are sent as JSON (a plain object as a form when `formField` is given); the rest as is. */
export type CallBody =
  | string
  | Buffer
  | Uint8Array
  | ArrayBuffer
  | URLSearchParams
  | Record<string, unknown>
  | unknown[]

/** Plain (non-secret) request headers. */
export type PlainHeaders = Record<string, string | number | undefined> | Headers | Map<string, string> | Array<[string, string]>

/** Options of `call()`. Secret options take secret NAMES, never values. */
export interface CallOptions {
  /** HTTP method. Default: GET. */
  method?: string
  body?: CallBody
  /** Plain headers, forwarded as given. */
  headers?: PlainHeaders
  /** `Authorization: Bearer <value of this secret>`. */
  bearer?: string
  /** `Authorization: Basic base64(<value>)`; the secret holds `user:password`. */
  basic?: string
  /** Header name → secret name, e.g. `{ 'X-Api-Key': 'SENDGRID_KEY' }`. */
  header?: Record<string, string>
  /** Query parameter → secret name, e.g. `{ key: 'GMAP_KEY' }`. */
  query?: Record<string, string>
  /** JSON body path (dots nest; `\\.` is a literal dot) → secret name. */
  bodyField?: Record<string, string>
  /** Form field → secret name (`application/x-www-form-urlencoded`). */
  formField?: Record<string, string>
  /** Recorded in the audit log. */
  agentId?: string
  /** Whole-call timeout in ms. Default 30000; 0 disables. */
  timeoutMs?: number
  /** Aborts the call; the promise rejects with `AbortError`. */
  signal?: AbortSignal
  /** Reject upstream statuses >= 400 with `UpstreamError`. Default: true. */
  throwOnHttpError?: boolean
  /** Workspace of this call only (our engine; refused by the upstream proxy). */
  workspace?: string
  /** Project of this call only (our engine; refused by the upstream proxy). */
  project?: string
  /**
   * Largest response body read into this process, in bytes, after decoding
   * (a small compressed answer can expand enormously). Default 67108864
   * (64 MiB); an integer from 1 to 4294967296 (4 GiB). A larger answer
   * rejects with `ResponseTooLarge` and nothing of it is kept.
   */
  maxResponseBytes?: number
}

/**
 * `init` of `client.fetch()`: the WHATWG `RequestInit` (`redirect` may only
 * be `'manual'`: the engine never follows redirects) plus the injection
 * options of `call()`. Secret options take secret NAMES, never values.
 */
export interface FetchInit
  extends Omit<RequestInit, 'redirect'>,
    Pick<CallOptions, 'bearer' | 'basic' | 'header' | 'query' | 'bodyField' | 'formField' | 'agentId' | 'workspace' | 'project'> {
  /** Only `'manual'`: a 3xx is returned as it is, never followed. */
  redirect?: 'manual'
  /** Needed by `fetch` for a streamed request body; accepted and ignored here. */
  duplex?: 'half'
  /** Timeout in ms for the response headers (default 30000; 0 disables); with a streamed request body, for each pause (no chunk sent and no answer). A streamed answer is bounded by the engine's stall and deadline limits, and by `signal`. */
  timeoutMs?: number
}

/** The `Response` of `client.fetch()`: Node's global `Response`, whose body streams from the engine. */
export declare class AgentSecretsFetchResponse extends Response {
  private constructor()
  /** The target URL that was called. */
  readonly url: string
  /** `engine`, `upstream-proxy` or `direct`. */
  readonly backend: string
  /**
   * Whether the engine replaced an echoed credential, known once the body
   * has been read to its end (at once when the headers said). Rejects like
   * the body when the body fails or is cancelled.
   */
  readonly redacted: Promise<boolean>
}

/** A `fetch`-compatible function (what `createFetch()` returns). */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** Options of `createFetch()`. */
export interface CreateFetchOptions {
  /** Refuse (`InvalidArgument`) a request with no placeholder instead of sending it through the engine without injection. Default false. */
  requirePlaceholder?: boolean
  workspace?: string
  project?: string
  agentId?: string
  timeoutMs?: number
}

/** The placeholder `AS_SECRET_<name>` that `createFetch()` replaces by the engine's injection of secret `name`. */
export declare function secretRef(name: string): string

/**
 * A `fetch` for code and SDKs that take one: placeholders (`secretRef()`) in
 * `Authorization` (Bearer, or Basic encoding a placeholder), as a whole
 * header value or a whole query value become the engine's injections; a
 * placeholder anywhere else rejects with `PlaceholderNotInjectable` before
 * anything is sent.
 */
export declare function createFetch(client: AgentSecrets, options?: CreateFetchOptions): FetchFunction

/** Options of `installGlobalFetch()`: applied to every request that carries a placeholder. */
export interface InstallGlobalFetchOptions {
  workspace?: string
  project?: string
  agentId?: string
  timeoutMs?: number
}

/**
 * Replaces `globalThis.fetch` so that code calling the global `fetch` can use
 * placeholders: a request with a placeholder in its URL or headers goes
 * through the engine exactly as with `createFetch()`; any other request goes
 * to the previous global `fetch`, untouched (its body is not read). Returns
 * the function that puts the previous `fetch` back.
 */
export declare function installGlobalFetch(client: AgentSecrets, options?: InstallGlobalFetchOptions): () => void

/** Which backend the client uses. */
export interface BackendInfo {
  /** `engine` (this package's engine) or `upstream-proxy` (the AgentSecrets Go proxy). */
  kind: 'engine' | 'upstream-proxy'
  viaSocket: boolean
  /**
   * How the client knows the backend is the right one: `unix-socket` (the home's
   * socket), `engine-proof` (over TCP the engine proved it holds the home's token),
   * or `none` (the upstream proxy, chosen with `backend: 'upstream-proxy'`).
   */
  auth: 'unix-socket' | 'engine-proof' | 'none'
  baseUrl: string
  version?: string
  features: string[]
}

/** The upstream's answer, after the engine's redaction. No field can carry a credential. */
export declare class AgentSecretsResponse {
  private constructor()
  /** HTTP status from the upstream API. */
  readonly statusCode: number
  /** Lower-case header names; repeated headers joined with `, `. */
  readonly headers: Record<string, string>
  /** True when an echoed credential was replaced by `[REDACTED_BY_AGENTSECRETS]`. */
  readonly redacted: boolean
  /** Round-trip duration in milliseconds. */
  readonly durationMs: number
  /** The target URL called. */
  readonly url: string
  /** `engine`, `upstream-proxy` or `direct` (a call without injection while the backend is the upstream proxy, which cannot scan it). */
  readonly backend: string
  /** True for a 2xx status. */
  readonly ok: boolean
  /** The body decoded as UTF-8. */
  readonly body: string
  text(): string
  /** The raw body bytes. */
  bytes(): Buffer
  /** The body parsed as JSON (throws a SyntaxError if it is not JSON). */
  json<T = any>(): T
  toJSON(): {
    statusCode: number
    headers: Record<string, string>
    body: string
    redacted: boolean
    durationMs: number
    url: string
    backend: string
  }
}

/** Options of `spawn()` / `spawnAsync()`. */
export interface SpawnOptions {
  /** Project whose secrets are injected (default: this client's, else the active one). No global switch. */
  project?: string
  /** Workspace (default: this client's, else the active one). */
  workspace?: string
  /** Inject only these secret names. */
  only?: string | string[]
  /** Collect stdout/stderr (masked by the engine) into the result. Implies `stdio: 'pipe'`. */
  capture?: boolean
  /** `inherit` (default), `pipe` (Node streams on `spawnAsync`) or `ignore`. */
  stdio?: 'inherit' | 'pipe' | 'ignore'
  /** Extra plain (non-secret) environment variables. */
  env?: Record<string, string | number | undefined>
  cwd?: string
  /** Kill the whole process tree after this many ms (SIGTERM, then SIGKILL after 1 s); rejects with `TimeoutError`. 0 disables. */
  timeoutMs?: number
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer | Uint8Array
  /** Aborting kills the whole process tree; rejects with `AbortError`. */
  signal?: AbortSignal
}

/** How a spawned command ended. */
export interface SpawnResult {
  /** Exit code; 128+N when the command died of signal N (shell convention). */
  exitCode: number | null
  /** Signal name when the command died of a signal, else null. A command that exits 130 by itself has signal null. */
  signal: NodeJS.Signals | string | null
  /** Masked stdout, only with `capture: true`. */
  stdout?: string
  /** Masked stderr, only with `capture: true`. */
  stderr?: string
}

/** A command started by `spawnAsync()`. */
export declare class SpawnedProcess {
  private constructor()
  /** Engine pid; also the process group id of the whole tree. */
  readonly pid: number | undefined
  readonly stdin: import('node:stream').Writable | null
  readonly stdout: import('node:stream').Readable | null
  readonly stderr: import('node:stream').Readable | null
  /** Whether the engine's stdin is a terminal (INT/QUIT sent to this process then go to the whole group). */
  readonly ttyStdin: boolean
  /**
   * Resolves when the command exits; rejects with `TimeoutError`/`AbortError` (carrying `.result`) when killed for that
   * reason, and with `NotInitialized`/`WorkspaceNotFound`/`ProjectNotFound`/`SecretNotFound` (carrying `.result`) when
   * the engine refused to run it.
   */
  wait(): Promise<SpawnResult>
  /** Sends a signal (default SIGTERM) to the whole process tree; false if it is gone. */
  kill(signal?: NodeJS.Signals | number): boolean
}

export interface Status {
  userEmail: string | null
  workspaceName: string | null
  projectName: string | null
  lastPull: Date | null
  proxyRunning: boolean
  /** `keychain` or `file`; null with the upstream CLI. */
  storageMode: string | null
  home: string
}

export interface SecretInfo {
  key: string
  createdAt: Date | null
  updatedAt: Date | null
}

export interface SecretsDiff {
  hasDrift: boolean
  localOnly: string[]
  remoteOnly: string[]
  outOfSync: string[]
  /** Per key, with an OpenBao binding: how it compares (values are never returned). */
  keys?: RemoteDiffEntry[]
}

export interface RemoteDiffEntry {
  key: string
  state: 'same' | 'differs' | 'local-only' | 'remote-only'
  remoteVersion: number | null
  /** The remote changed since this machine last pulled or pushed the key. */
  remoteChanged: boolean
}

export interface SyncReport {
  workspace: string
  project: string
  /** Keys written into the local vault. */
  written: string[]
  unchanged: string[]
  lastPull: Date | null
}

/** `client.remote.set()`: an OpenBao / Vault KV v2 binding. Credentials are named by place (env var or 0600 file), never passed. */
export interface RemoteOptions {
  /** The server's origin, e.g. `https://bao.example.com:8200`. */
  address: string
  /** KV v2 mount (default `secret`). */
  mount?: string
  /** Path under the mount (default `agentsecrets`); a secret KEY is `PREFIX/KEY`. */
  prefix?: string
  /** `resolve` (default: values read at request time, in memory) or `sync` (pull/push). */
  mode?: 'resolve' | 'sync'
  tokenEnv?: string
  tokenFile?: string
  roleIdEnv?: string
  roleIdFile?: string
  secretIdEnv?: string
  secretIdFile?: string
  approleMount?: string
  /** Seconds a resolve-through snapshot is reused (default 30; 0: every call asks OpenBao). */
  cacheTtlSecs?: number
  /** Bind every project of the workspace (each under `PREFIX/PROJECT/`). */
  wholeWorkspace?: boolean
  /** `false` stores the binding without asking the server. */
  check?: boolean
  /** The admin password chosen at `agentsecrets init` (sent on the engine's stdin); without it the change is refused with `AllowlistModificationDenied`. */
  adminPassword?: string
}

export interface RemoteBinding {
  /** `workspace/project`, `workspace/*`, or `*` for `AGENTSECRETS_REMOTE`. */
  scope: string
  workspace: string | null
  project: string | null
  address: string
  mount: string
  prefix: string
  mode: 'resolve' | 'sync'
  /** Where the credentials are read from, e.g. `token (env:BAO_TOKEN)`. */
  auth: string
  cacheTtlSecs: number
  /** `home` (remote.json) or `AGENTSECRETS_REMOTE`. */
  from: string
}

export interface RemoteClient {
  set(options: RemoteOptions): Promise<RemoteBinding>
  show(): Promise<RemoteBinding[]>
  unset(options?: { wholeWorkspace?: boolean; adminPassword?: string }): Promise<void>
}

export interface SecretsClient {
  /** Names and dates only, never values. */
  list(): Promise<SecretInfo[]>
  /** The value goes to the engine over stdin, never argv. */
  set(key: string, value: string | Buffer | Uint8Array): Promise<{ key: string; workspace: string; project: string }>
  /** `workspace`/`project` are null with the upstream CLI (it does not say). */
  delete(key: string): Promise<{ key: string; workspace: string | null; project: string | null }>
  /** Local vault vs the scope's OpenBao binding; rejects with `BackendUnsupported` when the scope has none. */
  diff(): Promise<SecretsDiff>
  /** Pulls from the binding, then diffs; rejects with `BackendUnsupported` when the scope has none. */
  sync(): Promise<SecretsDiff>
  /** Pushes (all or `keys`) with check-and-set (`RemoteConflict` names a key changed remotely), then diffs. */
  push(keys?: string[]): Promise<SecretsDiff>
  /** Copies the binding's secrets into the local vault. Not on the mock. */
  pull?(): Promise<SyncReport>
}

export interface WorkspaceInfo {
  name: string
  active: boolean
  /** Null with the upstream CLI (its list does not show them). */
  projects: string[] | null
  createdAt: Date | null
}

export interface Member {
  user: string
  email: string | null
  role: string
}

/** With the upstream CLI only the name that was switched is known; the other is null. */
export interface ActiveScope {
  workspaceName: string | null
  projectName: string | null
}

export interface WorkspacesClient {
  list(): Promise<WorkspaceInfo[]>
  /** `projects` is null with the upstream CLI (which also selects the new workspace). */
  create(name: string): Promise<{ name: string; projects: string[] | null }>
  /** Global switch of the active workspace. */
  switch(name: string): Promise<ActiveScope>
  /** Needs a team backend: rejects with `BackendUnsupported` in local mode. */
  invite(email: string, options?: { role?: string }): Promise<void>
  /** In local mode: the local user, as owner. */
  members(): Promise<Member[]>
}

export interface ProjectInfo {
  name: string
  /** Null with the upstream CLI (its list does not show them). */
  active: boolean | null
  secretCount: number | null
  createdAt: Date | null
}

export interface ProjectsClient {
  list(): Promise<ProjectInfo[]>
  create(name: string): Promise<{ name: string; workspace: string }>
  delete(name: string): Promise<{ name: string; workspace: string; deletedSecrets: number }>
  /** Global switch of the active project. */
  use(name: string): Promise<ActiveScope>
}

/** Changes to the allowlist need the admin password chosen by a human at `agentsecrets init`. */
export interface AllowlistChangeOptions {
  adminPassword?: string
}

export interface AllowlistEntry {
  entry: string
  addedAt: Date | null
}

export interface AllowlistLogEntry {
  timestamp: Date | null
  action: string
  entry: string
}

export interface AllowlistClient {
  list(): Promise<AllowlistEntry[]>
  /** Without `adminPassword` (and no TTY) rejects with `AllowlistModificationDenied` and changes nothing. */
  add(domains: string | string[], options?: AllowlistChangeOptions): Promise<{ added: string[]; alreadyPresent: string[]; workspace: string }>
  remove(domains: string | string[], options?: AllowlistChangeOptions): Promise<{ removed: string[]; notPresent: string[]; workspace: string }>
  log(options?: { last?: number }): Promise<AllowlistLogEntry[]>
}

/** One audit record: secret names, never values. */
export interface AuditEvent {
  timestamp: Date | null
  method: string
  targetUrl: string
  domain: string
  secretKeys: string[]
  authStyles: string[]
  statusCode: number | null
  status: 'OK' | 'BLOCKED' | 'ERROR' | string
  reason: string | null
  redacted: boolean
  durationMs: number | null
  agentId: string | null
  workspace: string | null
  project: string | null
}

export interface ProxyStatus {
  running: boolean
  pid: number | null
  port: number | null
  socket: string | null
  uptimeSeconds: number | null
  /** Always false with the upstream CLI (it does not report it). */
  sessionValid: boolean
  version: string | null
}

export interface ProxyClient {
  start(): Promise<{ pid: number; port: number; socket: string | null; alreadyRunning: boolean }>
  stop(): Promise<{ stopped: boolean; pid: number | null }>
  status(): Promise<ProxyStatus>
  logs(options?: { last?: number; status?: 'OK' | 'BLOCKED' | 'ERROR'; secret?: string }): Promise<AuditEvent[]>
}

/** What `connect()` of the test double (`@the-17/agentsecrets/testing`) says: nothing is connected. */
export interface MockBackendInfo {
  kind: 'mock'
  viaSocket: false
  auth: 'none'
  baseUrl: string
  version?: string
  features: string[]
}

/**
 * The surface shared by `AgentSecrets` and `MockAgentSecrets` (from
 * `@the-17/agentsecrets/testing`): type code against it to swap one for the other in tests.
 */
export interface AgentSecretsClient {
  readonly home: string
  /** `'engine'` or `'upstream-proxy'`; `'mock'` for the test double. */
  readonly backend: BackendChoice | 'mock'
  readonly scope: { workspace?: string; project?: string }
  call(url: string | URL, options?: CallOptions): Promise<AgentSecretsResponse>
  asyncCall(url: string | URL, options?: CallOptions): Promise<AgentSecretsResponse>
  fetch(input: string | URL | Request, init?: FetchInit): Promise<AgentSecretsFetchResponse>
  connect(): Promise<BackendInfo | MockBackendInfo>
  close(): Promise<void>
  spawn(command: string, args?: string[], options?: SpawnOptions): Promise<SpawnResult>
  spawnAsync(command: string, args?: string[], options?: SpawnOptions): SpawnedProcess
  status(): Promise<Status>
  readonly secrets: SecretsClient
  readonly workspaces: WorkspacesClient
  readonly projects: ProjectsClient
  readonly allowlist: AllowlistClient
  readonly proxy: ProxyClient
  setWorkspace(name: string): Promise<void>
  setProject(name: string): Promise<void>
  workspace(name: string): AgentSecretsClient
  workspace<T>(name: string, fn: (scoped: AgentSecretsClient) => T | Promise<T>): Promise<T>
  project(name: string): AgentSecretsClient
  project<T>(name: string, fn: (scoped: AgentSecretsClient) => T | Promise<T>): Promise<T>
}

/** Uses API credentials by name: the engine injects them; values never enter this process. */
export declare class AgentSecrets implements AgentSecretsClient {
  constructor(options?: AgentSecretsOptions)
  /** The engine home this client uses. */
  readonly home: string
  /** The backend this client is bound to (the `backend` option, else `AGENTSECRETS_BACKEND`, else `'engine'`). `connect()` says where it is. */
  readonly backend: BackendChoice
  /** Calls `url` through the engine with the named secrets injected. A call with no injection still goes through the engine, which scans its answer for every stored value (with `backend: 'upstream-proxy'` it goes straight to the target instead). */
  call(url: string | URL, options?: CallOptions): Promise<AgentSecretsResponse>
  /** Same as `call()` (parity with the Python SDK's `async_call`). */
  asyncCall(url: string | URL, options?: CallOptions): Promise<AgentSecretsResponse>
  /** `fetch` through the engine with the named secrets injected: resolves with a `Response` whose body streams; HTTP statuses are answers, not errors. */
  fetch(input: string | URL | Request, init?: FetchInit): Promise<AgentSecretsFetchResponse>
  /** Finds the backend now (starting the engine when allowed). */
  connect(): Promise<BackendInfo>
  /** Releases pooled connections; later calls reject with `ClientClosed`. Does nothing on a scoped client. */
  close(): Promise<void>
  /** The workspace/project this client uses (undefined: the active one). */
  readonly scope: { workspace?: string; project?: string }
  /** Runs a command with the secrets in its environment (through the engine); output masked when captured. */
  spawn(command: string, args?: string[], options?: SpawnOptions): Promise<SpawnResult>
  /** Starts a command and returns at once. */
  spawnAsync(command: string, args?: string[], options?: SpawnOptions): SpawnedProcess
  /** The global active workspace/project, proxy state and key storage. */
  status(): Promise<Status>
  readonly secrets: SecretsClient
  readonly workspaces: WorkspacesClient
  readonly projects: ProjectsClient
  readonly allowlist: AllowlistClient
  readonly proxy: ProxyClient
  /** The scope's OpenBao / Vault KV v2 binding (teams, CI). */
  readonly remote: RemoteClient
  /** Global switch of the active workspace. */
  setWorkspace(name: string): Promise<void>
  /** Global switch of the active project. */
  setProject(name: string): Promise<void>
  /** A client scoped to a workspace (same pool, per-request scope, no global switch). */
  workspace(name: string): AgentSecrets
  workspace<T>(name: string, fn: (scoped: AgentSecrets) => T | Promise<T>): Promise<T>
  /** A client scoped to a project of this client's workspace. */
  project(name: string): AgentSecrets
  project<T>(name: string, fn: (scoped: AgentSecrets) => T | Promise<T>): Promise<T>
}

export interface AgentSecretsErrorOptions {
  code?: string
  fixHint?: string | null
  cause?: unknown
}

/** Base class of every error the SDK throws. */
export declare class AgentSecretsError extends Error {
  constructor(message: string, options?: AgentSecretsErrorOptions)
  /** Stable machine-readable code: an engine code (e.g. `DOMAIN_NOT_ALLOWED`) or an SDK code (e.g. `TIMEOUT`). */
  readonly code: string
  /** What to run or change to fix it. */
  readonly fixHint: string | null
  readonly cause?: unknown
}
/** No proxy runs for this home and none could be started. */
export declare class AgentSecretsNotRunning extends AgentSecretsError {}
/** The home has no vault yet: run `agentsecrets init`. */
export declare class NotInitialized extends AgentSecretsNotRunning {}
/** A proxy was found but the connection to it failed. */
export declare class ProxyConnectionError extends AgentSecretsError {}
/** The engine refused the caller (missing or wrong caller token). */
export declare class ProxyAuthError extends AgentSecretsError {}
/** The token of a bound OpenBao / Vault expired or was revoked (`SESSION_EXPIRED`). */
export declare class SessionExpired extends AgentSecretsError {}
/** The bound OpenBao / Vault server is unreachable (`REMOTE_UNREACHABLE`) or sealed (`REMOTE_SEALED`). */
export declare class RemoteUnavailable extends AgentSecretsError {}
/** A push lost a check-and-set race (`REMOTE_CONFLICT`); `key` names the secret. */
export declare class RemoteConflict extends AgentSecretsError {
  constructor(message: string, options?: AgentSecretsErrorOptions & { key?: string | null })
  readonly key: string | null
}
/** The named secret does not exist. */
export declare class SecretNotFound extends AgentSecretsError {
  constructor(message: string, options?: AgentSecretsErrorOptions & { key?: string | null })
  /** The secret's name. */
  readonly key: string | null
}
/** The target host is not on the workspace allowlist. */
export declare class DomainNotAllowed extends AgentSecretsError {
  constructor(message: string, options?: AgentSecretsErrorOptions & { domain?: string | null })
  readonly domain: string | null
}
/** The upstream API answered with a status >= 400; the credential was injected. */
export declare class UpstreamError extends AgentSecretsError {
  constructor(message: string, options?: AgentSecretsErrorOptions & { statusCode?: number; body?: string; headers?: Record<string, string>; url?: string })
  readonly statusCode: number
  /** The upstream's answer (redacted by the engine). */
  readonly body: string
  readonly headers: Record<string, string>
  readonly url: string
}
/** The upstream could not be reached. */
export declare class UpstreamUnreachable extends AgentSecretsError {}
/** Refused by policy: insecure scheme, refused address, forbidden caller. */
export declare class PermissionDenied extends AgentSecretsError {}
export declare class WorkspaceNotFound extends AgentSecretsError {
  constructor(message: string, options?: AgentSecretsErrorOptions & { workspace?: string | null })
  readonly workspace: string | null
}
export declare class ProjectNotFound extends AgentSecretsError {
  constructor(message: string, options?: AgentSecretsErrorOptions & { project?: string | null })
  readonly project: string | null
}
/** No `agentsecrets` binary was found. */
export declare class CLINotFound extends AgentSecretsError {}
/** The `agentsecrets` binary failed. */
export declare class CLIError extends AgentSecretsError {
  constructor(message: string, options?: AgentSecretsErrorOptions & { exitCode?: number | null })
  readonly exitCode: number | null
}
/** Allowlist changes need a human (TTY or admin password). */
export declare class AllowlistModificationDenied extends AgentSecretsError {}
/** Bad arguments; nothing was sent. */
export declare class InvalidArgument extends AgentSecretsError {}
/** `createFetch()`: a secret placeholder where no value can be injected (path, cookie, body, URL user info, fragment); nothing was sent. */
export declare class PlaceholderNotInjectable extends InvalidArgument {}
/** The secret's value or the body does not fit the injection style. */
export declare class InjectionFailed extends AgentSecretsError {}
/** The call did not finish in time. */
export declare class TimeoutError extends AgentSecretsError {
  /** For a spawned command: how it ended after being killed. */
  readonly result?: SpawnResult
}
/** The call was aborted through its AbortSignal. */
export declare class AbortError extends AgentSecretsError {
  /** For a spawned command: how it ended after being killed. */
  readonly result?: SpawnResult
}
/** The backend cannot do this (e.g. per-request scope on the upstream proxy). */
export declare class BackendUnsupported extends AgentSecretsError {}
/** The client was closed. */
export declare class ClientClosed extends AgentSecretsError {}
/**
 * The agentsecrets engine does not run on this platform (code
 * `PLATFORM_NOT_SUPPORTED`, on Windows): the default backend, auto-start,
 * spawning and management need it. `backend: 'upstream-proxy'` and
 * `MockAgentSecrets` work there.
 */
export declare class PlatformNotSupported extends AgentSecretsError {}
/**
 * An optional peer dependency an integration needs (code
 * `PEER_DEPENDENCY_MISSING`): the message says what to `npm install`.
 */
export declare class DependencyMissing extends AgentSecretsError {}
/** Any other engine failure (vault, internal, limits, unreadable encoding). */
export declare class EngineError extends AgentSecretsError {}
/**
 * The answer is over a response size limit (code `RESPONSE_TOO_LARGE`): the
 * call's `maxResponseBytes` (reading stopped there) or the engine's
 * `--max-response-mib` (the engine cut it). Nothing of the answer is returned.
 */
export declare class ResponseTooLarge extends AgentSecretsError {}

/** Maps an error from the native addon to its class (others are returned unchanged). */
export declare function convertError(err: unknown): unknown
