// controller-runtime's Manager, in Node. It owns what every controller process shares: the
// Prometheus registry and its listener, the health probes, leader election and the start
// order. A mode registers its parts with it (`setup(mgr)`: caches, controllers, runnables,
// checks); start() then runs
//   HTTP listeners -> caches -> (every cache synced) -> runnables -> leader-only runnables
//   (the controllers; under leader election only while leading)
// and stops in reverse within a grace period, so SIGTERM drains cleanly.
import {collectDefaultMetrics, Registry} from 'prom-client'
import type {ObjectMeta} from '../api/types.js'
import type {ListenAddress} from '../config/index.js'
import type {Informer} from '../informer/index.js'
import {ConfigError, errorMessage} from '../errors.js'
import type {Cache, Runnable} from '../lifecycle.js'
import {silentLogger, type Logger} from '../log.js'
import {waitForAbort} from '../util/abort.js'
import {Controller, type ControllerOptions} from './controller.js'
import {startMetricsServer, startProbeServer, type Check, type HttpListener} from './http.js'
import {ControllerMetrics} from './metrics.js'

export type {Cache, Runnable} from '../lifecycle.js'

/** Leader election as the Manager drives it (controller/leader.ts's elector, wrapped by kube mode). */
export interface LeaderElection {
  /** Campaigns until `signal` aborts; runs `whileLeading` for each term. */
  run(signal: AbortSignal, whileLeading: (leaderSignal: AbortSignal, lostSignal: AbortSignal) => Promise<void>): Promise<void>
  state(): 'leading' | 'following'
}

/**
 * Runs only while this replica leads (at once without leader election). `signal` asks for a
 * graceful stop (drain); `lost` aborts the moment leadership is lost: in-flight work must stop
 * writing at once.
 */
export interface LeaderRunnable {
  readonly name: string
  start(signal: AbortSignal, lost: AbortSignal): Promise<void>
}

export interface ManagerOptions {
  logger?: Logger
  /** How long stop may take before the manager gives up waiting (ms, default 30 s). */
  gracePeriodMs?: number
  /** Where /metrics is served; absent: not served. `variable` names it in errors (METRICS_ADDR). */
  metricsAddr?: ListenAddress & {variable?: string}
  /** Where /healthz and /readyz are served; absent: not served (PROBE_ADDR). */
  probeAddr?: ListenAddress & {variable?: string}
  /** Default: a new registry with Node's default metrics. */
  registry?: Registry
}

interface Running {
  name: string
  controller: AbortController
  done: Promise<void>
}

export class Manager {
  readonly registry: Registry
  /** The work queue, reconcile and informer series of every controller this manager runs. */
  readonly metrics: ControllerMetrics
  readonly logger: Logger
  private readonly gracePeriodMs: number
  private readonly options: ManagerOptions
  private readonly caches: Cache[] = []
  private readonly runnables: Runnable[] = []
  private readonly leaderOnly: LeaderRunnable[] = []
  private readonly controllers = new Map<string, Controller<ObjectMeta>>()
  private readonly healthz = new Map<string, Check>([['ping', () => true]])
  private readonly readyz = new Map<string, Check>()
  private readonly cleanups: {name: string; run: () => Promise<void>}[] = []
  private election: LeaderElection | undefined
  private synced = false
  private listeners: {metrics?: HttpListener; probes?: HttpListener} = {}

  constructor(options: ManagerOptions = {}) {
    this.options = options
    this.logger = options.logger ?? silentLogger
    this.gracePeriodMs = options.gracePeriodMs ?? 30_000
    if (options.registry) this.registry = options.registry
    else {
      this.registry = new Registry()
      collectDefaultMetrics({register: this.registry})
    }
    this.metrics = new ControllerMetrics(this.registry)
  }

  /** Must sync before any runnable starts; failing to sync fails the manager. */
  addCache(cache: Cache): this {
    this.caches.push(cache)
    return this
  }

  /** Runs on every replica once every cache has synced (proxies, recorders, runner lifecycles). */
  add(runnable: Runnable): this {
    this.runnables.push(runnable)
    return this
  }

  /** Runs only while this replica leads, or at once without leader election. */
  addLeaderOnly(runnable: LeaderRunnable): this {
    this.leaderOnly.push(runnable)
    return this
  }

  /**
   * A controller over `informer`, reporting into this manager's metrics and logger, run as a
   * leader-only runnable: it aborts in-flight reconciles the moment the lease is lost.
   */
  addController<T extends ObjectMeta>(options: Omit<ControllerOptions<T>, 'metrics'>): Controller<T> {
    const controller = new Controller<T>({logger: this.logger, ...options, metrics: this.metrics})
    this.controllers.set(options.name, controller as unknown as Controller<ObjectMeta>)
    this.addLeaderOnly({name: `controller/${options.name}`, start: (signal, lost) => controller.start(signal, {abort: lost})})
    return controller
  }

  /** Runs once every component has stopped (closing clients they shared); last added, first run. */
  addCleanup(name: string, run: () => Promise<void>): this {
    this.cleanups.push({name, run})
    return this
  }

  /** Leader-only runnables then run inside its terms. */
  setLeaderElection(election: LeaderElection): this {
    this.election = election
    return this
  }

  addHealthzCheck(name: string, check: Check): this {
    this.healthz.set(name, check)
    return this
  }

  addReadyzCheck(name: string, check: Check): this {
    this.readyz.set(name, check)
    return this
  }

  /** The controller added under `name`, for its stats. */
  controller(name: string): Controller<ObjectMeta> | undefined {
    return this.controllers.get(name)
  }

  leaderState(): 'leading' | 'following' | 'disabled' {
    return this.election ? this.election.state() : 'disabled'
  }

  hasSynced(): boolean {
    return this.synced
  }

  get metricsUrl(): string | undefined {
    return this.listeners.metrics?.url
  }

  get probeUrl(): string | undefined {
    return this.listeners.probes?.url
  }

  /**
   * Runs everything until `signal` aborts, then stops in reverse order. Rejects if a listener
   * cannot start or a component fails on its own (the process should exit non-zero).
   */
  async start(signal: AbortSignal): Promise<void> {
    await this.startListeners()
    const running: Running[] = []
    let failure: unknown
    const failed = new AbortController()
    const stopAll = AbortSignal.any([signal, failed.signal])
    const launch = (name: string, start: (signal: AbortSignal) => Promise<void>): void => {
      const controller = new AbortController()
      const done = start(controller.signal).then(
        () => {
          if (!controller.signal.aborted) this.logger.warn({component: name}, 'component stopped on its own')
        },
        (err: unknown) => {
          if (controller.signal.aborted) return
          this.logger.error({component: name, err}, 'component failed')
          failure ??= err
          failed.abort()
        },
      )
      running.push({name, controller, done})
    }
    try {
      for (const c of this.caches) launch(c.name, (s) => c.start(s))
      await Promise.all(this.caches.map((c) => c.waitForSync(stopAll)))
      if (!stopAll.aborted) {
        this.synced = true
        this.logger.info({caches: this.caches.map((c) => c.name)}, 'caches synced')
        for (const r of this.runnables) launch(r.name, (s) => r.start(s))
        this.launchLeaderOnly(launch)
      }
      await waitForAbort(stopAll)
    } catch (err) {
      if (!stopAll.aborted) failure ??= err
    } finally {
      await this.stop(running)
      for (const c of [...this.cleanups].reverse()) {
        await c.run().catch((err: unknown) => this.logger.warn({component: c.name, err}, 'cleanup failed'))
      }
      await this.stopListeners()
    }
    if (failure !== undefined) throw failure
  }

  private launchLeaderOnly(launch: (name: string, start: (signal: AbortSignal) => Promise<void>) => void): void {
    if (this.leaderOnly.length === 0) return
    const {election} = this
    if (!election) {
      // Without an election nothing is ever lost: the graceful signal is the only one.
      for (const r of this.leaderOnly) launch(r.name, (s) => r.start(s, new AbortController().signal))
      return
    }
    launch('leader-election', (s) =>
      election.run(s, async (leaderSignal, lostSignal) => {
        await Promise.all(this.leaderOnly.map((r) => r.start(leaderSignal, lostSignal)))
      }),
    )
  }

  private async startListeners(): Promise<void> {
    const {metricsAddr, probeAddr} = this.options
    try {
      if (metricsAddr) {
        this.listeners.metrics = await startMetricsServer({addr: metricsAddr, registry: this.registry}).catch(
          listenError(metricsAddr, 'METRICS_ADDR'),
        )
        this.logger.info({url: `${this.listeners.metrics.url}/metrics`}, 'serving metrics')
      }
      if (probeAddr) {
        const probes = {addr: probeAddr, healthz: this.healthz, readyz: this.readyz}
        this.listeners.probes = await startProbeServer(probes).catch(listenError(probeAddr, 'PROBE_ADDR'))
        this.logger.info({url: this.listeners.probes.url}, 'serving health probes (/healthz, /readyz)')
      }
    } catch (err) {
      await this.stopListeners()
      throw err
    }
  }

  private async stopListeners(): Promise<void> {
    const {metrics, probes} = this.listeners
    this.listeners = {}
    await Promise.all([metrics?.close(), probes?.close()])
  }

  private async stop(running: Running[]): Promise<void> {
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(resolve, this.gracePeriodMs, 'timeout').unref())
    for (const r of [...running].reverse()) {
      r.controller.abort()
      const outcome = await Promise.race([r.done.then(() => 'done' as const), deadline])
      if (outcome === 'timeout') {
        this.logger.warn({component: r.name, gracePeriodMs: this.gracePeriodMs}, 'grace period over; not waiting for the rest')
        return
      }
    }
  }
}

/** A listener that cannot start names the setting that chose its address (exit 2). */
function listenError(addr: ListenAddress & {variable?: string}, fallback: string): (err: unknown) => never {
  return (err) => {
    const variable = addr.variable ?? fallback
    const where = `${addr.host || '*'}:${addr.port}`
    const why = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the address is in use' : errorMessage(err)
    throw new ConfigError(variable, `${variable}: cannot listen on ${where}: ${why}`)
  }
}

/**
 * The Manager's view of an informer: runs until aborted, counts as synced after its first
 * list, and is on /readyz (not ready until listed, nor once stopped).
 */
export function informerCache<T extends ObjectMeta>(informer: Informer<T>): Cache & {readyz: Check} {
  return {
    name: `informer/${informer.resource}`,
    async start(signal: AbortSignal) {
      await informer.start(signal)
      await informer.done
    },
    async waitForSync(signal: AbortSignal) {
      if (!(await informer.waitForSync(signal)) && !signal.aborted) {
        throw new Error(`informer for ${informer.resource} stopped before it synced`)
      }
    },
    readyz: () => {
      const s = informer.status()
      if (!s.synced) return 'initial list not done'
      if (s.connection === 'stopped') return 'informer stopped'
      return true
    },
  }
}
