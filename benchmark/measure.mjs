// The benchmarks' measurements: latency percentiles at concurrency 1 and
// requests per second at a fixed concurrency, each after a warm-up.

/** The `p`th percentile of sorted samples. */
export function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/**
 * p50 and p99 of `samples` sequential runs of `fn`, in ms, after `warmup` runs.
 * @param {() => Promise<unknown>} fn
 * @param {{ samples: number, warmup: number }} o
 */
export async function latency(fn, { samples, warmup }) {
  for (let i = 0; i < warmup; i++) await fn()
  const xs = new Float64Array(samples)
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now()
    await fn()
    xs[i] = performance.now() - t0
  }
  xs.sort()
  return { p50: pct(xs, 50), p99: pct(xs, 99) }
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
