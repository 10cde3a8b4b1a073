#!/usr/bin/env node
// Prints the newest glibc symbol version each ELF file needs, and fails when
// one needs more than --max: a Linux package must load on the oldest glibc it
// claims (2.17, like most napi-rs packages).
//
//   node scripts/cross/glibc-ceiling.mjs FILE... [--max 2.17]
//
// Reads `readelf -V` (any ELF architecture) and `readelf --dyn-syms` to name
// the symbols that need the newest version. A static binary needs none.

import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The GLIBC_x.y[.z] versions in the "Version needs" section of `readelf -V` output. */
export function neededGlibcVersions(readelfV) {
  const needs = readelfV.split(/^Version needs section/m)[1] ?? ''
  const section = needs.split(/^Version (?:definition|symbols) section/m)[0]
  return [...section.matchAll(/Name: GLIBC_(\d+(?:\.\d+)+)\b/g)].map((m) => m[1])
}

/** Undefined dynamic symbols by the glibc version they bind to, from `readelf --dyn-syms -W`. */
export function symbolsByGlibcVersion(readelfDynSyms) {
  const byVersion = new Map()
  for (const m of readelfDynSyms.matchAll(/\sUND\s+([^\s@]+)@+GLIBC_(\d+(?:\.\d+)+)\b/g)) {
    const [, symbol, version] = m
    if (!byVersion.has(version)) byVersion.set(version, new Set())
    byVersion.get(version).add(symbol)
  }
  return byVersion
}

/** Compares dotted versions numerically: negative, zero or positive. */
export function compareVersions(a, b) {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** The highest version of a list, or null for an empty one. */
export function highest(versions) {
  return versions.reduce((max, v) => (max === null || compareVersions(v, max) > 0 ? v : max), null)
}

function readelf(args, file) {
  try {
    return execFileSync('readelf', [...args, file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  } catch (err) {
    throw new Error(`readelf ${args.join(' ')} ${file} failed: ${err.message}. To fix: install binutils and pass ELF files.`)
  }
}

/** { file, version, symbols } for one file; version is null for a file that needs no glibc. */
export function ceilingOf(file) {
  const version = highest(neededGlibcVersions(readelf(['-V', '-W'], file)))
  const symbols = version ? [...(symbolsByGlibcVersion(readelf(['--dyn-syms', '-W'], file)).get(version) ?? [])] : []
  return { file, version, symbols: symbols.sort() }
}

function listed(symbols, shown = 6) {
  if (symbols.length === 0) return 'version reference only'
  const more = symbols.length > shown ? `, and ${symbols.length - shown} more` : ''
  return symbols.slice(0, shown).join(', ') + more
}

function parseArgs(argv) {
  const opts = { max: '2.17', files: [] }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--max') opts.max = argv[++i]
    else opts.files.push(argv[i])
  }
  if (opts.files.length === 0 || !/^\d+(\.\d+)+$/.test(opts.max ?? '')) {
    process.stderr.write('usage: glibc-ceiling.mjs FILE... [--max 2.17]\n')
    process.exit(2)
  }
  return opts
}

function main() {
  const { max, files } = parseArgs(process.argv.slice(2))
  let over = 0
  for (const file of files) {
    const { version, symbols } = ceilingOf(file)
    const tooNew = version !== null && compareVersions(version, max) > 0
    if (tooNew) over++
    const needs = version ? `GLIBC_${version} (${listed(symbols)})` : 'no glibc (static)'
    process.stdout.write(`${tooNew ? 'FAIL' : 'ok  '} ${file}: ${needs}\n`)
  }
  if (over > 0) {
    process.stderr.write(`${over} file(s) need a glibc newer than ${max}. To fix: build with cargo-zigbuild --target <triple>.${max} and replace the symbols listed.\n`)
    process.exit(1)
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
