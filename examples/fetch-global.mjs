import { AgentSecrets, installGlobalFetch, secretRef } from '@the-17/agentsecrets'

const client = new AgentSecrets()

// Code that calls the global fetch (here directly, often a library) can now
// use placeholders; a request without one goes to Node's fetch as before.
const restore = installGlobalFetch(client)

const base = process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1'
const res = await fetch(`${base}/models`, {
  headers: { Authorization: `Bearer ${secretRef('OPENAI_KEY')}` },
})
console.log(res.status, (await res.json()).data.length, 'models')

restore()
await client.close()
