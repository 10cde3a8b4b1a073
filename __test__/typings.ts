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
  type CallOptions,
} from '@the-17/agentsecrets'

export async function readmeExamples(abortController: AbortController): Promise<void> {
  const client = new AgentSecrets()
  new AgentSecrets({ port: 9000 })
  new AgentSecrets({ workspace: 'Acme', project: 'payments' })
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
  void kind

  try {
    await client.call('https://api.stripe.com/v1/balance', { bearer: 'STRIPE_KEY' })
  } catch (e) {
    if (e instanceof AgentSecretsNotRunning) throw e
    else if (e instanceof DomainNotAllowed) console.log(`Run: agentsecrets workspace allowlist add ${e.domain}`)
    else if (e instanceof SecretNotFound) console.log(`Run: agentsecrets secrets set ${e.key}`)
    else if (e instanceof UpstreamError) console.log(`API returned ${e.statusCode}: ${e.body} (${e.url})`, e.headers)
    else if (e instanceof TimeoutError || e instanceof AbortError || e instanceof InvalidArgument) console.log(e.code)
    else if (e instanceof AgentSecretsError) console.log(e.code, e.fixHint, e.cause)
  }

  await client.close()
}
