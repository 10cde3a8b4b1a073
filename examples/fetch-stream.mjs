import { AgentSecrets } from '@the-17/agentsecrets'

const baseURL = process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1'
const client = new AgentSecrets()

// A streamed chat completion: the engine injects OPENAI_KEY, and each
// server-sent event reaches this loop as soon as the API sends it.
const res = await client.fetch(`${baseURL}/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Say hello' }] }),
  bearer: 'OPENAI_KEY',
})
if (!res.ok) throw new Error(`the API answered ${res.status}: ${await res.text()}`)

const decoder = new TextDecoder()
let pending = ''
for await (const chunk of res.body) {
  pending += decoder.decode(chunk, { stream: true })
  let end
  while ((end = pending.indexOf('\n\n')) >= 0) {
    const data = pending.slice(0, end).replace(/^data: /, '')
    pending = pending.slice(end + 2)
    if (data !== '[DONE]') process.stdout.write(JSON.parse(data).choices[0]?.delta?.content ?? '')
  }
}
console.log(`\nredacted: ${await res.redacted}`)
await client.close()
