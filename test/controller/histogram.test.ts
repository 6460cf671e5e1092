// CountingHistogram against prom-client's own Histogram: the same calls through the public
// interface give the same text and JSON on a Registry, and the same errors.
import {Histogram, Registry} from 'prom-client'
import {describe, expect, it} from 'vitest'
import {CountingHistogram} from '../../src/lib/controller/histogram.js'

const BUCKETS = [0.001, 0.01, 0.1, 1, 10]

/** Both histograms, each on its own Registry under the same name. */
function pair<L extends string>(labelNames: L[]) {
  const config = {name: 'op_duration_seconds', help: 'How long an op takes.', labelNames, buckets: BUCKETS}
  const ours = new Registry()
  const theirs = new Registry()
  return {
    ours: new CountingHistogram({...config, registers: [ours]}),
    theirs: new Histogram({...config, registers: [theirs]}),
    async expectSame(): Promise<void> {
      expect(await ours.metrics()).toBe(await theirs.metrics())
      expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON())
    },
  }
}

describe('CountingHistogram', () => {
  it('exports what prom-client exports for the same observations', async () => {
    const h = pair(['queue', 'kind'])
    for (const histogram of [h.ours, h.theirs]) {
      histogram.observe({queue: 'idle', kind: 'x'}, 1)
      histogram.zero({queue: 'idle', kind: 'x'}) // back to 0
      const child = histogram.labels({queue: 'a', kind: 'x'})
      const byValues = histogram.labels('b', 'y')
      for (const v of [0, 0.001, 0.0011, 0.5, 1, 10, 11, 1e6]) {
        child.observe(v)
        byValues.observe(v / 2)
        histogram.observe({queue: 'c', kind: 'x'}, v)
      }
    }
    await h.expectSame()
  })

  it('drops series on reset() and remove(), and lists them again at their next observation', async () => {
    const h = pair(['queue'])
    for (const histogram of [h.ours, h.theirs]) {
      const a = histogram.labels({queue: 'a'})
      a.observe(0.5)
      histogram.observe({queue: 'b'}, 2)
      histogram.reset()
      histogram.observe({queue: 'c'}, 0.05)
      a.observe(0.2) // a handle from before the reset
      histogram.remove('c')
    }
    await h.expectSame()
  })

  it('observes without labels when it has none, and times with startTimer', async () => {
    const h = pair([])
    for (const histogram of [h.ours, h.theirs]) histogram.observe(3)
    await h.expectSame()
    const end = h.ours.startTimer()
    expect(end()).toBeGreaterThanOrEqual(0)
    const data = await h.ours.get()
    expect(data.values.find((v) => v.metricName === 'op_duration_seconds_count')?.value).toBe(2)
  })

  it('refuses what prom-client refuses', () => {
    const h = pair(['queue'])
    const unknownLabel: Record<string, string> = {other: 'a'}
    for (const histogram of [h.ours, h.theirs]) {
      expect(() => histogram.observe({queue: 'a'}, Number.NaN)).toThrow(TypeError)
      expect(() => histogram.observe(unknownLabel, 1)).toThrow(/not included in initial labelset/)
      expect(() => histogram.labels('a', 'b')).toThrow(/Invalid number of arguments/)
    }
    expect(() => h.ours.observe({labels: {queue: 'a'}, value: 1, exemplarLabels: {}})).toThrow(/exemplars are not enabled/)
  })
})
