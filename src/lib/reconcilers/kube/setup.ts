// `ambient run --mode kube`, registered with the Manager: the Kubernetes caches (synced before
// any controller starts), the event recorder, leader election when asked for, one controller
// per resource, the CR-side triggers that re-queue sessions and settings, and readiness checks.
import {sessionInFlight} from '../../api/phase-requests.js'
import type {Project, ProjectSettings, Session} from '../../api/types.js'
import type {Config} from '../../config/index.js'
import type {Manager} from '../../controller/manager.js'
import type {ModeStatus} from '../../controller/status.js'
import type {Informer} from '../../informer/index.js'
import type {SessionStatusWriter} from './common.js'
import {createKubeMode} from './mode.js'

export interface KubeSetupOptions {
  config: Pick<Config, 'KUBECONFIG' | 'KUBE_QPS' | 'KUBE_BURST' | 'WORKER_COUNT'>
  informers: {sessions: Informer<Session>; projects: Informer<Project>; project_settings: Informer<ProjectSettings>}
  /** Writes session status (the RestClient). */
  rest: SessionStatusWriter
  /** The control plane's namespace: the Lease and Events about objects without a CR. */
  namespace: string
  leaderElection?: {identity?: string; leaseName: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number}
}

export function setupKubeMode(mgr: Manager, options: KubeSetupOptions): ModeStatus {
  const {config, informers} = options
  const kube = createKubeMode({
    namespace: options.namespace,
    kubeconfig: config.KUBECONFIG,
    qps: config.KUBE_QPS,
    burst: config.KUBE_BURST,
    leaderElect: options.leaderElection !== undefined,
    ...options.leaderElection,
    rest: options.rest,
    informers,
    logger: mgr.logger,
    registry: mgr.registry,
  })
  for (const cache of kube.caches) mgr.addCache(cache)
  for (const runnable of kube.runnables) mgr.add(runnable)
  // Drains the event recorder and closes the Kubernetes client once nothing uses them.
  mgr.addCleanup('kube-client', () => kube.stop())
  if (kube.leaderElection) mgr.setLeaderElection(kube.leaderElection)
  for (const [name, check] of kube.readyz) mgr.addReadyzCheck(name, check)
  const workers = config.WORKER_COUNT
  const sessions = mgr.addController<Session>({
    name: 'sessions',
    informer: informers.sessions,
    reconciler: kube.reconcilers.sessions,
    workers,
    needsAttention: sessionInFlight,
  })
  mgr.addController<Project>({name: 'projects', informer: informers.projects, reconciler: kube.reconcilers.projects, workers})
  const settings = mgr.addController<ProjectSettings>({
    name: 'project_settings',
    informer: informers.project_settings,
    reconciler: kube.reconcilers.project_settings,
    workers,
  })
  kube.connect({sessions: (id) => sessions.enqueue(id), project_settings: (id) => settings.enqueue(id)})
  return {}
}
