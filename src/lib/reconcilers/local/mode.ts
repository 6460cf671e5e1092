// Assembles local mode for `ambient run --mode local`: the runner registry and manager, the
// session reconciler, and two components for the Manager: one that adopts the runners of a
// previous run at start and stops every runner at shutdown, and the AG-UI proxy on
// LOCAL_PROXY_ADDR routing to this process's runners. Only wiring; the parts live in
// src/lib/process, src/lib/proxy and this folder.
import type {Config} from '../../config/index.js'
import type {Runnable} from '../../controller/manager.js'
import {silentLogger, type Logger} from '../../log.js'
import {RunnerManager, RunnerRegistry, runnerRegistryDir, type RunnerRow} from '../../process/index.js'
import type {AguiProxy} from '../../proxy/index.js'
import {waitForAbort} from '../../util/abort.js'
import {LocalSessionReconciler, type SessionApi, type SessionsView} from './reconciler.js'
import {StopRequests, stopRequestsDir} from './stop-requests.js'

/** The settings local mode reads (a resolved Config fits). */
export type LocalModeConfig = Pick<
  Config,
  | 'AMBIENT_STATE_DIR'
  | 'LOCAL_WORKSPACE_ROOT'
  | 'LOCAL_PROXY_ADDR'
  | 'LOCAL_PROXY_ALLOWED_HOSTS'
  | 'CORS_ALLOWED_ORIGIN'
  | 'LOCAL_RUNNER_COMMAND'
  | 'LOCAL_PORT_RANGE'
  | 'LOCAL_MAX_SESSIONS'
  | 'LOCAL_RUNNER_LOG_MAX_BYTES'
  | 'LOCAL_RUNNER_LOG_FILES'
  | 'BOSS_URL'
  | 'BOSS_SPACE'
>

export interface LocalModeOptions {
  config: LocalModeConfig
  /** Reads and writes session status (RestClient fits). */
  rest: SessionApi
  /** The sessions informer (get, hasSynced, waitForSync). */
  sessions: SessionsView & {waitForSync?(signal?: AbortSignal): Promise<boolean>}
  logger?: Logger
  /** Default `<AMBIENT_STATE_DIR>/runners`. */
  registryDir?: string
  /** Default `<AMBIENT_STATE_DIR>/stop-requests`. */
  stopRequestsDir?: string
  /** Overrides LOCAL_RUNNER_COMMAND (an argv array is not split). */
  runnerCommand?: string | readonly string[]
  /** Where runners' allowlisted variables come from, default process.env. */
  hostEnv?: NodeJS.ProcessEnv
  /** Where the proxy listens, default LOCAL_PROXY_ADDR; false: no proxy. */
  proxy?: false | {host: string; port: number}
  healthTimeoutMs?: number
  healthIntervalMs?: number
  stopGraceMs?: number
  capacityRetryMs?: number
  /** How often adopted runners are checked for exit, default 500 ms. */
  adoptPollMs?: number
}

export interface LocalMode {
  reconciler: LocalSessionReconciler
  manager: RunnerManager
  registry: RunnerRegistry
  stopRequests: StopRequests
  /** Manager.addWorker, both: runner lifecycle (adopt at start, stop all at shutdown) and the AG-UI proxy. */
  runnables: Runnable[]
  /** Background work (health checks, stops, exits) re-enqueues sessions through this (the controller's enqueue). */
  connect(enqueue: ((id: string) => void) | undefined): () => void
  /** Live runners for the TUI. */
  runners(): RunnerRow[]
  /** The proxy's URL once it listens. */
  proxyUrl(): string | undefined
  /** Stops every runner and writes their sessions' final phases (idempotent; also done by the runnable). */
  stop(): Promise<void>
}

export function createLocalMode(options: LocalModeOptions): LocalMode {
  const {config} = options
  const logger = (options.logger ?? silentLogger).child({mode: 'local'})
  const registry = new RunnerRegistry({dir: options.registryDir ?? runnerRegistryDir(config.AMBIENT_STATE_DIR), logger})
  const stopRequests = new StopRequests({dir: options.stopRequestsDir ?? stopRequestsDir(config.AMBIENT_STATE_DIR)})
  const manager = new RunnerManager({
    workspaceRoot: config.LOCAL_WORKSPACE_ROOT,
    command: options.runnerCommand ?? config.LOCAL_RUNNER_COMMAND,
    portRange: config.LOCAL_PORT_RANGE,
    maxSessions: config.LOCAL_MAX_SESSIONS,
    logMaxBytes: config.LOCAL_RUNNER_LOG_MAX_BYTES,
    logFiles: config.LOCAL_RUNNER_LOG_FILES,
    stopGraceMs: options.stopGraceMs,
    hostEnv: options.hostEnv,
    extraEnv: {BOSS_URL: config.BOSS_URL, BOSS_SPACE: config.BOSS_SPACE},
    registry,
    logger,
    adoptPollMs: options.adoptPollMs,
  })
  const reconciler = new LocalSessionReconciler({
    manager,
    api: options.rest,
    stopRequests,
    registry,
    sessions: options.sessions,
    logger,
    healthTimeoutMs: options.healthTimeoutMs,
    healthIntervalMs: options.healthIntervalMs,
    stopGraceMs: options.stopGraceMs,
    capacityRetryMs: options.capacityRetryMs,
  })

  const lifecycle: Runnable = {
    name: 'local-runners',
    async start(signal) {
      // Adoption decides which runners have no session any more: it needs the full list.
      await options.sessions.waitForSync?.(signal)
      if (!signal.aborted) await reconciler.adopt()
      await waitForAbort(signal)
      // Workers stop in reverse order of start, so the controllers are drained by now.
      await reconciler.shutdown()
    },
  }

  let proxy: AguiProxy | undefined
  const proxyAddr = options.proxy === undefined ? config.LOCAL_PROXY_ADDR : options.proxy
  const proxyRunnable: Runnable | undefined = proxyAddr
    ? {
        name: 'agui-proxy',
        async start(signal) {
          const {startAguiProxy} = await import('../../proxy/index.js')
          try {
            proxy = await startAguiProxy({
              host: proxyAddr.host || '127.0.0.1',
              port: proxyAddr.port,
              corsOrigin: config.CORS_ALLOWED_ORIGIN,
              allowedHosts: config.LOCAL_PROXY_ALLOWED_HOSTS,
              resolve: (id) => manager.resolve(id),
              logger,
              signal,
            })
          } catch (err) {
            // A standalone `ambient proxy` may hold the address: it routes from the same registry.
            if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
            logger.warn(
              {addr: `${proxyAddr.host}:${proxyAddr.port}`},
              'AG-UI proxy address in use (is `ambient proxy` running?): not starting the proxy',
            )
            await waitForAbort(signal)
            return
          }
          await waitForAbort(signal)
          await proxy.close()
          proxy = undefined
        },
      }
    : undefined

  return {
    reconciler,
    manager,
    registry,
    stopRequests,
    runnables: proxyRunnable ? [lifecycle, proxyRunnable] : [lifecycle],
    connect(enqueue) {
      reconciler.setTrigger(enqueue)
      return () => reconciler.setTrigger(undefined)
    },
    runners: () => reconciler.runnerRows(),
    proxyUrl: () => proxy?.url,
    stop: () => reconciler.shutdown(),
  }
}
