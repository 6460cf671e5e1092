// The reconcile loop (controller-runtime semantics): informer events become `resource/id`
// keys in a rate-limited work queue; workers take a key, read the object from the informer
// cache (level-triggered: a burst of changes is one pass, and memory is bounded by keys, not
// events) and call the reconciler. Failures retry with backoff until maxRetries; terminal
// errors are recorded and never retried; every object is also re-enqueued periodically from
// one timer wheel, often while it needs attention and rarely once stable.
import {toMicros} from '../api/time.js'
import type {ObjectMeta} from '../api/types.js'
import {errorMessage} from '../errors.js'
import type {ResourceEvent} from '../informer/events.js'
import type {Informer} from '../informer/informer.js'
import {silentLogger, type Logger} from '../log.js'
import {realClock, type Clock, type Timer} from '../workqueue/clock.js'
import {RateLimitingQueue} from '../workqueue/rate-limiting-queue.js'
import type {RateLimiter} from '../workqueue/rate-limiters.js'
import {waitForAbort} from '../util/abort.js'
import {ResyncWheel} from './resync-wheel.js'
import {
  ControllerError,
  TerminalError,
  type ControllerMetricsHooks,
  type ControllerOptions,
  type ControllerStats,
  type ObjectError,
  type ReconcileOutcome,
  type ReconcileRequest,
  type ReconcileResult,
  type Reconciler,
  type ResyncOptions,
} from './types.js'

export * from './types.js'

/** One reconcile pass in progress. */
interface Pass<T> {
  key: string
  id: string
  /** The tombstone the pass was given, for a deleted object. */
  deleted: T | undefined
  started: number
  outcome: ReconcileOutcome
  /** False when the key will come back (retry, or shutdown mid-failure). */
  settled: boolean
}

const DEFAULT_RESYNC: ResyncOptions = {attentionMs: 30_000, stableMs: 300_000, recentMs: 2 * 3600_000, tickMs: 1000}
/** Tombstones kept while the controller is not running (deletions it will reconcile on start). */
const MAX_IDLE_TOMBSTONES = 10_000

export class Controller<T extends ObjectMeta> {
  readonly name: string
  readonly resource: string
  private readonly informer: Informer<T>
  private readonly reconciler: Reconciler<T>
  private readonly workerCount: number
  private readonly maxRetries: number
  private readonly logger: Logger
  private readonly metrics: ControllerMetricsHooks | undefined
  private readonly resync: ResyncOptions
  private readonly needsAttention: ((object: T) => boolean) | undefined
  private readonly gracePeriodMs: number
  private readonly clock: Clock
  private readonly rateLimiter: RateLimiter<string> | undefined
  private readonly wheel: ResyncWheel
  /** Last known state of deleted objects, until their deletion is reconciled. */
  private readonly tombstones = new Map<string, T>()
  /** Failed passes per key since its last success. */
  private readonly failures = new Map<string, number>()
  /** Ids whose last pass failed and will be retried (they need attention). */
  private readonly failing = new Set<string>()
  private readonly errors = new Map<string, ObjectError>()
  /** Parsed created_at per id, for attention(): read on every pass, parsed once. */
  private readonly created = new Map<string, {at: string; ms: number | undefined}>()
  private unsubscribe: (() => void) | undefined
  private queue: RateLimitingQueue<string> | undefined
  private run: Promise<void> | undefined
  private runAbort: AbortController | undefined
  private stopping = false
  private sweepTimer: Timer | undefined
  private inFlight = 0
  private counts = {succeeded: 0, requeued: 0, failed: 0, terminal: 0, retries: 0, givenUp: 0}
  private lastError: string | undefined

  constructor(options: ControllerOptions<T>) {
    this.name = options.name
    this.informer = options.informer
    this.resource = options.informer.resource
    this.reconciler = options.reconciler
    this.workerCount = Math.max(1, options.workers ?? 2)
    this.maxRetries = options.maxRetries ?? 15
    this.logger = (options.logger ?? silentLogger).child({controller: this.name})
    this.metrics = options.metrics
    this.resync = {...DEFAULT_RESYNC, ...options.resync}
    this.needsAttention = options.needsAttention
    this.gracePeriodMs = options.gracePeriodMs ?? 20_000
    const base = options.clock ?? realClock
    this.clock = options.now ? {now: options.now, setTimer: (fn, ms) => base.setTimer(fn, ms)} : base
    this.rateLimiter = options.rateLimiter
    this.wheel = new ResyncWheel(this.resync.tickMs)
    this.metrics?.registerController(this.name)
  }

  /**
   * Runs until `signal` aborts (or stop()): waits for the informer's first sync, enqueues
   * every cached object, starts the workers and the resync sweep; on abort stops taking work
   * and drains in-flight reconciles within the grace period. Restartable (e.g. per leadership).
   * `options.abort` aborts the in-flight reconciles themselves (their signal), at once: for
   * work that must not go on, such as a leader's once the lease is lost.
   */
  start(signal: AbortSignal, options: {abort?: AbortSignal} = {}): Promise<void> {
    if (this.run) return Promise.reject(new ControllerError(`controller ${this.name} is already running`))
    const runAbort = new AbortController()
    const abort = (): void => runAbort.abort()
    if (signal.aborted) abort()
    else signal.addEventListener('abort', abort, {once: true})
    this.runAbort = runAbort
    this.run = this.runUntil(runAbort.signal, options.abort).finally(() => {
      signal.removeEventListener('abort', abort)
      this.run = undefined
      this.runAbort = undefined
    })
    return this.run
  }

  /** Stops like an abort of start's signal; resolves once drained. */
  async stop(): Promise<void> {
    this.runAbort?.abort()
    await this.run
  }

  stats(): ControllerStats {
    return {
      name: this.name,
      running: this.queue !== undefined && !this.stopping,
      queueDepth: this.queue?.len() ?? 0,
      waiting: this.queue?.waitingCount() ?? 0,
      inFlight: this.inFlight,
      ...this.counts,
      tombstones: this.tombstones.size,
      scheduled: this.wheel.size,
      ...(this.lastError !== undefined && {lastError: this.lastError}),
    }
  }

  /**
   * Asks for a pass over `id` from outside the informer (e.g. a watched child object changed).
   * Ignored while not running: every cached object is enqueued on start anyway.
   */
  enqueue(id: string): void {
    if (this.queue && !this.stopping) this.queue.add(this.keyOf(id))
  }

  /** The error of the object's last pass, if it failed. */
  errorOf(id: string): ObjectError | undefined {
    return this.errors.get(id)
  }

  keyOf(id: string): string {
    return `${this.resource}/${id}`
  }

  private async runUntil(signal: AbortSignal, abortInFlight: AbortSignal | undefined): Promise<void> {
    // Subscribed for the controller's lifetime: deletions seen while stopped are kept as
    // tombstones and reconciled on the next start.
    this.unsubscribe ??= this.informer.on((event) => this.onEvent(event))
    const synced = await this.informer.waitForSync(signal)
    if (signal.aborted) return
    if (!synced) throw new ControllerError(`informer for ${this.resource} stopped before it synced`)

    const queue = new RateLimitingQueue<string>({
      name: this.name,
      clock: this.clock,
      ...(this.rateLimiter && {rateLimiter: this.rateLimiter}),
      ...(this.metrics && {metrics: this.metrics}),
    })
    const reconcileAbort = new AbortController()
    this.queue = queue
    this.stopping = false
    for (const object of this.informer.list()) queue.add(this.keyOf(object.id))
    for (const id of this.tombstones.keys()) queue.add(this.keyOf(id))
    this.armSweep()
    const reconcileSignal = abortInFlight ? AbortSignal.any([reconcileAbort.signal, abortInFlight]) : reconcileAbort.signal
    const workers = Array.from({length: this.workerCount}, () => this.worker(queue, reconcileSignal))
    this.logger.info({workers: this.workerCount, queued: queue.len()}, 'controller started')

    await waitForAbort(signal)

    this.stopping = true
    this.sweepTimer?.cancel()
    this.sweepTimer = undefined
    const drained = await queue.shutDownWithDrain(this.gracePeriodMs)
    if (drained) {
      await Promise.all(workers)
      this.logger.info('controller stopped')
    } else {
      // Reconcilers still running past the grace period are told to give up; not awaited.
      reconcileAbort.abort(new ControllerError(`controller ${this.name} stopping: grace period over`))
      this.logger.warn({inFlight: queue.inFlight(), gracePeriodMs: this.gracePeriodMs}, 'controller stopped with reconciles still in flight')
    }
    this.queue = undefined
  }

  private onEvent(event: ResourceEvent<T>): void {
    const id = event.object.id
    if (event.type === 'DELETED') {
      this.tombstones.set(id, event.object)
      this.wheel.remove(id)
      if (!this.queue && this.tombstones.size > MAX_IDLE_TOMBSTONES) {
        const oldest = this.tombstones.keys().next().value
        if (oldest !== undefined) {
          this.tombstones.delete(oldest)
          this.created.delete(oldest)
        }
      }
    } else {
      this.tombstones.delete(id)
    }
    if (this.queue && !this.stopping) this.queue.add(this.keyOf(id))
  }

  private async worker(queue: RateLimitingQueue<string>, signal: AbortSignal): Promise<void> {
    for (;;) {
      // A queued key is taken at once, without a promise to wait on.
      const key = queue.len() > 0 ? queue.getNow() : await queue.get()
      if (key === undefined) return
      if (this.stopping) {
        // Shut down: what is still queued is left for the next run (or the next replica).
        queue.done(key)
        continue
      }
      // The pass is written out here rather than in an async helper: one promise less per key.
      try {
        const id = key.slice(this.resource.length + 1)
        const object = this.informer.get(id)
        const deleted = object ? undefined : this.tombstones.get(id)
        const pass: Pass<T> = {key, id, deleted, started: this.clock.now(), outcome: 'success', settled: true}
        this.inFlight++
        this.metrics?.activeWorkers(this.name, this.inFlight)
        try {
          const request: ReconcileRequest<T> = {key, resource: this.resource, id, object}
          if (deleted) request.deleted = deleted
          const result = await this.reconciler.reconcile(request, signal)
          this.passSucceeded(queue, pass, result)
        } catch (err) {
          this.passFailed(queue, pass, err)
        } finally {
          this.inFlight--
          this.metrics?.activeWorkers(this.name, this.inFlight)
        }
        this.passDone(pass)
      } catch (err) {
        // Reconciler errors are handled above; this is a bug in a hook. Keep the worker.
        this.logger.error({err, key}, 'controller worker error')
      } finally {
        queue.done(key)
      }
    }
  }

  private passSucceeded(queue: RateLimitingQueue<string>, pass: Pass<T>, result: ReconcileResult | void): void {
    const {key} = pass
    this.succeeded(queue, key, pass.id)
    const after = result?.requeueAfterMs
    if (after !== undefined && after > 0) {
      pass.outcome = 'requeue'
      this.counts.requeued++
      queue.addAfter(key, after)
    } else {
      pass.outcome = 'success'
    }
    this.counts.succeeded++
  }

  private passFailed(queue: RateLimitingQueue<string>, pass: Pass<T>, err: unknown): void {
    const {key, id} = pass
    const message = errorMessage(err)
    this.lastError = `${id}: ${message}`
    if (err instanceof TerminalError) {
      pass.outcome = 'terminal'
      this.counts.terminal++
      this.failures.delete(key)
      this.failing.delete(id)
      queue.forget(key)
      this.errors.set(id, {message, terminal: true, at: this.clock.now()})
      this.logger.warn({err, id}, 'reconcile failed for good (terminal error): not retrying')
      return
    }
    pass.outcome = 'error'
    this.counts.failed++
    this.errors.set(id, {message, terminal: false, at: this.clock.now()})
    const failures = (this.failures.get(key) ?? 0) + 1
    if (failures <= this.maxRetries && !this.stopping) {
      this.failures.set(key, failures)
      this.failing.add(id)
      this.counts.retries++
      this.metrics?.reconcileRetried(this.name)
      queue.addRateLimited(key)
      pass.settled = false
      this.logger.debug({err, id, failures}, 'reconcile failed: retrying with backoff')
    } else if (this.stopping) {
      pass.settled = false
    } else {
      this.failures.delete(key)
      this.failing.delete(id)
      queue.forget(key)
      this.counts.givenUp++
      this.metrics?.reconcileGivenUp(this.name)
      this.logger.error({err, id, failures}, `reconcile failed ${failures} times: GIVING UP until the object changes or its next resync`)
    }
  }

  /** After any pass: metrics, then the next resync, or the end of a handled deletion. */
  private passDone(pass: Pass<T>): void {
    const {id, deleted} = pass
    const now = this.clock.now()
    this.metrics?.reconciled(this.name, pass.outcome, (now - pass.started) / 1000)
    const current = this.informer.get(id)
    if (current) {
      this.wheel.schedule(id, now + (this.attention(current, now) ? this.resync.attentionMs : this.resync.stableMs))
    } else if (pass.settled && this.tombstones.get(id) === deleted) {
      // The deletion has been handled (a tombstone set meanwhile means another pass is queued).
      this.tombstones.delete(id)
      this.errors.delete(id)
      this.failing.delete(id)
      this.created.delete(id)
      this.wheel.remove(id)
    }
  }

  private succeeded(queue: RateLimitingQueue<string>, key: string, id: string): void {
    queue.forget(key)
    this.failures.delete(key)
    this.failing.delete(id)
    this.errors.delete(id)
  }

  private attention(object: T, now: number): boolean {
    if (this.failing.has(object.id)) return true
    if (this.needsAttention) {
      try {
        if (this.needsAttention(object)) return true
      } catch (err) {
        this.logger.warn({err, id: object.id}, 'needsAttention threw')
        return true
      }
    }
    const createdMs = this.createdMs(object)
    return createdMs !== undefined && now - createdMs < this.resync.recentMs
  }

  /** created_at in ms, parsed once per id (and again only if created_at changes); undefined if unparsable. */
  private createdMs(object: T): number | undefined {
    const cached = this.created.get(object.id)
    if (cached && cached.at === object.created_at) return cached.ms
    let ms: number | undefined
    try {
      ms = Number(toMicros(object.created_at) / 1000n)
    } catch {
      ms = undefined
    }
    this.created.set(object.id, {at: object.created_at, ms})
    return ms
  }

  private armSweep(): void {
    this.sweepTimer = this.clock.setTimer(() => this.sweep(), this.resync.tickMs)
  }

  /** One tick of the resync wheel: re-enqueue every object that is due. */
  private sweep(): void {
    this.sweepTimer = undefined
    const queue = this.queue
    if (!queue || this.stopping) return
    let due = 0
    for (const id of this.wheel.due(this.clock.now())) {
      if (!this.informer.lister.has(id)) continue
      queue.add(this.keyOf(id))
      due++
    }
    if (due > 0) this.logger.debug({due}, 'resync')
    this.armSweep()
  }
}
