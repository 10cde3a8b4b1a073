import fs from 'node:fs'
import { AgentSecrets } from '@the-17/agentsecrets'

const uploadURL = process.env.UPLOAD_URL ?? 'https://uploads.example.com/v1/files'
const file = process.env.UPLOAD_FILE ?? 'backup.tar.gz'
const client = new AgentSecrets()

// The file streams through the engine as it is read: memory stays flat
// whatever its size, and a slow upstream slows the reading.
const res = await client.fetch(uploadURL, {
  method: 'PUT',
  headers: { 'content-type': 'application/octet-stream' },
  body: fs.createReadStream(file),
  duplex: 'half',
  header: { 'X-Api-Key': 'UPLOAD_KEY' },
})
console.log(res.status, await res.text())
await client.close()
