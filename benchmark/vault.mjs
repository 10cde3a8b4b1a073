// The benchmarks' engine and vault: a fresh home holding BENCH_KEY plus
// `secrets - 1` made-up values shaped like API keys (the engine scans every
// answer for every one of them), with 127.0.0.1 allowlisted.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const ENGINE = process.env.AGENTSECRETS_CLI || path.join(ROOT, 'target', 'release', 'agentsecrets')
const ADMIN = 'bench-admin-password'

if (!fs.existsSync(ENGINE)) {
  console.error(`no engine at ${ENGINE}: run \`cargo build --release -p agentsecrets-engine\` or set AGENTSECRETS_CLI`)
  process.exit(1)
}

/**
 * A new home with `secrets` values in its vault. Returns the home, its
 * environment and a runner of the engine CLI in it.
 * @param {string} prefix temporary directory name prefix
 * @param {number} secrets how many values the vault holds
 */
export function benchHome(prefix, secrets) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  const env = { ...process.env, AGENTSECRETS_HOME: home, AGENTSECRETS_KEY_STORE: 'file', AGENTSECRETS_PORT: '0' }
  const agentsecrets = (args, input = '') => {
    const r = spawnSync(ENGINE, args, { env, input, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`agentsecrets ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }
  agentsecrets(['init', '--admin-password-stdin'], `${ADMIN}\n`)
  agentsecrets(['secrets', 'set', 'BENCH_KEY'], 'bench-secret-value-0123456789')
  // Made-up values shaped like API keys; as made-up values they may go on argv.
  const seeds = Array.from({ length: secrets - 1 }, (_, i) => `SEED_${i}=key_${i}_${((i * 2654435761) % 2 ** 32).toString(36)}${'x7Qk9Lm2Pw4Rt8Yz'.slice(i % 8)}${i.toString(16).padStart(6, '0')}`)
  for (let i = 0; i < seeds.length; i += 250) agentsecrets(['--json', 'secrets', 'set', ...seeds.slice(i, i + 250)])
  agentsecrets(['workspace', 'allowlist', 'add', '127.0.0.1', '--password-stdin'], `${ADMIN}\n`)
  return { home, env, agentsecrets }
}
