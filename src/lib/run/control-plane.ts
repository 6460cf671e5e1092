// `ambient run`, from resolved configuration to a running Manager: one informer per resource
// (counted, and echoed as NDJSON when asked), the Manager with its listeners, and the mode's
// setup. The one place that knows every mode; each mode's code is loaded only when chosen, so
// test mode never imports client-node or execa.
import type {ObjectMeta, Project, ProjectSettings, ResourceName, ResourceTypes, Session} from '../api/types.js'
import {RESOURCE_NAMES} from '../api/types.js'
import type {Config} from '../config/index.js'
import type {ApiConnection} from '../connection/index.js'
import {informerCache, Manager} from '../controller/manager.js'
import type {ModeStatus, ResourceStats, RunSnapshot} from '../controller/status.js'
import type {Informer, ResourceEvent} from '../informer/index.js'
import type {Logger} from '../log.js'
import {EventTally} from '../reconcilers/test/tally.js'

export type Mode = Config['MODE']

export type Informers = {[R in ResourceName]: Informer<ResourceTypes[R]>}

export interface LeaderElectionFlags {
  identity?: string
  leaseName: string
  leaseNamespace: string
  leaseDurationMs?: number
  renewDeadlineMs?: number
  retryPeriodMs?: number
}

export interface ControlPlaneOptions {
  /** Resolved once by the command; everything below reads it. */
  config: Config
  api: ApiConnection
  logger: Logger
  /** kube mode: reconcile only while holding the Lease. */
  leaderElection?: LeaderElectionFlags
  /** local mode: the runner's argv, overriding LOCAL_RUNNER_COMMAND (the embedded echo runner). */
  runnerCommand?: readonly string[]
  /** Called for every informer event (NDJSON output). */
  onEvent?: <T extends ObjectMeta>(event: ResourceEvent<T>) => void
  /** Shown in the live view's header. */
  apiServerLabel: string
  gracePeriodMs?: number
}

export interface ControlPlane {
  manager: Manager
  informers: Informers
  tallies: Record<ResourceName, EventTally>
  /** Resolves after the initial sync of every informer (never, if they never sync). */
  synced: Promise<void>
  /** Runs until `signal` aborts, then drains; rejects if a component fails. */
  run(signal: AbortSignal): Promise<void>
  snapshot(): RunSnapshot
}

export async function createControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const {config, api, logger} = options
  const mode = config.MODE
  const manager = new Manager({
    logger,
    gracePeriodMs: options.gracePeriodMs ?? 25_000,
    metricsAddr: config.METRICS_ADDR && {...config.METRICS_ADDR, variable: 'METRICS_ADDR'},
    probeAddr: config.PROBE_ADDR && {...config.PROBE_ADDR, variable: 'PROBE_ADDR'},
  })
  const tallies = {} as Record<ResourceName, EventTally>
  const informers = {} as Record<ResourceName, Informer<ObjectMeta>>
  for (const resource of RESOURCE_NAMES) {
    const informer = (await api.informer(resource, manager.metrics.informer)) as Informer<ObjectMeta>
    const tally = new EventTally(resource)
    informer.on((event) => {
      tally.record(event)
      options.onEvent?.(event)
    })
    const cache = informerCache(informer)
    manager.addCache(cache).addReadyzCheck(`informer-${resource}`, cache.readyz)
    informers[resource] = informer
    tallies[resource] = tally
  }
  const typed = informers as unknown as Informers
  const modeStatus = await setupMode(manager, typed, options)

  const synced = Promise.all(RESOURCE_NAMES.map((r) => informers[r].waitForSync())).then((results) =>
    results.every(Boolean) ? undefined : new Promise<void>(() => {}),
  )
  const startedAt = Date.now()
  let stopping = false
  return {
    manager,
    informers: typed,
    tallies,
    synced,
    snapshot: () => ({
      mode,
      startedAt,
      apiServer: options.apiServerLabel,
      resources: RESOURCE_NAMES.map((r) => resourceStats(r, informers[r], tallies[r], manager)),
      runners: modeStatus.runners?.(),
      proxyUrl: modeStatus.proxyUrl?.(),
      leader: manager.leaderState(),
      stopping,
    }),
    async run(signal) {
      signal.addEventListener('abort', () => (stopping = true), {once: true})
      try {
        await manager.start(signal)
      } finally {
        stopping = true
      }
    },
  }
}

async function setupMode(manager: Manager, informers: Informers, options: ControlPlaneOptions): Promise<ModeStatus> {
  const {config, api} = options
  switch (config.MODE) {
    case 'kube': {
      const {setupKubeMode} = await import('../reconcilers/kube/setup.js')
      const le = options.leaderElection
      return setupKubeMode(manager, {
        config,
        informers,
        rest: api.rest,
        namespace: le?.leaseNamespace ?? config.NAMESPACE,
        leaderElection: le && {
          identity: le.identity,
          leaseName: le.leaseName,
          leaseDurationMs: le.leaseDurationMs,
          renewDeadlineMs: le.renewDeadlineMs,
          retryPeriodMs: le.retryPeriodMs,
        },
      })
    }
    case 'local': {
      const {setupLocalMode} = await import('../reconcilers/local/setup.js')
      return setupLocalMode(manager, {config, sessions: informers.sessions, rest: api.rest, runnerCommand: options.runnerCommand})
    }
    case 'test': {
      const {setupTestMode} = await import('../reconcilers/test/setup.js')
      return setupTestMode(manager, {informers, workers: config.WORKER_COUNT})
    }
  }
}

function resourceStats(resource: ResourceName, informer: Informer<ObjectMeta>, tally: EventTally, manager: Manager): ResourceStats {
  const status = informer.status()
  const stats = manager.controller(resource)?.stats()
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
}

export type {Project, ProjectSettings, Session}
