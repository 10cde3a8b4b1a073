// Type-checks every README example with `tsc --noEmit --strict` (npm run typecheck).
// It is compiled, not run.

import {
  AgentSecrets,
  AgentSecretsError,
  AgentSecretsNotRunning,
  AgentSecretsResponse,
  DomainNotAllowed,
  SecretNotFound,
  UpstreamError,
  TimeoutError,
  AbortError,
  InvalidArgument,
  AllowlistModificationDenied,
  BackendUnsupported,
  PlatformNotSupported,
  DependencyMissing,
  ResponseTooLarge,
  SpawnedProcess,
  type CallOptions,
  type SpawnOptions,
  type SpawnResult,
  type AuditEvent,
  type Status,
  type AgentSecretsClient,
  type BackendInfo,
  type MockBackendInfo,
} from '@the-17/agentsecrets'
import {
  createApiCallTool,
  createSecretTools,
  type ApiCallToolOptions,
  type SecretToolsOptions,
  type ApiCallInput,
  type InjectionMap,
} from '@the-17/agentsecrets/langchain'
import { createMcpServer, type McpServerOptions } from '@the-17/agentsecrets/mcp'
import type { DynamicStructuredTool } from '@langchain/core/tools'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import {
  MockAgentSecrets,
  MockSpawnedProcess,
  REDACTION_MARKER,
  type MockCallRecord,
  type MockSpawnRecord,
} from '@the-17/agentsecrets/testing'

export async function readmeExamples(abortController: AbortController): Promise<void> {
  const client = new AgentSecrets()
  new AgentSecrets({ port: 9000 })
  new AgentSecrets({ workspace: 'Acme', project: 'payments' })
  new AgentSecrets({ maxResponseBytes: 16 * 1024 * 1024 })
  new AgentSecrets({ autoStart: false })
  new AgentSecrets({ home: '/tmp/agentsecrets-home', cli: '/usr/local/bin/agentsecrets', timeoutMs: 10_000, agentId: 'my-agent' })

  const res = await client.call('https://api.stripe.com/v1/charges', {
    method: 'POST',
    body: { amount: 1000 },
    headers: { 'Idempotency-Key': 'x' },
    bearer: 'STRIPE_KEY',
    header: { 'X-Api-Key': 'SENDGRID_KEY' },
    query: { key: 'GMAP_KEY' },
    bodyField: { client_secret: 'CLIENT_SECRET' },
    agentId: 'my-agent',
    timeoutMs: 30000,
    signal: abortController.signal,
  })
  const status: number = res.statusCode
  const text: string = res.body
  const bytes: Buffer = res.bytes()
  const parsed = res.json<{ id: string }>()
  const id: string = parsed.id
  const headers: Record<string, string> = res.headers
  const redacted: boolean = res.redacted
  const ms: number = res.durationMs
  const r2: AgentSecretsResponse = await client.asyncCall('https://api.openai.com/v1/models', { bearer: 'OPENAI_KEY' })
  void [status, text, bytes, id, headers, redacted, ms, r2]

  // The six styles.
  await client.call('https://api.stripe.com/v1/balance', { bearer: 'STRIPE_KEY' })
  await client.call('https://api.sendgrid.com/v3/mail/send', { method: 'POST', body: { to: 'a@b.c' }, header: { 'X-Api-Key': 'SENDGRID_KEY' } })
  await client.call('https://maps.googleapis.com/maps/api/geocode/json?address=Lagos', { query: { key: 'GMAP_KEY' } })
  await client.call('https://yourcompany.atlassian.net/rest/api/2/issue', { basic: 'JIRA_CREDS' })
  await client.call('https://api.example.com/oauth/token', { method: 'POST', body: { grant_type: 'client_credentials' }, bodyField: { client_secret: 'CLIENT_SECRET' } })
  await client.call('https://oauth.example.com/token', { method: 'POST', formField: { api_key: 'API_KEY' } })
  await client.call('https://api.example.com/data', { bearer: 'AUTH_TOKEN', header: { 'X-Org-ID': 'ORG_SECRET' }, query: { version: 'API_VERSION' } })

  // Body kinds and other options.
  const opts: CallOptions = { method: 'PUT', body: new Uint8Array([1, 2]), headers: new Headers({ a: 'b' }), throwOnHttpError: false }
  await client.call(new URL('https://api.example.com/x'), opts)
  await client.call('https://api.example.com/x', { body: 'raw text', bearer: 'K', workspace: 'Client A', project: 'payments' })
  await client.call('https://api.example.com/x', { body: Buffer.from('x'), bearer: 'K', signal: AbortSignal.timeout(1000) })
  await client.call('https://api.example.com/x', { body: new URLSearchParams({ a: 'b' }), formField: { api_key: 'API_KEY' } })

  const info = await client.connect()
  const kind: string = info.kind
  const auth: 'unix-socket' | 'engine-proof' | 'none' = info.auth
  const bound: 'engine' | 'upstream-proxy' = client.backend
  new AgentSecrets({ backend: 'upstream-proxy', port: 8765 })
  void kind
  void auth
  void bound

  try {
    await client.call('https://api.stripe.com/v1/balance', { bearer: 'STRIPE_KEY' })
  } catch (e) {
    if (e instanceof AgentSecretsNotRunning) throw e
    else if (e instanceof DomainNotAllowed) console.log(`Run: agentsecrets workspace allowlist add ${e.domain}`)
    else if (e instanceof SecretNotFound) console.log(`Run: agentsecrets secrets set ${e.key}`)
    else if (e instanceof UpstreamError) console.log(`API returned ${e.statusCode}: ${e.body} (${e.url})`, e.headers)
    else if (e instanceof TimeoutError || e instanceof AbortError || e instanceof InvalidArgument) console.log(e.code)
    else if (e instanceof ResponseTooLarge) console.log(e.fixHint)
    else if (e instanceof AgentSecretsError) console.log(e.code, e.fixHint, e.cause)
  }

  await client.close()
}

export async function spawnAndManageExamples(abortController: AbortController): Promise<void> {
  const client = new AgentSecrets()
  const r: SpawnResult = await client.spawn('stripe', ['mcp'])
  await client.spawn('python', ['manage.py', 'migrate'], { project: 'payments-service' })
  const r2 = await client.spawn('python', ['manage.py', 'test'], { capture: true, timeoutMs: 60_000, only: ['DB_URL'] })
  const code: number | null = r2.exitCode
  const out: string | undefined = r2.stdout
  void [r.signal, code, out, r2.stderr]
  const opts: SpawnOptions = { env: { PLAIN: '1' }, cwd: '/tmp', input: 'x', signal: abortController.signal, stdio: 'ignore', workspace: 'Acme' }
  await client.spawn('true', [], opts)
  const proc: SpawnedProcess = client.spawnAsync('stripe', ['mcp'], { stdio: 'pipe' })
  proc.stdin?.write('{}\n')
  proc.stdout?.on('data', (d: Buffer) => void d)
  const pid: number | undefined = proc.pid
  void pid
  proc.kill('SIGTERM')
  await proc.wait()

  const st: Status = await client.status()
  void [st.workspaceName, st.projectName, st.proxyRunning, st.storageMode, st.lastPull]
  const secrets = await client.secrets.list()
  void secrets[0]?.key
  await client.secrets.set('KEY', 'value from a human')
  await client.secrets.delete('KEY')
  try {
    await client.secrets.diff()
  } catch (e) {
    if (e instanceof BackendUnsupported) console.log(e.fixHint)
    // Windows: the engine does not run there.
    if (e instanceof PlatformNotSupported) console.log(e.code, e.fixHint)
    if (e instanceof DependencyMissing) console.log(e.message)
  }
  await client.workspaces.list()
  await client.workspaces.create('Client A')
  await client.workspaces.members()
  await client.setWorkspace('Client A')
  await client.setProject('default')
  await client.projects.list()
  await client.projects.create('payments-service')
  await client.allowlist.list()
  try {
    await client.allowlist.add('api.example.com')
  } catch (e) {
    if (e instanceof AllowlistModificationDenied) console.log(e.fixHint)
  }
  await client.allowlist.add(['a.com', 'b.com'], { adminPassword: 'typed by a human' })
  await client.allowlist.remove('a.com', { adminPassword: 'typed by a human' })
  await client.allowlist.log({ last: 20 })
  await client.proxy.start()
  const ps = await client.proxy.status()
  void [ps.running, ps.port, ps.sessionValid, ps.uptimeSeconds]
  const events: AuditEvent[] = await client.proxy.logs({ last: 10, status: 'BLOCKED', secret: 'STRIPE_KEY' })
  const when: Date | null = events[0]?.timestamp ?? null
  void when
  await client.proxy.stop()

  const ws = client.workspace('Client A')
  await ws.call('https://api.stripe.com/v1/balance', { bearer: 'STRIPE_KEY' })
  const n: number | null = await client.project('payments-service', async (proj) => {
    const res = await proj.spawn('python', ['manage.py', 'migrate'])
    return res.exitCode
  })
  void n
}

// Both clients satisfy the shared interface, so code typed against it runs with either.
export async function chargeBalance(client: AgentSecretsClient): Promise<number> {
  const res = await client.call('https://api.stripe.com/v1/balance', { bearer: 'STRIPE_KEY' })
  const scoped: AgentSecretsClient = client.workspace('Acme')
  const n: number = await client.project('payments', async (p) => (await p.status()).projectName?.length ?? 0)
  const info: BackendInfo | MockBackendInfo = await scoped.connect()
  void [n, info.kind]
  return res.statusCode
}

export async function mockExamples(): Promise<void> {
  const real: AgentSecretsClient = new AgentSecrets()
  const mock = new MockAgentSecrets({ secrets: { STRIPE_KEY: 'sk_test_mock' }, allowlist: ['api.stripe.com'], agentId: 'test' })
  const asClient: AgentSecretsClient = mock
  await chargeBalance(real)
  await chargeBalance(asClient)

  mock
    .respond('https://api.stripe.com/v1/balance', { statusCode: 200, body: { available: [] } })
    .respond({ url: /\/v1\/charges/, method: 'POST' }, (r: MockCallRecord) => ({ statusCode: 402, body: `no funds for ${r.bearer}` }), { times: 1 })
    .failWhen((r) => r.url.includes('blocked'), new DomainNotAllowed('blocked', { code: 'DOMAIN_NOT_ALLOWED' }))
    .failNext(new UpstreamError('down', { code: 'UPSTREAM_HTTP' }))
    .respondSpawn('python', { exitCode: 0, stdout: 'ok' })
  const res = await mock.call('https://api.stripe.com/v1/balance', { bearer: 'STRIPE_KEY' })
  const redacted: boolean = res.redacted
  const record: MockCallRecord | undefined = mock.calls[0]
  const bearer: string | undefined = record?.bearer
  const spawned: MockSpawnRecord | undefined = mock.spawns[0]
  const p: MockSpawnedProcess = mock.spawnAsync('python', ['-V'], { stdio: 'pipe' })
  const code: number | null = (await p.wait()).exitCode
  const marker: '[REDACTED_BY_AGENTSECRETS]' = REDACTION_MARKER
  const kind: 'mock' = (await mock.connect()).kind
  void [redacted, bearer, spawned, code, marker, kind]
  mock.reset()

  // The README's MockAgentSecrets example.
  mock.respond({ url: 'https://api.stripe.com/v1/charges', method: 'POST' }, { statusCode: 402, body: { error: 'declined' } })
  mock.failNext(new DomainNotAllowed('api.evil.test is not allowed', { domain: 'api.evil.test' }))
  mock.failNext(new SecretNotFound('missing', { key: 'STRIPE_KEY' }))
  mock.failNext(new UpstreamError('down', { statusCode: 503, body: 'busy', headers: {}, url: 'https://api.stripe.com/' }))
}

// The README's LangChain.js and MCP sections.
export async function integrations(client: AgentSecretsClient): Promise<void> {
  const options: ApiCallToolOptions = {
    name: 'openai_api',
    allowUrls: ['https://api.openai.com/v1'],
    allowMethods: ['GET', 'POST'],
    allowSecrets: 'OPENAI_API_KEY',
    maxOutputChars: 8000,
    maxResponseBytes: 1 << 20,
    timeoutMs: 10_000,
    agentId: 'research-agent',
  }
  const apiCall: DynamicStructuredTool = createApiCallTool(client, options)
  const injections: InjectionMap = { bearer: 'OPENAI_API_KEY', 'header:X-Org': 'ORG_ID', 'query:key': 'K', 'body:auth.key': 'K', 'form:f': 'K' }
  const input: ApiCallInput = { url: 'https://api.openai.com/v1/models', method: 'GET', headers: { Accept: 'application/json' }, injections }
  const answer: unknown = await apiCall.invoke(input)
  const secretOptions: SecretToolsOptions = { allowSecrets: ['OPENAI_API_KEY'], spawn: { commands: ['stripe'], only: ['STRIPE_KEY'], timeoutMs: 5000 } }
  const tools: DynamicStructuredTool[] = [apiCall, ...createSecretTools(client, secretOptions), ...createSecretTools(client)]
  const mcpOptions: McpServerOptions = { name: 'my-agent-secrets', allowUrls: 'https://api.stripe.com/v1', allowSecrets: ['STRIPE_KEY'] }
  const server: McpServer = createMcpServer(client, mcpOptions)
  void [answer, tools, server]
}

import {
  createFetch,
  secretRef,
  PlaceholderNotInjectable,
  AgentSecretsFetchResponse,
  type FetchInit,
  type FetchFunction,
  type CreateFetchOptions,
} from '../index.js'

// client.fetch(), createFetch() and secretRef() (README "Streaming and fetch").
export async function streamingAndFetch(client: AgentSecrets): Promise<void> {
  const init: FetchInit = { method: 'POST', body: JSON.stringify({ stream: true }), bearer: 'OPENAI_KEY', signal: AbortSignal.timeout(60_000) }
  const res: AgentSecretsFetchResponse = await client.fetch('https://api.openai.com/v1/chat/completions', init)
  const status: number = res.status
  const stream: ReadableStream<Uint8Array> | null = res.body
  const redacted: boolean = await res.redacted
  const upload = new ReadableStream<Uint8Array>()
  await client.fetch(new URL('https://uploads.example.com/files'), { method: 'PUT', body: upload, duplex: 'half', header: { 'X-Api-Key': 'UPLOAD_KEY' } })
  const options: CreateFetchOptions = { requirePlaceholder: true, agentId: 'agent-1' }
  const f: FetchFunction = createFetch(client, options)
  const key: string = secretRef('OPENAI_KEY')
  const r: Response = await f('https://api.openai.com/v1/models', { headers: { Authorization: `Bearer ${key}` } })
  const asFetch: typeof fetch = createFetch(client)
  try {
    await f(`https://api.example.com/${key}`)
  } catch (e) {
    if (e instanceof PlaceholderNotInjectable) void e.code
    if (e instanceof InvalidArgument) void e.fixHint
  }
  void [status, stream, redacted, r, asFetch]
}
