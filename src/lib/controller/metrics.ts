// The control plane's Prometheus metrics on a caller's Registry: informer events, reconnects
// and cache sizes; reconcile outcomes, durations, retries and give-ups; and the work queue
// series under controller-runtime's names. Every series is created at 0 as soon as its
// informer, controller or queue exists, so dashboards and rate() see it from the start.
import {Counter, Gauge, Histogram, type Registry} from 'prom-client'
import {RESOURCE_EVENT_TYPES, type ResourceEventType} from '../informer/events.js'
import type {InformerMetrics} from '../informer/metrics.js'
import type {UnfinishedWork, WorkQueueMetrics, WorkQueueMetricsProvider} from '../workqueue/metrics.js'
import {RECONCILE_OUTCOMES, type ControllerMetricsHooks, type ReconcileOutcome} from './controller.js'

/**
 * Counts and gauge values written on every event or pass are kept in plain fields and handed
 * to prom-client when it collects (each metric's `collect` hook, run on every read of the
 * metric): a label lookup per event was a visible share of the watch pipeline's time, and a
 * scrape sees the same numbers. Histograms count into plain arrays (CountingHistogram below).
 */
interface QueueState {
  depth: number
  adds: number
  retries: number
}

interface ControllerState {
  active: number
  outcomes: Record<ReconcileOutcome, number>
  errors: number
  duration: Series
}

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

/** Observations of one label set: per-bucket (not cumulative) counts, sum and count. */
interface Series {
  key: string
  /** Dropped by reset(): listed again at its next observation, as prom-client does. */
  detached: boolean
  labels: Record<string, string>
  counts: number[]
  sum: number
  count: number
}

interface ExportedValue {
  labels: Record<string, string | number>
  sharedLabels: Record<string, string>
  value: number
  metricName: string
  exemplar: null | undefined
}

/**
 * A prom-client Histogram of one label whose observations are counted in plain arrays and
 * rendered in prom-client's own value format when read (get() for JSON, getForPromString(),
 * which the Registry prefers, for the text format). prom-client's observe() validates and
 * hashes the labels and allocates on every call: three per reconcile pass were the largest
 * metrics cost on the watch pipeline. Only record(), zero() and reset() are used here.
 */
function clear(series: Series): void {
  series.counts.fill(0)
  series.sum = 0
  series.count = 0
}

class CountingHistogram<L extends string> extends Histogram<L> {
  private readonly series = new Map<string, Series>()
  private readonly bounds: readonly number[]

  constructor(
    private readonly config: {name: string; help: string; labelName: L; buckets: readonly number[]; registers: Registry[]},
  ) {
    super({name: config.name, help: config.help, labelNames: [config.labelName], buckets: [...config.buckets], registers: config.registers})
    this.bounds = config.buckets
  }

  /** The series of one label value, created (at zero) on first use. */
  seriesOf(labelValue: string): Series {
    let series = this.series.get(labelValue)
    if (!series) {
      series = {key: labelValue, detached: false, labels: {[this.config.labelName]: labelValue}, counts: this.bounds.map(() => 0), sum: 0, count: 0}
      this.series.set(labelValue, series)
    }
    return series
  }

  record(series: Series, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`)
    if (series.detached) {
      series.detached = false
      this.series.set(series.key, series)
    }
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > bounds[i]) i++
    // Above the last bound: only +Inf (the count), as prom-client does.
    if (i < bounds.length) series.counts[i]++
    series.sum += value
    series.count++
  }

  override zero(labels: Partial<Record<L, string | number>>): void {
    const key = String(labels[this.config.labelName])
    const series = this.seriesOf(key)
    if (series.detached) {
      series.detached = false
      this.series.set(key, series)
    }
    clear(series)
  }

  override reset(): void {
    // Also called by prom-client's constructor, before this class's fields exist.
    const all = this.series as Map<string, Series> | undefined
    if (!all) return
    for (const series of all.values()) {
      series.detached = true
      clear(series)
    }
    all.clear()
  }

  /** prom-client's text export reads this (labels and shared labels apart). */
  async getForPromString(): Promise<{name: string; help: string; type: string; values: ExportedValue[]; aggregator: string}> {
    const {name} = this.config
    const values: ExportedValue[] = []
    for (const series of this.series.values()) {
      let cumulative = 0
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i]
        values.push({labels: {le: this.bounds[i]}, sharedLabels: series.labels, value: cumulative, metricName: `${name}_bucket`, exemplar: null})
      }
      values.push(
        {labels: {le: '+Inf'}, sharedLabels: series.labels, value: series.count, metricName: `${name}_bucket`, exemplar: null},
        {labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${name}_sum`, exemplar: undefined},
        {labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${name}_count`, exemplar: undefined},
      )
    }
    return {name, help: this.config.help, type: 'histogram', values, aggregator: 'sum'}
  }

  override async get(): ReturnType<Histogram<L>['get']> {
    const data = await this.getForPromString()
    const values = data.values.map(({labels, sharedLabels, ...rest}) => ({...rest, labels: {...labels, ...sharedLabels}}))
    return {...data, values} as unknown as Awaited<ReturnType<Histogram<L>['get']>>
  }
}

/** One per Registry (metric names are registered once). */
export class ControllerMetrics implements InformerMetrics, ControllerMetricsHooks, WorkQueueMetricsProvider {
  private readonly informerEvents: Counter<'resource' | 'type'>
  private readonly informerReconnects: Counter<'resource'>
  private readonly informerCache: Gauge<'resource'>
  private readonly informerSyncedGauge: Gauge<'resource'>
  private readonly reconcileTotal: Counter<'controller' | 'result'>
  private readonly reconcileErrors: Counter<'controller'>
  private readonly reconcileRetries: Counter<'controller'>
  private readonly reconcileGiveUps: Counter<'controller'>
  private readonly reconcileDuration: CountingHistogram<'controller'>
  private readonly reconcileActive: Gauge<'controller'>
  private readonly queueDepth: Gauge<'name'>
  private readonly queueAdds: Counter<'name'>
  private readonly queueLatency: CountingHistogram<'name'>
  private readonly queueWork: CountingHistogram<'name'>
  private readonly queueRetries: Counter<'name'>
  private readonly probes = new Map<string, () => UnfinishedWork>()
  private readonly eventCounts = new Map<string, Record<ResourceEventType, number>>()
  private readonly controllers = new Map<string, ControllerState>()
  private readonly queues = new Map<string, QueueState>()

  constructor(registry: Registry) {
    const registers = [registry]
    const eventCounts = this.eventCounts
    const controllers = this.controllers
    const queues = this.queues
    this.informerEvents = new Counter({
      name: 'ambient_informer_events_total',
      help: 'Cache changes delivered by informers, by resource and event type.',
      labelNames: ['resource', 'type'],
      registers,
      collect() {
        for (const [resource, counts] of eventCounts) {
          for (const type of RESOURCE_EVENT_TYPES) {
            if (counts[type] === 0) continue
            this.inc({resource, type}, counts[type])
            counts[type] = 0
          }
        }
      },
    })
    this.informerReconnects = new Counter({name: 'ambient_informer_reconnects_total', help: 'Watch reconnects and failed polls, by resource.', labelNames: ['resource'], registers})
    this.informerCache = new Gauge({name: 'ambient_informer_cache_size', help: 'Objects in the informer cache, by resource.', labelNames: ['resource'], registers})
    this.informerSyncedGauge = new Gauge({name: 'ambient_informer_synced', help: '1 once the informer cache has been fully listed.', labelNames: ['resource'], registers})
    this.reconcileTotal = new Counter({
      name: 'ambient_reconcile_total',
      help: 'Reconcile passes by controller and result.',
      labelNames: ['controller', 'result'],
      registers,
      collect() {
        for (const [controller, state] of controllers) {
          for (const result of RECONCILE_OUTCOMES) {
            if (state.outcomes[result] === 0) continue
            this.inc({controller, result}, state.outcomes[result])
            state.outcomes[result] = 0
          }
        }
      },
    })
    this.reconcileErrors = new Counter({
      name: 'ambient_reconcile_errors_total',
      help: 'Reconcile passes that failed (terminal or not).',
      labelNames: ['controller'],
      registers,
      collect() {
        for (const [controller, state] of controllers) {
          if (state.errors === 0) continue
          this.inc({controller}, state.errors)
          state.errors = 0
        }
      },
    })
    this.reconcileRetries = new Counter({name: 'ambient_reconcile_retries_total', help: 'Failed keys scheduled for a retry with backoff.', labelNames: ['controller'], registers})
    this.reconcileGiveUps = new Counter({name: 'ambient_reconcile_given_up_total', help: 'Keys dropped after maxRetries failed passes.', labelNames: ['controller'], registers})
    this.reconcileDuration = new CountingHistogram({name: 'ambient_reconcile_duration_seconds', help: 'Time per reconcile pass.', labelName: 'controller', buckets: DURATION_BUCKETS, registers})
    this.reconcileActive = new Gauge({
      name: 'ambient_reconcile_active_workers',
      help: 'Reconciles in flight.',
      labelNames: ['controller'],
      registers,
      collect() {
        for (const [controller, state] of controllers) this.set({controller}, state.active)
      },
    })
    this.queueDepth = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of the work queue.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, state] of queues) this.set({name}, state.depth)
      },
    })
    this.queueAdds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Adds handled by the work queue.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, state] of queues) {
          if (state.adds === 0) continue
          this.inc({name}, state.adds)
          state.adds = 0
        }
      },
    })
    this.queueLatency = new CountingHistogram({name: 'workqueue_queue_duration_seconds', help: 'How long a key stays in the queue before a worker takes it.', labelName: 'name', buckets: DURATION_BUCKETS, registers})
    this.queueWork = new CountingHistogram({name: 'workqueue_work_duration_seconds', help: 'How long processing a key takes.', labelName: 'name', buckets: DURATION_BUCKETS, registers})
    this.queueRetries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Retries (delayed re-adds) handled by the work queue.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, state] of queues) {
          if (state.retries === 0) continue
          this.inc({name}, state.retries)
          state.retries = 0
        }
      },
    })
    const probes = this.probes
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: 'Seconds of work in progress not yet observed by work_duration; large values mean stuck workers.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, probe] of probes) this.set({name}, probe().unfinishedSeconds)
      },
    })
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How long the longest-running key has been processed.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, probe] of probes) this.set({name}, probe().longestSeconds)
      },
    })
  }

  /** The informer hooks (this object), for APIs that take InformerMetrics. */
  get informer(): InformerMetrics {
    return this
  }

  registerResource(resource: string): void {
    for (const type of RESOURCE_EVENT_TYPES) this.informerEvents.inc({resource, type}, 0)
    if (!this.eventCounts.has(resource)) this.eventCounts.set(resource, {ADDED: 0, MODIFIED: 0, DELETED: 0})
    this.informerReconnects.inc({resource}, 0)
    this.informerCache.set({resource}, 0)
    this.informerSyncedGauge.set({resource}, 0)
  }

  informerEvent(resource: string, type: ResourceEventType): void {
    const counts = this.eventCounts.get(resource)
    if (counts) counts[type]++
    else this.eventCounts.set(resource, {ADDED: 0, MODIFIED: 0, DELETED: 0, [type]: 1})
  }

  informerReconnect(resource: string): void {
    this.informerReconnects.inc({resource})
  }

  informerCacheSize(resource: string, size: number): void {
    this.informerCache.set({resource}, size)
  }

  informerSynced(resource: string, synced: boolean): void {
    this.informerSyncedGauge.set({resource}, synced ? 1 : 0)
  }

  registerController(controller: string): void {
    for (const result of RECONCILE_OUTCOMES) this.reconcileTotal.inc({controller, result}, 0)
    this.reconcileErrors.inc({controller}, 0)
    this.reconcileRetries.inc({controller}, 0)
    this.reconcileGiveUps.inc({controller}, 0)
    this.reconcileDuration.zero({controller})
    this.reconcileActive.set({controller}, 0)
    this.controllerState(controller)
    this.initQueue(controller)
  }

  reconciled(controller: string, outcome: ReconcileOutcome, seconds: number): void {
    const state = this.controllerState(controller)
    state.outcomes[outcome]++
    if (outcome === 'error' || outcome === 'terminal') state.errors++
    this.reconcileDuration.record(state.duration, seconds)
  }

  reconcileRetried(controller: string): void {
    this.reconcileRetries.inc({controller})
  }

  reconcileGivenUp(controller: string): void {
    this.reconcileGiveUps.inc({controller})
  }

  activeWorkers(controller: string, count: number): void {
    this.controllerState(controller).active = count
  }

  private controllerState(controller: string): ControllerState {
    let state = this.controllers.get(controller)
    if (!state) {
      state = {active: 0, outcomes: {success: 0, error: 0, requeue: 0, terminal: 0}, errors: 0, duration: this.reconcileDuration.seriesOf(controller)}
      this.controllers.set(controller, state)
    }
    return state
  }

  /** A queue (re)created under `name` reports here; the latest queue's probe wins. */
  forQueue(name: string, probe: () => UnfinishedWork): WorkQueueMetrics {
    this.initQueue(name)
    this.probes.set(name, probe)
    const state = this.queueState(name)
    const latency = this.queueLatency.seriesOf(name)
    const work = this.queueWork.seriesOf(name)
    return {
      depth: (keys) => (state.depth = keys),
      add: () => state.adds++,
      queued: (seconds) => this.queueLatency.record(latency, seconds),
      worked: (seconds) => this.queueWork.record(work, seconds),
      retry: () => state.retries++,
    }
  }

  private queueState(name: string): QueueState {
    let state = this.queues.get(name)
    if (!state) {
      state = {depth: 0, adds: 0, retries: 0}
      this.queues.set(name, state)
    }
    return state
  }

  private initQueue(name: string): void {
    const labels = {name}
    this.queueDepth.inc(labels, 0)
    this.queueAdds.inc(labels, 0)
    this.queueRetries.inc(labels, 0)
    this.queueLatency.zero(labels)
    this.queueWork.zero(labels)
    if (!this.probes.has(name)) this.probes.set(name, () => ({unfinishedSeconds: 0, longestSeconds: 0}))
  }
}
