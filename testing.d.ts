// Types of @the-17/agentsecrets/testing: MockAgentSecrets, a test double
// with the same interface as AgentSecrets (AgentSecretsClient).

/// <reference types="node" />

import type {
  AgentSecretsClient,
  AgentSecretsError,
  AgentSecretsOptions,
  AgentSecretsFetchResponse,
  AgentSecretsResponse,
  AllowlistClient,
  CallOptions,
  FetchInit,
  MockBackendInfo,
  ProjectsClient,
  ProxyClient,
  SecretsClient,
  SpawnOptions,
  SpawnResult,
  Status,
  WorkspacesClient,
} from './index.js'

/** Options of `new MockAgentSecrets()`: the real client's options, plus the mock's own. */
export interface MockAgentSecretsOptions extends AgentSecretsOptions {
  /**
   * Secret name → value. Given (even `{}`), calls and `spawn({ only })` naming
   * another secret reject with `SecretNotFound`. Values never appear in
   * records, responses or errors: an echo is redacted like the engine does.
   */
  secrets?: Record<string, string | Buffer | Uint8Array>
  /** Hosts (or `*.example.com`) calls may inject into; given, other hosts reject with `DomainNotAllowed`. */
  allowlist?: string[]
}

/** A recorded call: the request with secret NAMES only (there is no value field). */
export interface MockCallRecord {
  readonly url: string
  /** Upper case; `GET` by default. */
  readonly method: string
  /** Plain headers as given (names as given). */
  readonly headers: Readonly<Record<string, string>>
  /** The request body as UTF-8 text (objects as JSON), or null. */
  readonly body: string | null
  readonly bearer?: string
  readonly basic?: string
  readonly header?: Readonly<Record<string, string>>
  readonly query?: Readonly<Record<string, string>>
  readonly bodyField?: Readonly<Record<string, string>>
  readonly formField?: Readonly<Record<string, string>>
  /** Every secret name the call injects. */
  readonly secretKeys: readonly string[]
  readonly agentId?: string
  /** The workspace and project the call used (its own, the client's, else the active ones). */
  readonly workspace: string
  readonly project: string
  readonly timestamp: Date
}

/** A recorded spawn/spawnAsync. */
export interface MockSpawnRecord {
  readonly command: string
  readonly args: readonly string[]
  readonly workspace: string
  readonly project: string
  readonly only?: readonly string[]
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
  readonly capture: boolean
  readonly stdio: 'inherit' | 'pipe' | 'ignore'
  readonly timestamp: Date
}

/** A scripted answer. Objects and arrays as `body` are sent as JSON. */
export interface MockResponseSpec {
  /** Default 200. */
  statusCode?: number
  headers?: Record<string, string | number>
  body?: string | Buffer | Uint8Array | Record<string, unknown> | unknown[]
  /** Answer after this many ms (a call's `timeoutMs` and `signal` apply). */
  delayMs?: number
}

/** Which calls a script applies to: a URL (exact, or without its query), a RegExp on the URL, `{ url?, method? }`, or a predicate. */
export type MockCallMatcher = string | RegExp | { url?: string | RegExp; method?: string } | ((record: MockCallRecord) => boolean)

export type MockResponder = MockResponseSpec | ((record: MockCallRecord) => MockResponseSpec | Promise<MockResponseSpec>)

/** How a scripted spawn ends. Default: exit code 0, no output. */
export interface MockSpawnSpec {
  exitCode?: number
  signal?: NodeJS.Signals | null
  stdout?: string | Buffer
  stderr?: string | Buffer
  /** End after this many ms (`timeoutMs`, `signal` and `kill()` apply). */
  delayMs?: number
}

export type MockSpawnMatcher = string | RegExp | ((record: MockSpawnRecord) => boolean)

export interface MockScriptOptions {
  /** Use this script this many times, then drop it. Default: always. */
  times?: number
}

/** A simulated spawned command, shaped like `SpawnedProcess`. */
export declare class MockSpawnedProcess {
  private constructor()
  /** A made-up id; no process runs. */
  readonly pid: number | undefined
  readonly stdin: import('node:stream').Writable | null
  readonly stdout: import('node:stream').Readable | null
  readonly stderr: import('node:stream').Readable | null
  readonly ttyStdin: boolean
  wait(): Promise<SpawnResult>
  kill(signal?: NodeJS.Signals | number): boolean
}

/** A test double of `AgentSecrets`: no engine, no network, secret names only in its records. */
export declare class MockAgentSecrets implements AgentSecretsClient {
  constructor(options?: MockAgentSecretsOptions)
  /** Calls made through this mock and its scoped clients, oldest first. */
  readonly calls: MockCallRecord[]
  /** Spawns made through this mock and its scoped clients, oldest first. */
  readonly spawns: MockSpawnRecord[]
  /** The `home` option, else `'<mock>'`. */
  readonly home: string
  readonly backend: 'mock'
  readonly scope: { workspace?: string; project?: string }
  /** Answers matching calls (first registered first); unmatched calls get 200 `{"ok":true}`. */
  respond(matcher: MockCallMatcher, response: MockResponder, options?: MockScriptOptions): this
  /** The next call rejects with `error`. */
  failNext(error: AgentSecretsError): this
  /** Matching calls reject with `error`. */
  failWhen(matcher: MockCallMatcher, error: AgentSecretsError, options?: MockScriptOptions): this
  /** Matching spawns end as `result`. */
  respondSpawn(matcher: MockSpawnMatcher, result: MockSpawnSpec, options?: MockScriptOptions): this
  /** Forgets calls, spawns, audit events and scripts; secrets stay. */
  reset(): void
  call(url: string | URL, options?: CallOptions): Promise<AgentSecretsResponse>
  asyncCall(url: string | URL, options?: CallOptions): Promise<AgentSecretsResponse>
  /** `fetch()` answered like `call()` (same scripts, checks, records and redaction), as a `Response`. */
  fetch(input: string | URL | Request, init?: FetchInit): Promise<AgentSecretsFetchResponse>
  connect(): Promise<MockBackendInfo>
  close(): Promise<void>
  spawn(command: string, args?: string[], options?: SpawnOptions): Promise<SpawnResult>
  spawnAsync(command: string, args?: string[], options?: SpawnOptions): MockSpawnedProcess
  status(): Promise<Status>
  readonly secrets: SecretsClient
  readonly workspaces: WorkspacesClient
  readonly projects: ProjectsClient
  readonly allowlist: AllowlistClient
  readonly proxy: ProxyClient
  setWorkspace(name: string): Promise<void>
  setProject(name: string): Promise<void>
  workspace(name: string): MockAgentSecrets
  workspace<T>(name: string, fn: (scoped: MockAgentSecrets) => T | Promise<T>): Promise<T>
  project(name: string): MockAgentSecrets
  project<T>(name: string, fn: (scoped: MockAgentSecrets) => T | Promise<T>): Promise<T>
}

/** What replaces an echoed secret value: `[REDACTED_BY_AGENTSECRETS]`. */
export declare const REDACTION_MARKER: '[REDACTED_BY_AGENTSECRETS]'
