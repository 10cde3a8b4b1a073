// ESM entry of @the-17/agentsecrets/testing: the same objects as the
// CommonJS entry.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const cjs = require('./testing.js')

export const { MockAgentSecrets, MockSpawnedProcess, REDACTION_MARKER } = cjs

export default cjs
