import OpenAI from 'openai'
import { AgentSecrets, createFetch, secretRef } from '@the-17/agentsecrets'

const client = new AgentSecrets()

// The SDK sends `Authorization: Bearer AS_SECRET_OPENAI_KEY`; createFetch()
// turns the placeholder into the engine's injection, so the key never
// enters this process.
const openai = new OpenAI({
  apiKey: secretRef('OPENAI_KEY'),
  baseURL: process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
  fetch: createFetch(client),
})

const stream = await openai.chat.completions.create({
  model: 'gpt-4o-mini',
  stream: true,
  messages: [{ role: 'user', content: 'Say hello' }],
})
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? '')
process.stdout.write('\n')
await client.close()
