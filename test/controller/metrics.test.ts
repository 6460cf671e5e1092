import {Histogram, Registry} from 'prom-client'
import {describe, expect, it} from 'vitest'
import {TerminalError} from '../../src/lib/controller/controller.js'
import {ControllerMetrics} from '../../src/lib/controller/metrics.js'
import {Informer} from '../../src/lib/informer/informer.js'
import {MemoryServer, type Thing} from '../informer/memory-source.js'
import {settle, startHarness, stopHarness} from './harness.js'

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  // Histogram series (_count, _sum, _bucket) live under the histogram's base name.
  const base = name.replace(/_(count|sum|bucket)$/, '')
  const metric = registry.getSingleMetric(name) ?? registry.getSingleMetric(base)
  if (!metric) throw new Error(`no metric ${name}`)
  const data = await metric.get()
  const match = data.values.find(
    (v) => ((v as {metricName?: string}).metricName ?? name) === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )
  return match?.value
}

describe('ControllerMetrics', () => {
  it('starts every series at 0 for each informer, controller and queue', async () => {
    const registry = new Registry()
    const metrics = new ControllerMetrics(registry)
    metrics.registerResource('sessions')
    metrics.registerController('sessions')
    const text = await registry.metrics()
    for (const type of ['ADDED', 'MODIFIED', 'DELETED']) expect(text).toContain(`ambient_informer_events_total{resource="sessions",type="${type}"} 0`)
    for (const result of ['success', 'error', 'requeue', 'terminal'])
      expect(text).toContain(`ambient_reconcile_total{controller="sessions",result="${result}"} 0`)
    for (const line of [
      'ambient_informer_reconnects_total{resource="sessions"} 0',
      'ambient_informer_cache_size{resource="sessions"} 0',
      'ambient_reconcile_errors_total{controller="sessions"} 0',
      'ambient_reconcile_retries_total{controller="sessions"} 0',
      'ambient_reconcile_given_up_total{controller="sessions"} 0',
      'ambient_reconcile_duration_seconds_count{controller="sessions"} 0',
      'workqueue_depth{name="sessions"} 0',
      'workqueue_adds_total{name="sessions"} 0',
      'workqueue_retries_total{name="sessions"} 0',
      'workqueue_queue_duration_seconds_count{name="sessions"} 0',
      'workqueue_work_duration_seconds_count{name="sessions"} 0',
      'workqueue_unfinished_work_seconds{name="sessions"} 0',
      'workqueue_longest_running_processor_seconds{name="sessions"} 0',
    ]) {
      expect(text).toContain(line)
    }
  })

  it('counts what an informer and a controller do', async () => {
    const registry = new Registry()
    const metrics = new ControllerMetrics(registry)
    const server = new MemoryServer()
    const things = Array.from({length: 10}, (_, i) => server.create(`t${i}`))
    const h = await startHarness({
      server,
      informer: (source) => new Informer<Thing>({source, metrics: metrics.informer}),
      controller: {metrics, maxRetries: 1},
      handle: async (req) => {
        if (req.id === things[0].id) throw new TerminalError('bad')
        if (req.id === things[1].id) throw new Error('flaky')
        if (req.id === things[2].id) return {requeueAfterMs: 60_000}
      },
    })
    await settle(h, () => h.controller.stats().waiting === 2)
    h.clock.advance(5)
    await settle(h, () => h.controller.stats().givenUp === 1)
    server.delete(things[3].id)
    await settle(h, () => h.calls.length === 12)

    const c = {controller: 'things'}
    expect(await value(registry, 'ambient_informer_events_total', {resource: 'things', type: 'ADDED'})).toBe(10)
    expect(await value(registry, 'ambient_informer_events_total', {resource: 'things', type: 'DELETED'})).toBe(1)
    expect(await value(registry, 'ambient_informer_cache_size', {resource: 'things'})).toBe(9)
    expect(await value(registry, 'ambient_informer_synced', {resource: 'things'})).toBe(1)
    expect(await value(registry, 'ambient_reconcile_total', {...c, result: 'terminal'})).toBe(1)
    expect(await value(registry, 'ambient_reconcile_total', {...c, result: 'error'})).toBe(2)
    expect(await value(registry, 'ambient_reconcile_total', {...c, result: 'requeue'})).toBe(1)
    expect(await value(registry, 'ambient_reconcile_total', {...c, result: 'success'})).toBe(8)
    expect(await value(registry, 'ambient_reconcile_errors_total', c)).toBe(3)
    expect(await value(registry, 'ambient_reconcile_retries_total', c)).toBe(1)
    expect(await value(registry, 'ambient_reconcile_given_up_total', c)).toBe(1)
    expect(await value(registry, 'ambient_reconcile_duration_seconds_count', c)).toBe(12)
    expect(await value(registry, 'workqueue_adds_total', {name: 'things'})).toBe(12)
    // One retry (rate limited) and one requeue-after.
    expect(await value(registry, 'workqueue_retries_total', {name: 'things'})).toBe(2)
    expect(await value(registry, 'workqueue_work_duration_seconds_count', {name: 'things'})).toBe(12)
    expect(await value(registry, 'workqueue_depth', {name: 'things'})).toBe(0)
    await stopHarness(h)
  })
  it('exports duration histograms exactly as prom-client does for the same observations', async () => {
    const registry = new Registry()
    const metrics = new ControllerMetrics(registry)
    const queue = metrics.forQueue('q', () => ({unfinishedSeconds: 0, longestSeconds: 0}))
    const reference = new Registry()
    const buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
    const expected = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long a key stays in the queue before a worker takes it.',
      labelNames: ['name'],
      buckets,
      registers: [reference],
    })
    expected.zero({name: 'q'})
    for (const seconds of [0, 0.001, 0.0011, 0.004, 0.3, 1, 299, 300, 301, 1e6, 0.05]) {
      queue.queued(seconds)
      expected.observe({name: 'q'}, seconds)
    }
    const name = 'workqueue_queue_duration_seconds'
    expect(await registry.getSingleMetricAsString(name)).toBe(await reference.getSingleMetricAsString(name))
    expect((await registry.getSingleMetric(name)?.get())?.values).toEqual((await expected.get()).values)
    expect(() => queue.queued(Number.NaN)).toThrow(TypeError)
  })
})
