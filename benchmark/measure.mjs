// The benchmarks' measurements: latency percentiles at concurrency 1,
// requests per second at a fixed concurrency, each after a warm-up, and a
// process's CPU time.

import fs from 'node:fs'

const TICK_S = 1 / 100 // /proc/<pid>/stat counts CPU time in clock ticks (USER_HZ)

/** CPU seconds (user + system) of `pid` so far (Linux; NaN elsewhere). */
export function cpuSeconds(pid) {
  if (process.platform !== 'linux') return NaN
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_S
}

/** The `p`th percentile of sorted samples. */
export function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/**
 * p50 and p99 of `samples` sequential runs of `fn`, in ms, after `warmup` runs.
 * @param {() => Promise<unknown>} fn
 * @param {{ samples: number, warmup: number }} o
 */
export async function latency(fn, o) {
  return (await interleavedLatency([fn], o))[0]
}

/**
 * p50 and p99 of each of `fns` at concurrency 1, measured in alternating
 * blocks of `block` runs, so that every path sees the same machine: on a
 * shared VM the speed drifts over seconds by more than the differences
 * measured. `samples` runs of each, after `warmup` runs of each.
 * @param {(() => Promise<unknown>)[]} fns
 * @param {{ samples: number, warmup: number, block?: number }} o
 * @returns {Promise<{ p50: number, p99: number }[]>} in the order of `fns`
 */
export async function interleavedLatency(fns, { samples, warmup, block = 100 }) {
  for (const fn of fns) for (let i = 0; i < warmup; i++) await fn()
  const xs = fns.map(() => new Float64Array(samples))
  for (let start = 0; start < samples; start += block) {
    for (const [k, fn] of fns.entries()) {
      for (let i = start; i < Math.min(start + block, samples); i++) {
        const t0 = performance.now()
        await fn()
        xs[k][i] = performance.now() - t0
      }
    }
  }
  return xs.map((x) => {
    x.sort()
    return { p50: pct(x, 50), p99: pct(x, 99) }
  })
}

/**
 * Runs of `fn` per second with `concurrency` loops for `ms`, after `warmup`
 * sequential runs.
 * @param {() => Promise<unknown>} fn
 * @param {{ ms: number, concurrency: number, warmup: number }} o
 */
export async function throughput(fn, { ms, concurrency, warmup }) {
  for (let i = 0; i < warmup; i++) await fn()
  let done = 0
  const end = performance.now() + ms
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn()
        done++
      }
    }),
  )
  return done / ((performance.now() - t0) / 1000)
}
