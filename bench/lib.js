// Shared helpers for benchmarks: percentiles, peak RSS sampling and the result line.
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

/** Samples RSS every few ms while fn runs; returns fn's result and the peak in MiB. */
export async function withPeakRss(fn) {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 5)
  try {
    const value = await fn()
    peak = Math.max(peak, process.memoryUsage.rss())
    return {value, peakMiB: peak / 2 ** 20}
  } finally {
    clearInterval(timer)
  }
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

export function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

export const fmt = {
  ms: (v) => `${v.toFixed(v < 10 ? 2 : 0)} ms`,
  s: (v) => `${v.toFixed(2)} s`,
  mib: (v) => `${v.toFixed(0)} MiB`,
  rate: (v) => `${Math.round(v).toLocaleString('en-US')}/s`,
  ratio: (v) => `${v.toFixed(2)}×`,
}
