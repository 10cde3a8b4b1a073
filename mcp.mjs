// ESM entry of @the-17/agentsecrets/mcp: the same objects as the CommonJS entry.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const cjs = require('./mcp.js')

export const { createMcpServer } = cjs

export default cjs
