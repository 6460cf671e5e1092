// The control plane's Prometheus metrics on a caller's Registry: informer events, reconnects
// and cache sizes; reconcile outcomes, durations, retries and give-ups; and the work queue
// series under controller-runtime's names. Every series is created at 0 as soon as its
// informer, controller or queue exists, so dashboards and rate() see it from the start.
import {Counter, Gauge, type Histogram, type Registry} from 'prom-client'
import {RESOURCE_EVENT_TYPES, type ResourceEventType} from '../informer/events.js'
import type {InformerMetrics} from '../informer/metrics.js'
import type {UnfinishedWork, WorkQueueMetrics, WorkQueueMetricsProvider} from '../workqueue/metrics.js'
import {RECONCILE_OUTCOMES, type ControllerMetricsHooks, type ReconcileOutcome} from './controller.js'
import {CountingHistogram} from './histogram.js'

/**
 * Counts and gauge values written on every event or pass are kept in plain fields and handed
 * to prom-client when it collects (each metric's `collect` hook, run on every read of the
 * metric): a label lookup per event was a visible share of the watch pipeline's time, and a
 * scrape sees the same numbers. Histograms are CountingHistograms (see histogram.ts for why).
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
  duration: Histogram.Internal<'controller'>
}

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

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
    this.informerReconnects = new Counter({
      name: 'ambient_informer_reconnects_total',
      help: 'Watch reconnects and failed polls, by resource.',
      labelNames: ['resource'],
      registers,
    })
    this.informerCache = new Gauge({
      name: 'ambient_informer_cache_size',
      help: 'Objects in the informer cache, by resource.',
      labelNames: ['resource'],
      registers,
    })
    this.informerSyncedGauge = new Gauge({
      name: 'ambient_informer_synced',
      help: '1 once the informer cache has been fully listed.',
      labelNames: ['resource'],
      registers,
    })
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
    this.reconcileRetries = new Counter({
      name: 'ambient_reconcile_retries_total',
      help: 'Failed keys scheduled for a retry with backoff.',
      labelNames: ['controller'],
      registers,
    })
    this.reconcileGiveUps = new Counter({
      name: 'ambient_reconcile_given_up_total',
      help: 'Keys dropped after maxRetries failed passes.',
      labelNames: ['controller'],
      registers,
    })
    this.reconcileDuration = new CountingHistogram({
      name: 'ambient_reconcile_duration_seconds',
      help: 'Time per reconcile pass.',
      labelNames: ['controller'],
      buckets: DURATION_BUCKETS,
      registers,
    })
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
    this.queueLatency = new CountingHistogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long a key stays in the queue before a worker takes it.',
      labelNames: ['name'],
      buckets: DURATION_BUCKETS,
      registers,
    })
    this.queueWork = new CountingHistogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long processing a key takes.',
      labelNames: ['name'],
      buckets: DURATION_BUCKETS,
      registers,
    })
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
    state.duration.observe(seconds)
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
      state = {active: 0, outcomes: {success: 0, error: 0, requeue: 0, terminal: 0}, errors: 0, duration: this.reconcileDuration.labels({controller})}
      this.controllers.set(controller, state)
    }
    return state
  }

  /** A queue (re)created under `name` reports here; the latest queue's probe wins. */
  forQueue(name: string, probe: () => UnfinishedWork): WorkQueueMetrics {
    this.initQueue(name)
    this.probes.set(name, probe)
    const state = this.queueState(name)
    const latency = this.queueLatency.labels({name})
    const work = this.queueWork.labels({name})
    return {
      depth: (keys) => (state.depth = keys),
      add: () => state.adds++,
      queued: (seconds) => latency.observe(seconds),
      worked: (seconds) => work.observe(seconds),
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
