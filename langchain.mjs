// ESM entry of @the-17/agentsecrets/langchain: the same objects as the
// CommonJS entry.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const cjs = require('./langchain.js')

export const { createApiCallTool, createSecretTools } = cjs

export default cjs
