// The packed packages, installed offline into an empty project outside the
// checkout with no Rust toolchain on PATH: the SDK loads (CJS and ESM) with
// the addon of the installed platform package, the `agentsecrets` bin runs
// its engine, a call through the auto-started engine injects a secret into a
// loopback upstream, the README's examples typecheck, no Rust source is
// shipped, and the LangChain/MCP subpaths and the `agentsecrets-mcp` bin say
// what to install without their optional peers and work with them.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { platformSuffix } = createRequire(import.meta.url)('../lib/platform.js')
const SUFFIX = platformSuffix()
const PLATFORM_PACKAGE = `agentsecrets-${SUFFIX}`
// Set (as CI does for each target) to install the prebuilt npm/<suffix>/
// packages as they are, instead of packing this checkout's build.
const PACK_ARGS = process.env.AGENTSECRETS_PACK_PREBUILT ? ['--prebuilt', SUFFIX] : ['--strip']
const PASSWORD = 'pack-test-admin-password'
const SECRET = 'sk_pack_test_7b1f0c2e9d'

let work
let project
let home
let env
let packed

/**
 * PATH without any directory holding cargo or rustc, led by a directory of
 * its own with node, npm, npx and sh (they may share a directory with a Rust
 * toolchain, as Debian's packages do in /usr/bin).
 */
function pathWithoutRust() {
  const original = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)
  const holdsRust = (d) => ['cargo', 'rustc'].some((tool) => fs.existsSync(path.join(d, tool)))
  const tools = path.join(work, 'node-bin')
  fs.mkdirSync(tools)
  fs.symlinkSync(process.execPath, path.join(tools, 'node'))
  for (const tool of ['npm', 'npx', 'sh']) {
    const dir = original.find((d) => fs.existsSync(path.join(d, tool)))
    if (dir) fs.symlinkSync(fs.realpathSync(path.join(dir, tool)), path.join(tools, tool))
  }
  return [tools, ...original.filter((d) => !holdsRust(d))].join(path.delimiter)
}

function run(cmd, args, { input, ok = true } = {}) {
  const r = spawnSync(cmd, args, { cwd: project, env, input: input ?? '', encoding: 'utf8', timeout: 60_000 })
  if (ok && r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`)
  }
  return r
}

const agentsecrets = (args, input) => run('npx', ['--no', '--', 'agentsecrets', ...args], { input })

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'as-pack-test-'))
  assert.ok(path.relative(ROOT, work).startsWith('..'), 'the temp project is outside the checkout')
  const out = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'pack.mjs'), ...PACK_ARGS, '--out', path.join(work, 'tarballs')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  packed = JSON.parse(out)
  project = path.join(work, 'project')
  home = path.join(work, 'home')
  fs.mkdirSync(project)
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'pack-check', version: '1.0.0', private: true }))
  env = { ...process.env }
  // Nothing may point back into the checkout: under `npm run`, npm_config_local_prefix is the repository.
  for (const k of Object.keys(env)) {
    if (/^(AGENTSECRETS_|NAPI_RS_|npm_|INIT_CWD$|NODE_PATH$|NODE_OPTIONS$)/i.test(k)) delete env[k]
  }
  Object.assign(env, {
    PATH: pathWithoutRust(),
    npm_config_offline: 'true',
    npm_config_cache: path.join(work, 'npm-cache'),
    AGENTSECRETS_HOME: home,
    AGENTSECRETS_KEY_STORE: 'file',
    AGENTSECRETS_PORT: '0',
  })
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', packed.root.file, ...packed.platforms.map((p) => p.file)])
})

after(() => {
  if (!work) return
  if (fs.existsSync(path.join(home, 'run', 'proxy.pid'))) run('npx', ['--no', '--', 'agentsecrets', 'proxy', 'stop'], { ok: false })
  fs.rmSync(work, { recursive: true, force: true })
})

test('packed sizes', (t) => {
  for (const p of [packed.root, ...packed.platforms]) {
    t.diagnostic(`${p.name}: ${(p.size / 2 ** 20).toFixed(2)} MiB packed, ${(p.unpackedSize / 2 ** 20).toFixed(2)} MiB unpacked`)
  }
  // The limit is for release builds (CI's release workflow sets it); a checkout's debug build is larger.
  const max = Number(process.env.AGENTSECRETS_PACK_MAX_MIB)
  if (!max) return
  for (const p of packed.platforms) assert.ok(p.size < max * 2 ** 20, `${p.name} is ${p.size} bytes packed, over ${max} MiB`)
})

test('the toolchain is off PATH for the installed project', () => {
  for (const tool of ['cargo', 'rustc']) assert.notEqual(spawnSync(tool, ['--version'], { env }).status, 0, `${tool} runs`)
})

test('the root package names the platform package as an optional dependency, resolved to the installed one', () => {
  const installed = path.join(project, 'node_modules', '@the-17', 'agentsecrets')
  const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'))
  for (const p of packed.platforms) assert.equal(pkg.optionalDependencies?.[p.name], p.version)
  assert.ok(!fs.existsSync(path.join(installed, 'node_modules')), 'no nested copy of a platform package')
})

test('CJS require loads the addon from the installed platform package', () => {
  const r = run(process.execPath, [
    '-e',
    `const m = require('@the-17/agentsecrets')
     const addons = Object.keys(require.cache).filter((k) => k.endsWith('.node'))
     console.log(JSON.stringify({ client: typeof m.AgentSecrets, error: typeof m.AgentSecretsError, addons }))`,
  ])
  const got = JSON.parse(r.stdout)
  assert.equal(got.client, 'function')
  assert.equal(got.error, 'function')
  assert.deepEqual(got.addons, [
    fs.realpathSync(path.join(project, 'node_modules', '@the-17', PLATFORM_PACKAGE, `agentsecrets.${SUFFIX}.node`)),
  ])
})

test('ESM import gives the same classes as require', () => {
  const r = run(process.execPath, [
    '--input-type=module',
    '-e',
    `import { AgentSecrets, SecretNotFound } from '@the-17/agentsecrets'
     import { createRequire } from 'node:module'
     const cjs = createRequire(process.cwd() + '/')('@the-17/agentsecrets')
     console.log(AgentSecrets === cjs.AgentSecrets && SecretNotFound === cjs.SecretNotFound)`,
  ])
  assert.equal(r.stdout.trim(), 'true')
})

test('npx agentsecrets --version runs the installed engine', () => {
  assert.match(agentsecrets(['--version']).stdout, /^agentsecrets \d+\.\d+\.\d+/)
})

test('npx agentsecrets init, secrets set, allowlist add, then client.call() through the auto-started engine', () => {
  agentsecrets(['init', '--admin-password-stdin'], `${PASSWORD}\n`)
  agentsecrets(['secrets', 'set', 'PACK_KEY'], SECRET)
  agentsecrets(['workspace', 'allowlist', 'add', '127.0.0.1', '--password-stdin'], `${PASSWORD}\n`)
  fs.writeFileSync(
    path.join(project, 'call.mjs'),
    `import http from 'node:http'
import fs from 'node:fs'
import { AgentSecrets } from '@the-17/agentsecrets'
const seen = []
const server = http.createServer((req, res) => {
  seen.push(req.headers.authorization)
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ echoed: req.headers.authorization }))
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const client = new AgentSecrets()
const res = await client.call('http://127.0.0.1:' + server.address().port + '/v1/check', { bearer: 'PACK_KEY' })
const pid = Number(fs.readFileSync(process.env.AGENTSECRETS_HOME + '/run/proxy.pid', 'utf8').trim())
console.log(JSON.stringify({ status: res.statusCode, body: res.body, redacted: res.redacted, seen, pid }))
await client.close()
server.close()
`,
  )
  const got = JSON.parse(run(process.execPath, ['call.mjs']).stdout)
  assert.equal(got.status, 200)
  assert.deepEqual(got.seen, [`Bearer ${SECRET}`], 'the upstream received the value')
  assert.ok(!got.body.includes(SECRET), 'the echo came back redacted')
  assert.equal(got.redacted, true)
  assert.equal(executableOf(got.pid), fs.realpathSync(path.join(project, 'node_modules', '@the-17', PLATFORM_PACKAGE, 'agentsecrets')))
})

/** The file a running process was started from. */
function executableOf(pid) {
  if (process.platform === 'linux') return fs.realpathSync(`/proc/${pid}/exe`)
  return fs.realpathSync(execFileSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).trim())
}

test('the README examples typecheck with tsc --strict against the installed package', () => {
  fs.writeFileSync(
    path.join(project, 'readme.mts'),
    `import { AgentSecrets, AgentSecretsError, SecretNotFound, DomainNotAllowed } from '@the-17/agentsecrets'

export async function example(): Promise<void> {
  const client = new AgentSecrets()
  const res = await client.call('https://api.stripe.com/v1/charges', {
    method: 'POST', body: { amount: 1000 },
    bearer: 'STRIPE_KEY',
  })
  const code: number = res.statusCode
  const text: string = res.body
  const parsed: unknown = res.json()
  const redacted: boolean = res.redacted
  void [code, text, parsed, redacted, res.bytes(), res.headers, res.durationMs]
  try {
    await client.call('https://api.example.com/v1', { header: { 'X-Org-ID': 'ORG' }, query: { key: 'K' } })
  } catch (e) {
    if (e instanceof SecretNotFound || e instanceof DomainNotAllowed) throw e
    if (e instanceof AgentSecretsError) console.error(e.message)
  }
  await client.close()
}
`,
  )
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = run(
    process.execPath,
    [tsc, '--strict', '--noEmit', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--typeRoots', path.join(ROOT, 'node_modules', '@types'), '--types', 'node', 'readme.mts'],
    { ok: false },
  )
  assert.equal(r.status, 0, `tsc:\n${r.stdout}${r.stderr}`)
})

test('the installed tree holds no Rust sources', () => {
  const bad = []
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.rs') || e.name === 'Cargo.toml' || e.name === 'Cargo.lock' || e.name === 'build.rs') bad.push(p)
    }
  }
  walk(path.join(project, 'node_modules'))
  assert.deepEqual(bad, [])
})

test('without the optional peers, the integration subpaths and agentsecrets-mcp say what to install', () => {
  const help = run('npx', ['--no', '--', 'agentsecrets-mcp', '--help'])
  assert.match(help.stdout, /^Usage:\n {2}agentsecrets-mcp/)
  const serve = run('npx', ['--no', '--', 'agentsecrets-mcp'], { ok: false })
  assert.equal(serve.status, 1)
  assert.match(serve.stderr, /needs @modelcontextprotocol\/sdk\/server\/mcp\.js, which is not installed\.\nTo fix: npm install @modelcontextprotocol\/sdk zod/)
  const r = run(process.execPath, [
    '-e',
    `const { AgentSecrets } = require('@the-17/agentsecrets')
     const { createApiCallTool } = require('@the-17/agentsecrets/langchain')
     try { createApiCallTool(new AgentSecrets()) } catch (e) { console.log(e.message) }`,
  ])
  assert.match(r.stdout, /To fix: npm install @langchain\/core zod/)
})

test('with the peers installed: agentsecrets-mcp serves a real MCP client, and the LangChain tool calls through the engine', () => {
  // The peers as the user installs them beside the package: linked from the
  // checkout's node_modules (offline, and the npm cache may lack their
  // dependencies); only the peers point there, never this package.
  for (const name of ['@modelcontextprotocol/sdk', '@langchain/core', 'zod']) {
    const link = path.join(project, 'node_modules', name)
    fs.mkdirSync(path.dirname(link), { recursive: true })
    fs.symlinkSync(path.join(ROOT, 'node_modules', name), link, 'dir')
  }
  fs.writeFileSync(
    path.join(project, 'tools.mjs'),
    `import http from 'node:http'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { AgentSecrets } from '@the-17/agentsecrets'
import { createApiCallTool } from '@the-17/agentsecrets/langchain'
const seen = []
const server = http.createServer((req, res) => { seen.push(req.headers.authorization); res.end('ok ' + req.url) })
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = 'http://127.0.0.1:' + server.address().port + '/v1'
const transport = new StdioClientTransport({ command: 'npx', args: ['--no', '--', 'agentsecrets-mcp', '--allow-url', base], env: process.env })
const mcp = new Client({ name: 'pack-check', version: '1.0.0' })
await mcp.connect(transport)
const tools = (await mcp.listTools()).tools.map((t) => t.name).sort()
const list = (await mcp.callTool({ name: 'list_secrets', arguments: {} })).content[0].text
const call = (await mcp.callTool({ name: 'api_call', arguments: { url: base + '/mcp', injections: { bearer: 'PACK_KEY' } } })).content[0].text
await mcp.close()
const client = new AgentSecrets()
const lc = await createApiCallTool(client).invoke({ url: base + '/lc', injections: { bearer: 'PACK_KEY' } })
await client.close()
server.close()
console.log(JSON.stringify({ tools, list, call, lc, seen }))
`,
  )
  const got = JSON.parse(run(process.execPath, ['tools.mjs']).stdout)
  assert.deepEqual(got.tools, ['api_call', 'list_secrets', 'status'])
  assert.match(got.list, /\nPACK_KEY$/)
  assert.equal(got.call, 'HTTP 200\n\nok /v1/mcp')
  assert.equal(got.lc, 'HTTP 200\n\nok /v1/lc')
  assert.deepEqual(got.seen, [`Bearer ${SECRET}`, `Bearer ${SECRET}`])
})

test('the integration typings typecheck with tsc --strict against the installed package and peers', () => {
  fs.writeFileSync(
    path.join(project, 'integrations.mts'),
    `import { AgentSecrets } from '@the-17/agentsecrets'
import { createApiCallTool, createSecretTools, type InjectionMap } from '@the-17/agentsecrets/langchain'
import { createMcpServer } from '@the-17/agentsecrets/mcp'

export async function example(): Promise<void> {
  const client = new AgentSecrets()
  const injections: InjectionMap = { bearer: 'KEY', 'header:X-Api-Key': 'KEY2' }
  const tool = createApiCallTool(client, { allowUrls: ['https://api.example.com/v1'], allowSecrets: ['KEY', 'KEY2'] })
  const out: unknown = await tool.invoke({ url: 'https://api.example.com/v1/me', injections })
  const tools = createSecretTools(client, { spawn: { commands: ['stripe'] } })
  const server = createMcpServer(client, { name: 'x', allowMethods: 'GET' })
  void [out, tools.length, server.server]
}
`,
  )
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = run(
    process.execPath,
    [tsc, '--strict', '--noEmit', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--typeRoots', path.join(ROOT, 'node_modules', '@types'), '--types', 'node', 'integrations.mts'],
    { ok: false },
  )
  assert.equal(r.status, 0, `tsc:\n${r.stdout}${r.stderr}`)
})
