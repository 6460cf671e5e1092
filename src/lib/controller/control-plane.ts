// Assembles `ambient run`: one informer per resource (list every page, then the watch), a
// controller per reconciled resource, the metrics and probe listeners, and the mode's
// reconcilers, all under one Manager. Everything here is wiring; the parts live elsewhere.
import {collectDefaultMetrics, Registry} from 'prom-client'
import type {ObjectMeta, ResourceName, ResourceTypes, Session} from '../api/types.js'
import {RESOURCE_NAMES, TERMINAL_PHASES} from '../api/types.js'
import type {ApiConnection} from '../cli/informers.js'
import type {Config} from '../config/index.js'
import type {Informer, ResourceEvent} from '../informer/index.js'
import type {Logger} from '../log.js'
import {EventTally, TallyReconciler} from '../reconcilers/test/tally.js'
import type {ResourceStats, RunnerRow, RunSnapshot} from '../tui/model.js'
import {Controller, type Reconciler} from './controller.js'
import {startMetricsServer, startProbeServer, type Check, type HttpListener} from './http.js'
import {informerCache, Manager, type Runnable} from './manager.js'
import {ControllerMetrics} from './metrics.js'

export type Mode = 'kube' | 'local' | 'test'

export interface ModeParts {
  /** Reconcilers by resource; resources without one are followed (cached) but not reconciled. */
  reconcilers: Partial<{[R in ResourceName]: Reconciler<ResourceTypes[R]>}>
  /** Extra caches (e.g. Kubernetes informers) that must sync before workers start. */
  caches?: {name: string; start(signal: AbortSignal): Promise<void>; waitForSync(signal: AbortSignal): Promise<void>}[]
  /** Extra components running on every replica (e.g. the AG-UI proxy). */
  runnables?: Runnable[]
  /**
   * Runs the controllers only while leading, when set: `leaderSignal` stops them (they drain),
   * `lostSignal` aborts their in-flight reconciles at once.
   */
  leaderElection?: {run(signal: AbortSignal, whileLeading: (leaderSignal: AbortSignal, lostSignal: AbortSignal) => Promise<void>): Promise<void>; state(): 'leading' | 'following'}
  runners?: () => RunnerRow[]
  proxyUrl?: () => string | undefined
  /** Readiness checks beyond the informers' sync. */
  readyz?: Map<string, Check>
  /** Lets the mode re-queue objects on changes it observes itself (CR status, runner exits). */
  connect?: (enqueue: Partial<Record<ResourceName, (id: string) => void>>) => void
  stop?: () => Promise<void>
}

export interface ControlPlaneOptions {
  mode: Mode
  config: Config
  api: ApiConnection
  logger: Logger
  /** Called for every informer event (NDJSON output). */
  onEvent?: <T extends ObjectMeta>(event: ResourceEvent<T>) => void
  /** Builds the mode's reconcilers once the informers exist. */
  modeParts?: (informers: Informers, registry: Registry) => Promise<ModeParts>
  apiServerLabel: string
  gracePeriodMs?: number
}

export type Informers = {[R in ResourceName]: Informer<ResourceTypes[R]>}

export interface ControlPlane {
  informers: Informers
  tallies: Record<ResourceName, EventTally>
  registry: Registry
  /** Resolves after the initial sync of every informer. */
  synced: Promise<void>
  /** Runs until `signal` aborts, then drains; rejects if a component fails. */
  run(signal: AbortSignal): Promise<void>
  snapshot(): RunSnapshot
  metricsUrl?: string
  probeUrl?: string
}

/** A session needs a reconcile every 30 s while in flight; stable ones every 5 min. */
function needsAttention(resource: ResourceName): ((o: ObjectMeta) => boolean) | undefined {
  if (resource !== 'sessions') return undefined
  return (o) => !TERMINAL_PHASES.has((o as Session).phase ?? '')
}

export async function createControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const {config, api, logger} = options
  const registry = new Registry()
  collectDefaultMetrics({register: registry})
  const metrics = new ControllerMetrics(registry)
  const tallies = {} as Record<ResourceName, EventTally>
  const informers = {} as Record<ResourceName, Informer<ObjectMeta>>
  for (const resource of RESOURCE_NAMES) {
    const informer = (await api.informer(resource, metrics.informer)) as Informer<ObjectMeta>
    const tally = new EventTally(resource)
    informer.on((event) => {
      tally.record(event)
      options.onEvent?.(event)
    })
    informers[resource] = informer
    tallies[resource] = tally
  }
  const typedInformers = informers as unknown as Informers

  const parts: ModeParts =
    options.mode === 'test' || !options.modeParts
      ? {reconcilers: {sessions: new TallyReconciler(), projects: new TallyReconciler(), project_settings: new TallyReconciler()}}
      : await options.modeParts(typedInformers, registry)

  const controllers = new Map<ResourceName, Controller<ObjectMeta>>()
  for (const resource of RESOURCE_NAMES) {
    const reconciler = parts.reconcilers[resource] as Reconciler<ObjectMeta> | undefined
    if (!reconciler) continue
    controllers.set(
      resource,
      new Controller<ObjectMeta>({
        name: resource,
        informer: informers[resource],
        reconciler,
        workers: config.WORKER_COUNT,
        logger,
        metrics,
        needsAttention: needsAttention(resource),
      }),
    )
  }

  const enqueue: Partial<Record<ResourceName, (id: string) => void>> = {}
  for (const [resource, c] of controllers) enqueue[resource] = (id) => c.enqueue(id)
  parts.connect?.(enqueue)

  const manager = new Manager({logger, gracePeriodMs: options.gracePeriodMs ?? 25_000})
  for (const resource of RESOURCE_NAMES) manager.addCache(informerCache(informers[resource]))
  for (const cache of parts.caches ?? []) manager.addCache(cache)
  for (const r of parts.runnables ?? []) manager.addWorker(r)
  if (parts.leaderElection) {
    const election = parts.leaderElection
    manager.addWorker({
      name: 'leader-election',
      start: (signal) =>
        election.run(signal, async (leaderSignal, lostSignal) => {
          await Promise.all([...controllers.values()].map((c) => c.start(leaderSignal, {abort: lostSignal})))
        }),
    })
  } else {
    for (const [resource, c] of controllers) manager.addWorker({name: `controller/${resource}`, start: (signal) => c.start(signal)})
  }

  let syncedResolve: () => void = () => {}
  const synced = new Promise<void>((resolve) => (syncedResolve = resolve))
  Promise.all(RESOURCE_NAMES.map((r) => informers[r].waitForSync())).then(
    (results) => {
      if (results.every(Boolean)) syncedResolve()
    },
    () => {},
  )

  const startedAt = Date.now()
  let stopping = false
  const plane: ControlPlane = {
    informers: typedInformers,
    tallies,
    registry,
    synced,
    snapshot(): RunSnapshot {
      const resources: ResourceStats[] = RESOURCE_NAMES.map((resource) => {
        const status = informers[resource].status()
        const tally = tallies[resource]
        const stats = controllers.get(resource)?.stats()
        return {
          resource,
          added: tally.added,
          modified: tally.modified,
          deleted: tally.deleted,
          eventsPerSecond: tally.rate(),
          queueDepth: stats?.queueDepth ?? 0,
          inFlight: stats?.inFlight ?? 0,
          cacheSize: status.cacheSize,
          connection: status.connection,
          synced: status.synced,
          reconnects: status.reconnects,
          lastError: status.lastError,
          reconciles: stats ? {ok: stats.succeeded, error: stats.failed, retries: stats.retries} : undefined,
        }
      })
      return {
        mode: options.mode,
        startedAt,
        apiServer: options.apiServerLabel,
        resources,
        runners: parts.runners?.(),
        proxyUrl: parts.proxyUrl?.(),
        leader: parts.leaderElection ? parts.leaderElection.state() : 'disabled',
        stopping,
      }
    },
    async run(signal: AbortSignal) {
      const listeners: HttpListener[] = []
      try {
        if (config.METRICS_ADDR) {
          const l = await startMetricsServer({addr: config.METRICS_ADDR, registry})
          listeners.push(l)
          plane.metricsUrl = l.url
          logger.info({url: `${l.url}/metrics`}, 'serving metrics')
        }
        if (config.PROBE_ADDR) {
          const readyz = new Map<string, Check>()
          for (const resource of RESOURCE_NAMES) {
            readyz.set(`informer-${resource}`, () => {
              const s = informers[resource].status()
              if (!s.synced) return 'initial list not done'
              if (s.connection === 'stopped') return 'informer stopped'
              return true
            })
          }
          for (const [name, check] of parts.readyz ?? []) readyz.set(name, check)
          const healthz = new Map<string, Check>([['ping', () => true]])
          const l = await startProbeServer({addr: config.PROBE_ADDR, healthz, readyz})
          listeners.push(l)
          plane.probeUrl = l.url
          logger.info({url: l.url}, 'serving health probes (/healthz, /readyz)')
        }
        signal.addEventListener('abort', () => (stopping = true), {once: true})
        await manager.run(signal)
      } finally {
        stopping = true
        await parts.stop?.()
        await Promise.all(listeners.map((l) => l.close()))
      }
    },
  }
  return plane
}
