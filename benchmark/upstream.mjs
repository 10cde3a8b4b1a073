// The benchmarks' loopback upstream runs in its own process, so that it does
// not share the measuring process's event loop with the clients under test.

import { spawn } from 'node:child_process'

/**
 * Runs `source` in a new Node process: it has `http` in scope and must
 * define `const server = http.createServer(...)`, which then listens on a
 * free loopback port with long keep-alive. Resolves with its base URL and
 * the process.
 * @param {string} source
 */
export async function spawnUpstream(source) {
  const program = `
    const http = require('node:http')
    ${source}
    server.keepAliveTimeout = 60000
    server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'))
  `
  const child = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())))
    child.once('exit', (code) => reject(new Error(`upstream exited (${code})`)))
  })
  return { base: `http://127.0.0.1:${port}`, process: child }
}
