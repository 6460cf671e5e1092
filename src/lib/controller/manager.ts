// Starts and stops the parts of a control plane in controller-runtime's order: HTTP
// listeners, then caches (informers), then workers once every cache has synced, then
// leader-only parts; stops in reverse within a grace period, so SIGTERM drains cleanly.
import type {ObjectMeta} from '../api/types.js'
import type {Informer} from '../informer/index.js'
import type {Cache, Runnable} from '../lifecycle.js'
import type {Logger} from '../log.js'
import {silentLogger} from '../log.js'
import {waitForAbort} from '../util/abort.js'

export type {Cache, Runnable} from '../lifecycle.js'

export interface ManagerOptions {
  logger?: Logger
  /** How long stop may take before the manager gives up waiting (ms). */
  gracePeriodMs?: number
}

interface Running {
  name: string
  controller: AbortController
  done: Promise<void>
}

export class Manager {
  private readonly caches: Cache[] = []
  private readonly workers: Runnable[] = []
  private readonly leaderOnly: Runnable[] = []
  private readonly logger: Logger
  private readonly gracePeriodMs: number
  private synced = false

  constructor(options: ManagerOptions = {}) {
    this.logger = options.logger ?? silentLogger
    this.gracePeriodMs = options.gracePeriodMs ?? 30_000
  }

  addCache(cache: Cache): this {
    this.caches.push(cache)
    return this
  }

  /** Runs on every replica once caches have synced. */
  addWorker(runnable: Runnable): this {
    this.workers.push(runnable)
    return this
  }

  /** Runs only while this replica leads (the elector adds these to its own lifecycle). */
  addLeaderOnly(runnable: Runnable): this {
    this.leaderOnly.push(runnable)
    return this
  }

  get leaderOnlyRunnables(): readonly Runnable[] {
    return this.leaderOnly
  }

  hasSynced(): boolean {
    return this.synced
  }

  /**
   * Runs everything until `signal` aborts, then stops in reverse order. Rejects if a
   * component fails on its own (the process should exit non-zero).
   */
  async run(signal: AbortSignal): Promise<void> {
    const running: Running[] = []
    let failure: unknown
    const failed = new AbortController()
    const launch = (r: Runnable) => {
      const controller = new AbortController()
      const done = r.start(controller.signal).then(
        () => {
          if (!controller.signal.aborted) this.logger.warn({component: r.name}, 'component stopped on its own')
        },
        (err: unknown) => {
          if (controller.signal.aborted) return
          this.logger.error({component: r.name, err}, 'component failed')
          failure ??= err
          failed.abort()
        },
      )
      running.push({name: r.name, controller, done})
    }
    const stopAll = AbortSignal.any([signal, failed.signal])
    try {
      for (const c of this.caches) launch(c)
      await Promise.all(this.caches.map((c) => c.waitForSync(stopAll)))
      this.synced = true
      this.logger.info({caches: this.caches.map((c) => c.name)}, 'caches synced')
      for (const w of this.workers) launch(w)
      await waitForAbort(stopAll)
    } catch (err) {
      if (!stopAll.aborted) failure ??= err
    } finally {
      await this.stop(running)
    }
    if (failure !== undefined) throw failure
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

/** The Manager's view of an informer: runs until aborted, counts as synced after its first list. */
export function informerCache<T extends ObjectMeta>(informer: Informer<T>): Cache {
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
  }
}
