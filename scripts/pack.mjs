#!/usr/bin/env node
// Packs the package for local, offline installs:
//
//   node scripts/pack.mjs [--profile debug|release] [--strip] [--out DIR]
//   node scripts/pack.mjs --prebuilt [SUFFIX...] [--out DIR]
//
// 1. This machine's platform package: copies the addon the last `napi build
//    --platform` left in the repository root (agentsecrets.<suffix>.node) and
//    the engine from target/<profile>/ into npm/<suffix>/ (ignored by git).
//    Without --profile, the more recently built of target/debug and
//    target/release is used. --strip drops debug info from the copies (the
//    tests use it to keep debug tarballs small).
//    With --prebuilt instead: the npm/<suffix>/ packages named (default:
//    every one that holds all its files, put there by `npm run build:cross`
//    or a CI artifact), as they are.
// 2. `npm pack`s those platform packages and the root package into DIR (default: a new
//    temporary directory). The root is packed from a staged copy whose
//    package.json gains `optionalDependencies` on the platform packages at
//    the same version, as `napi prepublish` writes them at publish time; the
//    repository's package.json is left as it is, so `npm ci` in a checkout
//    never asks the registry for them.
//
// Prints one JSON document: { dir, root: {file, size, unpackedSize}, platforms: [...] }.

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const { ENGINE_NAME, platformSuffix } = require('../lib/platform.js')
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function die(message) {
  process.stderr.write(`pack: ${message}\n`)
  process.exit(1)
}

function parseArgs(argv) {
  const opts = { profile: null, strip: false, out: null, prebuilt: false, suffixes: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--profile') opts.profile = argv[++i]
    else if (a === '--release') opts.profile = 'release'
    else if (a === '--debug') opts.profile = 'debug'
    else if (a === '--strip') opts.strip = true
    else if (a === '--out') opts.out = argv[++i]
    else if (a === '--prebuilt') opts.prebuilt = true
    else if (opts.prebuilt && !a.startsWith('-')) opts.suffixes.push(a)
    else die(`unknown argument ${a} (usage: pack.mjs [--profile debug|release] [--strip] [--out DIR] | --prebuilt [SUFFIX...] [--out DIR])`)
  }
  if (opts.profile !== null && !['debug', 'release'].includes(opts.profile)) die('--profile takes debug or release')
  if (opts.prebuilt && (opts.profile !== null || opts.strip)) die('--prebuilt packs the files as they are: no --profile or --strip')
  return opts
}

function readJson(p) {
  return JSON.parse(fs.readFileSync(p, 'utf8'))
}

function pickEngine(profile) {
  const at = (p) => path.join(ROOT, 'target', p, ENGINE_NAME)
  if (profile) {
    if (!fs.existsSync(at(profile))) die(`${at(profile)} does not exist: build it first (cargo build -p agentsecrets-engine${profile === 'release' ? ' --release' : ''})`)
    return at(profile)
  }
  const built = ['debug', 'release'].map(at).filter((p) => fs.existsSync(p))
  if (built.length === 0) die('no engine in target/debug or target/release: run npm run build:all first')
  return built.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0]
}

function copyInto(src, dir, strip) {
  const dst = path.join(dir, path.basename(src))
  fs.rmSync(dst, { force: true })
  fs.copyFileSync(src, dst)
  fs.chmodSync(dst, 0o755)
  if (strip) {
    try {
      execFileSync('strip', ['--strip-debug', dst], { stdio: 'inherit' })
    } catch (e) {
      if (e.code !== 'ENOENT') throw e
      process.stderr.write(`pack: no strip on PATH, ${path.basename(dst)} keeps its debug info\n`)
    }
  }
  return dst
}

// Under `npm run`, npm_config_local_prefix and friends point at the
// repository root; `npm pack` must see only the directory it packs.
const npmEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(npm_config_local_prefix|npm_package_|npm_lifecycle_|INIT_CWD$)/i.test(k),
  ),
)

function npmPack(dir, dest) {
  const out = execFileSync(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], {
    cwd: dir,
    env: npmEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [info] = JSON.parse(out)
  return { file: path.join(dest, info.filename), size: info.size, unpackedSize: info.unpackedSize, entries: info.entryCount }
}

const opts = parseArgs(process.argv.slice(2))
const rootPkg = readJson(path.join(ROOT, 'package.json'))
const binaryName = rootPkg.napi.binaryName
const out = path.resolve(opts.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'agentsecrets-pack-')))
fs.mkdirSync(out, { recursive: true })

/** The platform package of `suffix`, or dies when its package.json disagrees with the root. */
function platformPackage(suffix) {
  const dir = path.join(ROOT, 'npm', suffix)
  const pkg = readJson(path.join(dir, 'package.json'))
  if (pkg.version !== rootPkg.version) die(`${pkg.name} is at ${pkg.version}, the root package at ${rootPkg.version}`)
  return { dir, pkg, complete: pkg.files.every((f) => fs.existsSync(path.join(dir, f))) }
}

function fromThisCheckout() {
  const suffix = platformSuffix()
  const { dir, pkg } = platformPackage(suffix)
  const addon = path.join(ROOT, `${binaryName}.${suffix}.node`)
  if (!fs.existsSync(addon)) die(`${addon} does not exist: run npm run build (or build:release) first`)
  copyInto(addon, dir, opts.strip)
  if (pkg.files.includes(ENGINE_NAME)) copyInto(pickEngine(opts.profile), dir, opts.strip)
  return [{ dir, pkg }]
}

function prebuilt() {
  if (opts.suffixes.length === 0) {
    const ready = fs.readdirSync(path.join(ROOT, 'npm')).map(platformPackage).filter((p) => p.complete)
    if (ready.length === 0) die('no npm/<suffix>/ holds all its files: run npm run build:cross -- --target T first')
    return ready
  }
  return opts.suffixes.map((suffix) => {
    if (!fs.existsSync(path.join(ROOT, 'npm', suffix, 'package.json'))) die(`there is no npm/${suffix}/`)
    const p = platformPackage(suffix)
    if (!p.complete) die(`npm/${suffix}/ lacks some of ${p.pkg.files.join(', ')}: run npm run build:cross first`)
    return p
  })
}

const platforms = (opts.prebuilt ? prebuilt() : fromThisCheckout()).map(({ dir, pkg }) => ({
  name: pkg.name,
  version: pkg.version,
  ...npmPack(dir, out),
}))

// The root package, staged with its `files`, README and LICENSE.
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'agentsecrets-stage-'))
try {
  for (const entry of [...rootPkg.files, 'README.md', 'LICENSE']) {
    const src = path.join(ROOT, entry)
    if (!fs.existsSync(src)) die(`${entry} (listed in files) does not exist: run npm run build first`)
    fs.cpSync(src, path.join(stage, entry), { recursive: true })
  }
  const staged = { ...rootPkg }
  staged.optionalDependencies = { ...rootPkg.optionalDependencies }
  for (const p of platforms) staged.optionalDependencies[p.name] = p.version
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(staged, null, 2)}\n`)
  const root = { name: rootPkg.name, version: rootPkg.version, ...npmPack(stage, out) }
  process.stdout.write(`${JSON.stringify({ dir: out, root, platforms }, null, 2)}\n`)
} finally {
  fs.rmSync(stage, { recursive: true, force: true })
}
