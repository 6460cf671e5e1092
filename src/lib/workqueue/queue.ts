// The work queue of the controller pattern (client-go util/workqueue semantics): a FIFO of
// keys plus a dirty set and a processing set. A key is queued at most once; a key added while
// a worker holds it is marked dirty and queued again when the worker calls done(), so no two
// workers ever hold the same key and a burst of changes collapses into one more pass.
// add() never waits: producers (informer handlers) can enqueue any number of keys.
import {realClock, type Clock, type Timer} from './clock.js'
import {Deque} from './deque.js'
import {noopWorkQueueMetrics, type UnfinishedWork, type WorkQueueMetrics, type WorkQueueMetricsProvider} from './metrics.js'

export interface WorkQueueOptions {
  /** Label of the queue's metrics (`name`), usually the controller's name. */
  name?: string
  clock?: Clock
  metrics?: WorkQueueMetricsProvider
}

export class WorkQueue<K = string> {
  readonly name: string
  protected readonly clock: Clock
  protected readonly metrics: WorkQueueMetrics
  private readonly fifo = new Deque<K>()
  /** Keys that need a pass: every queued key, plus held keys added again. */
  private readonly dirty = new Set<K>()
  /** Keys held by a worker -> when it took them. */
  private readonly processing = new Map<K, number>()
  /** When each dirty key was first added, for queue latency. */
  private readonly addedAt = new Map<K, number>()
  /** Workers parked in get(); non-empty only while the FIFO is empty. */
  private readonly waiters = new Deque<(key: K | undefined) => void>()
  private readonly drainWaiters = new Set<() => void>()
  private shuttingDown = false

  constructor(options: WorkQueueOptions = {}) {
    this.name = options.name ?? ''
    this.clock = options.clock ?? realClock
    this.metrics = options.metrics?.forQueue(this.name, () => this.unfinishedWork()) ?? noopWorkQueueMetrics
  }

  /** Marks `key` as needing a pass. No-op if already queued or after shutdown. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return
    this.dirty.add(key)
    this.addedAt.set(key, this.clock.now())
    this.metrics.add()
    // A held key is queued again by done(), keeping one worker per key.
    if (this.processing.has(key)) return
    this.fifo.push(key)
    this.dispatch()
  }

  /**
   * The next key to work on; the caller must call done(key) when finished. Resolves
   * undefined once the queue is shut down and has no queued keys left.
   */
  get(): Promise<K | undefined> {
    if (this.fifo.length > 0) return Promise.resolve(this.take())
    if (this.shuttingDown) return Promise.resolve(undefined)
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /**
   * get() without the promise: the next queued key (the caller must call done(key)), or
   * undefined when none is queued (then use get() to wait).
   */
  getNow(): K | undefined {
    return this.fifo.length > 0 ? this.take() : undefined
  }

  /** Releases a key taken with get(); queues it again if it was added meanwhile. */
  done(key: K): void {
    const started = this.processing.get(key)
    if (started === undefined) return
    this.processing.delete(key)
    this.metrics.worked((this.clock.now() - started) / 1000)
    if (this.dirty.has(key)) {
      this.fifo.push(key)
      this.dispatch()
    } else if (this.processing.size === 0) {
      this.notifyDrained()
    }
  }

  /** Keys waiting for a worker. */
  len(): number {
    return this.fifo.length
  }

  /** Keys currently held by workers. */
  inFlight(): number {
    return this.processing.size
  }

  /** Whether `key` is waiting for a pass (queued, or held and added again). */
  isDirty(key: K): boolean {
    return this.dirty.has(key)
  }

  /** Whether `key` is queued, dirty or being processed. */
  has(key: K): boolean {
    return this.dirty.has(key) || this.processing.has(key)
  }

  isShuttingDown(): boolean {
    return this.shuttingDown
  }

  /**
   * Ignores further adds; parked workers get undefined, and get() keeps handing out the
   * keys still queued until none are left. Also ends a pending shutDownWithDrain().
   */
  shutDown(): void {
    this.beginShutdown()
    this.notifyDrained()
  }

  /**
   * Shuts down, then waits until no key is held by a worker (done() called for each), or
   * `graceMs` elapsed. Resolves true when drained, false on timeout.
   */
  shutDownWithDrain(graceMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    this.beginShutdown()
    if (this.processing.size === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      let timer: Timer | undefined
      const onDrained = (): void => {
        timer?.cancel()
        this.drainWaiters.delete(onDrained)
        resolve(this.processing.size === 0)
      }
      this.drainWaiters.add(onDrained)
      if (Number.isFinite(graceMs)) timer = this.clock.setTimer(onDrained, graceMs)
    })
  }

  /** Read at scrape time by the metrics provider. */
  unfinishedWork(): UnfinishedWork {
    const now = this.clock.now()
    let unfinishedSeconds = 0
    let longestSeconds = 0
    for (const started of this.processing.values()) {
      const seconds = (now - started) / 1000
      unfinishedSeconds += seconds
      if (seconds > longestSeconds) longestSeconds = seconds
    }
    return {unfinishedSeconds, longestSeconds}
  }

  private beginShutdown(): void {
    this.shuttingDown = true
    // Waiters exist only while the FIFO is empty, so nothing queued is skipped.
    for (let w = this.waiters.shift(); w; w = this.waiters.shift()) w(undefined)
  }

  private dispatch(): void {
    while (this.waiters.length > 0 && this.fifo.length > 0) {
      const waiter = this.waiters.shift() as (key: K | undefined) => void
      waiter(this.take())
    }
    this.metrics.depth(this.fifo.length)
  }

  private take(): K {
    const key = this.fifo.shift() as K
    const now = this.clock.now()
    this.dirty.delete(key)
    this.processing.set(key, now)
    const added = this.addedAt.get(key)
    this.addedAt.delete(key)
    if (added !== undefined) this.metrics.queued((now - added) / 1000)
    this.metrics.depth(this.fifo.length)
    return key
  }

  private notifyDrained(): void {
    for (const waiter of [...this.drainWaiters]) waiter()
  }
}
