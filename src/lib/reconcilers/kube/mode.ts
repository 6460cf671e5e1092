// Assembles kube mode for `ambient run --mode kube`: the Kubernetes client (rate-limited,
// counted), the caches of owned objects, the three reconcilers, the event recorder, the
// optional Lease leader election, readiness checks, metrics, and the CR-side triggers that the
// controllers are connected to once they exist. Only wiring: the parts live in src/lib/kube
// and in this folder.
import {hostname} from 'node:os'
import {randomUUID} from 'node:crypto'
import type {KubeConfig} from '@kubernetes/client-node'
import {Counter, Histogram, type Registry} from 'prom-client'
import type {Project, ProjectSettings, Session} from '../../api/types.js'
import {LeaderElector} from '../../controller/leader.js'
import type {Cache, Runnable} from '../../lifecycle.js'
import {silentLogger, type Logger} from '../../log.js'
import {createKubeCaches, type KubeCaches} from '../../kube/caches.js'
import type {KubeCacheEvent} from '../../kube/cache.js'
import {KubeClient} from '../../kube/client.js'
import {InstrumentedKubeConfig, loadKubeConfig} from '../../kube/config.js'
import {EventRecorder} from '../../kube/events.js'
import {LABEL_SESSION_ID, type AgenticSession} from '../../kube/types.js'
import type {CallObserver, SessionStatusWriter} from './common.js'
import {jsonEqual} from './json-fields.js'
import {ProjectSettingsReconciler} from './project-settings.js'
import {ProjectReconciler} from './projects.js'
import {SessionReconciler} from './sessions.js'

/** What kube mode reads from an Ambient informer (src/lib/informer Informer fits). */
export interface InformerView<T> {
  get(id: string): T | undefined
  list(): T[]
  /** Change notifications; used to re-run settings when their project appears or changes. */
  on?(handler: (event: {type: string; object: T}) => void): () => void
}

export interface KubeModeOptions {
  /** The control plane's namespace (NAMESPACE): Lease, and Events about objects without a CR. */
  namespace: string
  /** Kubeconfig path (KUBECONFIG); else ~/.kube/config, else in-cluster. */
  kubeconfig?: string
  /** An already loaded config (tests); wins over `kubeconfig`. */
  kubeConfig?: KubeConfig
  /** Client-side rate limit (KUBE_QPS, KUBE_BURST). */
  qps?: number
  burst?: number
  /** Run the reconcilers only while holding the Lease (`--leader-elect`). */
  leaderElect?: boolean
  /** This replica's identity; default `<hostname>_<uuid>` (the pod name in a cluster). */
  identity?: string
  leaseName?: string
  leaseDurationMs?: number
  renewDeadlineMs?: number
  retryPeriodMs?: number
  /** Writes session status (RestClient fits). */
  rest: SessionStatusWriter
  informers: {sessions: InformerView<Session>; projects: InformerView<Project>; project_settings: InformerView<ProjectSettings>}
  logger?: Logger
  /** Registers kube-mode metrics here when given. */
  registry?: Registry
  /** Cache reconnect backoff, for tests. */
  cacheBackoff?: {initialMs?: number; maxMs?: number}
}

export interface KubeModeReconcilers {
  sessions: SessionReconciler
  projects: ProjectReconciler
  project_settings: ProjectSettingsReconciler
}

/** Enqueue functions of the controllers (keys are object ids). */
export interface KubeModeTriggers {
  sessions: (key: string) => void
  project_settings?: (key: string) => void
}

export interface KubeMode {
  client: KubeClient
  kubeCaches: KubeCaches
  reconcilers: KubeModeReconcilers
  /** Manager.addCache: they must sync before the controllers start. */
  caches: Cache[]
  /** Manager.addWorker: run on every replica (the event recorder). */
  runnables: Runnable[]
  /** Present with leaderElect: run the controllers inside whileLeading. */
  leaderElection?: {
    run(signal: AbortSignal, whileLeading: (leaderSignal: AbortSignal, lostSignal: AbortSignal) => Promise<void>): Promise<void>
    state(): 'leading' | 'following'
    elector: LeaderElector
  }
  /** Named /readyz checks: each cache synced. */
  readyz: Map<string, () => true | string>
  recorder: EventRecorder
  /**
   * Connects the CR-side triggers to the controllers: a CR whose status (or spec/labels) changed
   * or that was deleted re-queues its session; a project that appeared or changed re-queues its
   * settings. Returns the disconnect function.
   */
  connect(triggers: KubeModeTriggers): () => void
  /** Closes the Kubernetes client (in-flight calls are aborted). Call after the manager stopped. */
  stop(): Promise<void>
}

export function createKubeMode(options: KubeModeOptions): KubeMode {
  const logger = (options.logger ?? silentLogger).child({mode: 'kube'})
  const source = options.kubeConfig ?? loadKubeConfig({kubeconfig: options.kubeconfig})
  const identity = options.identity ?? `${hostname()}_${randomUUID()}`
  // With leader election, every write (Kubernetes and API server alike) passes the elector's
  // fence right before it is sent; the Lease itself is the lock, its writes conditional.
  let fence: (() => void) | undefined
  const kubeConfig = InstrumentedKubeConfig.from(source, {
    qps: options.qps,
    burst: options.burst,
    userAgent: `ambient (${identity})`,
    beforeWrite: (info) => {
      if (info.resource !== 'leases') fence?.()
    },
  })
  const client = new KubeClient({kubeConfig})
  const kubeCaches = createKubeCaches({client, logger, backoff: options.cacheBackoff})
  const recorder = new EventRecorder({events: client.events, instance: identity, logger})
  const onCalls = options.registry ? callMetrics(options.registry, client) : undefined
  const projects = {get: (id: string) => options.informers.projects.get(id)}
  const common = {kube: client, recorder, controlPlaneNamespace: options.namespace, logger, onCalls}
  const status: SessionStatusWriter = {
    async patchStatus(id, patch, callOptions) {
      fence?.()
      return options.rest.patchStatus(id, patch, callOptions)
    },
  }

  const reconcilers: KubeModeReconcilers = {
    sessions: new SessionReconciler({...common, cache: kubeCaches.agenticSessions, status, projects}),
    projects: new ProjectReconciler({...common, cache: kubeCaches.namespaces}),
    project_settings: new ProjectSettingsReconciler({...common, cache: kubeCaches.roleBindings, projects}),
  }

  let leaderElection: KubeMode['leaderElection']
  if (options.leaderElect) {
    const elector = new LeaderElector({
      kube: client,
      namespace: options.namespace,
      name: options.leaseName ?? 'ambient-control-plane',
      identity,
      leaseDurationMs: options.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs,
      logger,
    })
    fence = () => elector.checkLeading()
    leaderElection = {
      elector,
      run: (signal, whileLeading) =>
        elector.run(signal, {
          onStartedLeading: async (leaderSignal, lostSignal) => {
            try {
              await whileLeading(leaderSignal, lostSignal)
            } finally {
              // The Events of this term go out while the lease is still ours (or are refused).
              recorder.flushSeries()
              await recorder.drain()
            }
          },
        }),
      state: () => (elector.isLeader() ? 'leading' : 'following'),
    }
  }

  const readyz = new Map<string, () => true | string>()
  for (const cache of Object.values(kubeCaches)) {
    readyz.set(`kube-cache/${cache.name}`, () =>
      cache.hasSynced() ? true : `not synced${cache.status().lastError ? `: ${cache.status().lastError}` : ''}`,
    )
  }

  return {
    client,
    kubeCaches,
    reconcilers,
    caches: Object.values(kubeCaches),
    runnables: [recorder],
    leaderElection,
    readyz,
    recorder,
    connect(triggers) {
      const offs: (() => void)[] = []
      offs.push(
        kubeCaches.agenticSessions.on((event) => {
          const id = sessionToRequeue(event)
          if (id) triggers.sessions(id)
        }),
      )
      const enqueueSettings = triggers.project_settings
      const onProjects = options.informers.projects.on
      if (enqueueSettings && onProjects) {
        offs.push(
          onProjects.call(options.informers.projects, (event) => {
            if (event.type === 'DELETED') return
            for (const s of options.informers.project_settings.list()) if (s.project_id === event.object.id) enqueueSettings(s.id)
          }),
        )
      }
      return () => {
        for (const off of offs) off()
      }
    },
    async stop() {
      await recorder.drain()
      client.close()
    },
  }
}

/**
 * The session a CR event concerns, when something kube mode mirrors or owns changed: status
 * (copied back), spec/labels/annotations (drift to undo), or the CR's existence.
 */
export function sessionToRequeue(event: KubeCacheEvent<AgenticSession>): string | undefined {
  const id = event.object.metadata.labels?.[LABEL_SESSION_ID]
  if (!id) return undefined
  if (event.type !== 'MODIFIED') return id
  const {object, old} = event
  const changed =
    !jsonEqual(object.status, old.status) ||
    !jsonEqual(object.spec, old.spec) ||
    !jsonEqual(object.metadata.labels, old.metadata.labels) ||
    !jsonEqual(object.metadata.annotations, old.metadata.annotations) ||
    object.metadata.uid !== old.metadata.uid
  return changed ? id : undefined
}

function callMetrics(registry: Registry, client: KubeClient): CallObserver {
  const perReconcile = new Histogram({
    name: 'ambient_kube_reconcile_calls',
    help: 'API calls made by one kube-mode reconcile, by resource and target (kube or api).',
    labelNames: ['resource', 'target'],
    buckets: [0, 1, 2, 3, 5, 8, 13, 21],
    registers: [registry],
  })
  new Counter({
    name: 'ambient_kube_requests_total',
    help: 'Requests sent to the Kubernetes API server, by verb and resource.',
    labelNames: ['verb', 'resource'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [key, value] of Object.entries(client.counter.snapshot())) {
        const [verb, resource] = key.split(' ')
        this.inc({verb, resource}, value)
      }
    },
  })
  new Counter({
    name: 'ambient_kube_client_throttle_seconds_total',
    help: 'Time requests waited in the client-side rate limiter.',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(client.config.limiter.waitedMs / 1000)
    },
  })
  return (resource, scope) => {
    perReconcile.observe({resource, target: 'kube'}, scope.kube)
    perReconcile.observe({resource, target: 'api'}, scope.api)
  }
}
