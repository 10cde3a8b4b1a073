// Teams and CI: this code only names OPENAI_API_KEY. The engine resolves it
// from OpenBao at request time (the binding in AGENTSECRETS_REMOTE, or one
// made with `agentsecrets remote set`); no value enters this process.
import { AgentSecrets, RemoteUnavailable, SessionExpired } from '@the-17/agentsecrets'

const baseUrl = process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1'
const client = new AgentSecrets()
try {
  const res = await client.call(`${baseUrl}/models`, { bearer: 'OPENAI_API_KEY' })
  const models = res.json().data ?? []
  console.log(`status ${res.statusCode}, ${models.length} models`)
} catch (e) {
  if (!(e instanceof SessionExpired || e instanceof RemoteUnavailable)) throw e
  // A typed error, never a stale or empty value: e.g. REMOTE_SEALED.
  console.error(`${e.code}: ${e.fixHint}`)
  process.exitCode = 1
} finally {
  await client.close()
}
