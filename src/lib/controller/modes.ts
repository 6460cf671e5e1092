// The mode-specific half of `ambient run`: which reconcilers run, what else they need
// (Kubernetes caches and leader election in kube mode; the runner manager and the AG-UI
// proxy in local mode). Loaded lazily, so test mode never imports client-node or execa.
import type {Registry} from 'prom-client'
import type {ApiConnection} from '../cli/informers.js'
import {ensureDir, type Config} from '../config/index.js'
import type {Logger} from '../log.js'
import type {Informers, ModeParts} from './control-plane.js'

export interface ModeOptions {
  config: Config
  api: ApiConnection
  informers: Informers
  logger: Logger
  registry?: Registry
  leaderElect: boolean
  identity?: string
  /** local mode: argv of the runner, overriding LOCAL_RUNNER_COMMAND (the embedded echo runner). */
  runnerCommand?: readonly string[]
  leaseName: string
  leaseNamespace: string
  /** Lease timing (client-go's defaults 15 s / 10 s / 2 s when absent). */
  leaseDurationMs?: number
  renewDeadlineMs?: number
  retryPeriodMs?: number
}

export async function buildModeParts(mode: Config['MODE'], options: ModeOptions): Promise<ModeParts> {
  if (mode === 'kube') return kubeParts(options)
  if (mode === 'local') return localParts(options)
  return {reconcilers: {}}
}

async function kubeParts(options: ModeOptions): Promise<ModeParts> {
  const {config, informers, logger} = options
  const {createKubeMode} = await import('../reconcilers/kube/mode.js')
  const kube = createKubeMode({
    namespace: options.leaseNamespace,
    kubeconfig: config.KUBECONFIG,
    qps: config.KUBE_QPS,
    burst: config.KUBE_BURST,
    leaderElect: options.leaderElect,
    identity: options.identity,
    leaseName: options.leaseName,
    leaseDurationMs: options.leaseDurationMs,
    renewDeadlineMs: options.renewDeadlineMs,
    retryPeriodMs: options.retryPeriodMs,
    rest: options.api.rest,
    informers,
    logger,
    registry: options.registry,
  })
  return {
    reconcilers: kube.reconcilers,
    caches: kube.caches,
    runnables: kube.runnables,
    leaderElection: kube.leaderElection,
    readyz: kube.readyz,
    connect: (enqueue) => {
      const sessions = enqueue.sessions
      if (sessions) kube.connect({sessions, project_settings: enqueue.project_settings})
    },
    stop: () => kube.stop(),
  }
}

async function localParts(options: ModeOptions): Promise<ModeParts> {
  // Local mode's state is written while it runs: a folder that cannot be created is named at start.
  const {config} = options
  ensureDir({dir: config.AMBIENT_STATE_DIR, variable: 'AMBIENT_STATE_DIR', purpose: 'the runner registry of local mode'})
  ensureDir({dir: config.LOCAL_WORKSPACE_ROOT, variable: 'LOCAL_WORKSPACE_ROOT', purpose: 'the runners\' workspaces'})
  const {createLocalMode} = await import('../reconcilers/local/index.js')
  const local = createLocalMode({
    config: options.config,
    rest: options.api.rest,
    sessions: options.informers.sessions,
    logger: options.logger,
    runnerCommand: options.runnerCommand,
  })
  return {
    reconcilers: {sessions: local.reconciler},
    runnables: local.runnables,
    runners: () => local.runners(),
    proxyUrl: () => local.proxyUrl(),
    connect: (enqueue) => local.connect(enqueue.sessions),
    stop: () => local.stop(),
  }
}
