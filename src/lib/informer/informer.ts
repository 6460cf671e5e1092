// Keeps a local cache of one resource in step with the server and tells subscribers what
// changed. The server has no resourceVersion and replays nothing, so on every (re)connect the
// watch is opened FIRST and its events buffered, then the resource is relisted and diffed
// against the cache, then the buffered events are applied (by updated_at), then events flow
// live: nothing that happens around a reconnect can fall into a gap. Without a watch (older
// servers, or watchMode 'poll') the informer lists every pollIntervalMs and diffs.
import type {ObjectMeta, WatchEvent} from '../api/types.js'
import {AmbientError, errorMessage} from '../errors.js'
import {silentLogger, type Logger} from '../log.js'
import {Backoff, DEFAULT_BACKOFF, sleep, type BackoffOptions} from './backoff.js'
import {Emitter, type Handler, type ResourceEvent} from './events.js'
import {noopInformerMetrics, type InformerMetrics} from './metrics.js'
import {WatchUnimplementedError, type ResourceSource, type WatchBufferHint} from './source.js'
import {Store, type Lister} from './store.js'

export type WatchMode = 'stream' | 'poll'
export type ConnectionState = 'connecting' | 'listing' | 'watching' | 'polling' | 'backoff' | 'stopped'

export interface InformerStatus {
  resource: string
  /** The cache has held a complete list at least once. */
  synced: boolean
  connection: ConnectionState
  /** 'poll' once the informer fell back to polling (or was told to). */
  mode: WatchMode
  reconnects: number
  lastError?: string
  cacheSize: number
  /** When the watch stream last delivered an event (ms since epoch). */
  lastEventAt?: number
  /** Watching, and the stream has been quiet for idleAfterMs: not an error, worth showing. */
  idle: boolean
}

export interface InformerOptions<T extends ObjectMeta> {
  source: ResourceSource<T>
  logger?: Logger
  /** Poll period when there is no watch (default 5000). */
  pollIntervalMs?: number
  watchMode?: WatchMode
  backoff?: Partial<BackoffOptions>
  /** A watch quiet for this long is reported `idle` (default 300000). */
  idleAfterMs?: number
  metrics?: InformerMetrics
  /** Waits `ms` or until `signal` aborts; never rejects. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>
  random?: () => number
  now?: () => number
}

/**
 * Optional extra a source's watch stream may carry: resolves once the server has accepted the
 * stream, so the relist starts only after changes are sure to be delivered.
 */
export interface WatchOpenedHint {
  readonly opened?: Promise<unknown>
}

export class InformerError extends AmbientError {
  constructor(message: string) {
    super(message, 'ERR_INFORMER')
  }
}

type WatchOutcome = 'ended' | 'unimplemented' | 'unimplemented-listed'

/** Lists read again when deletes keep arriving while pages are read. */
const MAX_LIST_ATTEMPTS = 5

function countDeletes<T extends ObjectMeta>(events: readonly WatchEvent<T>[]): number {
  let n = 0
  for (const e of events) if (e.type === 'DELETED') n++
  return n
}

export class Informer<T extends ObjectMeta> {
  readonly resource: string
  private readonly source: ResourceSource<T>
  private readonly logger: Logger
  private readonly pollIntervalMs: number
  private readonly idleAfterMs: number
  private readonly metrics: InformerMetrics
  private readonly delay: (ms: number, signal: AbortSignal) => Promise<void>
  private readonly now: () => number
  private readonly backoff: Backoff
  private readonly store: Store<T>
  private readonly events: Emitter<ResourceEvent<T>>
  private readonly statusEvents: Emitter<InformerStatus>
  private mode: WatchMode
  private connection: ConnectionState = 'stopped'
  private synced = false
  private reconnects = 0
  private lastError: string | undefined
  private lastEventAt: number | undefined
  private liveSince: number | undefined
  private syncWaiters = new Set<() => void>()
  /** Cached ids the last untrusted list lacked: a second list without them deletes them. */
  private unconfirmedAbsent = new Set<string>()
  private controller: AbortController | undefined
  private loop: Promise<void> | undefined

  constructor(options: InformerOptions<T>) {
    this.source = options.source
    this.resource = options.source.resource
    this.logger = (options.logger ?? silentLogger).child({resource: this.resource})
    this.pollIntervalMs = options.pollIntervalMs ?? 5000
    this.idleAfterMs = options.idleAfterMs ?? 300_000
    this.metrics = options.metrics ?? noopInformerMetrics
    this.delay = options.delay ?? sleep
    this.now = options.now ?? Date.now
    this.backoff = new Backoff({...DEFAULT_BACKOFF, ...options.backoff}, options.random)
    this.mode = options.watchMode === 'poll' || !options.source.watch ? 'poll' : 'stream'
    this.store = new Store<T>(this.resource)
    const onHandlerError = (err: unknown): void => this.logger.error({err}, 'informer event handler threw')
    this.events = new Emitter(onHandlerError)
    this.statusEvents = new Emitter(onHandlerError)
    this.metrics.registerResource(this.resource)
  }

  /** Subscribes to cache changes; returns the unsubscribe function. */
  on(handler: Handler<ResourceEvent<T>>): () => void {
    return this.events.on(handler)
  }

  /** Subscribes to status changes (connection state, sync, errors). */
  onStatus(handler: Handler<InformerStatus>): () => void {
    return this.statusEvents.on(handler)
  }

  /**
   * Starts listing and watching in the background and returns at once; the informer runs
   * until `signal` aborts or stop() is called. Use waitForSync() to wait for the first list.
   */
  start(signal: AbortSignal): Promise<void> {
    if (this.loop) return Promise.reject(new InformerError(`informer for ${this.resource} already started`))
    const controller = new AbortController()
    this.controller = controller
    const abort = (): void => controller.abort()
    if (signal.aborted) abort()
    else signal.addEventListener('abort', abort, {once: true})
    this.loop = this.run(controller.signal)
      .catch((err: unknown) => this.logger.error({err}, 'informer stopped on an unexpected error'))
      .finally(() => {
        signal.removeEventListener('abort', abort)
        this.setConnection('stopped')
        this.wakeSyncWaiters()
      })
    return Promise.resolve()
  }

  /** Stops and waits for the informer's loop to end. */
  async stop(): Promise<void> {
    this.controller?.abort()
    await this.loop
  }

  /** Resolves when the loop has ended (after stop or abort); at once if never started. */
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve()
  }

  hasSynced(): boolean {
    return this.synced
  }

  /** Resolves true once synced, false if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true)
    if (signal?.aborted || this.controller?.signal.aborted) return Promise.resolve(false)
    return new Promise((resolve) => {
      const finish = (): void => {
        this.syncWaiters.delete(finish)
        signal?.removeEventListener('abort', finish)
        resolve(this.synced)
      }
      this.syncWaiters.add(finish)
      signal?.addEventListener('abort', finish, {once: true})
    })
  }

  get(id: string): T | undefined {
    return this.store.get(id)
  }

  list(): T[] {
    return this.store.list()
  }

  /** A read-only view of the cache for reconcilers. */
  get lister(): Lister<T> {
    return this.store
  }

  status(): InformerStatus {
    const quietSince = this.lastEventAt === undefined ? this.liveSince : Math.max(this.lastEventAt, this.liveSince ?? 0)
    return {
      resource: this.resource,
      synced: this.synced,
      connection: this.connection,
      mode: this.mode,
      reconnects: this.reconnects,
      ...(this.lastError !== undefined && {lastError: this.lastError}),
      cacheSize: this.store.size,
      ...(this.lastEventAt !== undefined && {lastEventAt: this.lastEventAt}),
      idle: this.connection === 'watching' && quietSince !== undefined && this.now() - quietSince >= this.idleAfterMs,
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    let listed = false
    while (!signal.aborted) {
      if (this.mode === 'poll') return this.poll(signal, listed)
      let outcome: WatchOutcome | undefined
      let failure: unknown
      try {
        outcome = await this.watchOnce(signal)
      } catch (err) {
        failure = err
      }
      if (signal.aborted) return
      if (outcome === 'unimplemented' || outcome === 'unimplemented-listed') {
        this.logger.info('server has no watch: falling back to polling')
        this.mode = 'poll'
        listed = outcome === 'unimplemented-listed'
        continue
      }
      if (this.liveSince !== undefined && this.now() - this.liveSince >= this.backoff.options.resetAfterMs) this.backoff.reset()
      this.liveSince = undefined
      await this.retryLater(signal, failure, failure === undefined ? 'watch stream ended' : 'watch failed')
    }
  }

  /** One connection: open the watch, relist, replay the buffer, then follow the stream. */
  private async watchOnce(signal: AbortSignal): Promise<WatchOutcome> {
    const watch = this.source.watch
    if (!watch) return 'unimplemented'
    const stream = new AbortController()
    const abortStream = (): void => stream.abort()
    signal.addEventListener('abort', abortStream, {once: true})
    let closed = false
    let live = false
    let ended = false
    let streamError: unknown
    const buffer: WatchEvent<T>[] = []
    try {
      this.setConnection('connecting')
      let iterable: AsyncIterable<WatchEvent<T>>
      try {
        iterable = watch.call(this.source, stream.signal)
      } catch (err) {
        if (err instanceof WatchUnimplementedError) return 'unimplemented'
        throw err
      }
      let notifyEnded!: () => void
      const endedPromise = new Promise<void>((resolve) => (notifyEnded = resolve))
      // Started before the list: iterating opens the stream, and events queue up meanwhile.
      void (async () => {
        try {
          const takeBuffered = (iterable as WatchBufferHint<T>).takeBuffered?.bind(iterable)
          const handle = (event: WatchEvent<T>): void => {
            if (live) this.applyWatchEvent(event)
            else buffer.push(event)
          }
          for await (const event of iterable) {
            if (closed) break
            this.lastEventAt = this.now()
            handle(event)
            if (takeBuffered) for (const more of takeBuffered()) if (!closed) handle(more)
          }
        } catch (err) {
          streamError = err
        } finally {
          ended = true
          notifyEnded()
        }
      })()
      const opened = (iterable as WatchOpenedHint).opened
      if (opened instanceof Promise) await Promise.race([opened.catch(() => undefined), endedPromise])
      if (ended && streamError instanceof WatchUnimplementedError) return 'unimplemented'

      this.setConnection('listing')
      // The server pages by offset: a delete while pages are read shifts a live object onto a
      // page already read, so it is in no page. A list during which a DELETED arrived may lack
      // objects: it may not delete anything, and is read again once its events are applied.
      for (let attempt = 1; ; attempt++) {
        const objects = await this.source.list(stream.signal)
        if (signal.aborted) return 'ended'
        const clean = countDeletes(buffer) === 0
        this.applyList(objects, {trustAbsence: clean})
        if (ended && streamError instanceof WatchUnimplementedError) {
          this.markSynced()
          return 'unimplemented-listed'
        }
        this.applyBuffered(buffer)
        buffer.length = 0
        if (clean) break
        if (attempt === MAX_LIST_ATTEMPTS) {
          this.logger.warn({attempts: attempt}, 'the list kept changing while read; absent objects are kept until a later list confirms them')
          break
        }
        this.logger.debug({attempt}, 'objects were deleted while listing: listing again')
      }
      live = true
      this.markSynced()
      if (!ended) {
        this.liveSince = this.now()
        this.setConnection('watching')
        this.logger.debug({cacheSize: this.store.size}, 'watching')
        await endedPromise
      }
      if (signal.aborted) return 'ended'
      if (streamError instanceof WatchUnimplementedError) return 'unimplemented-listed'
      if (streamError !== undefined) throw streamError
      return 'ended'
    } finally {
      closed = true
      stream.abort()
      signal.removeEventListener('abort', abortStream)
    }
  }

  private async poll(signal: AbortSignal, listed: boolean): Promise<void> {
    let wait = listed
    while (!signal.aborted) {
      if (wait) {
        this.setConnection('polling')
        await this.delay(this.pollIntervalMs, signal)
        if (signal.aborted) return
      }
      wait = true
      try {
        this.setConnection('listing')
        const objects = await this.source.list(signal)
        if (signal.aborted) return
        // Nothing tells a poller that a delete shifted the pages it read: an object is gone
        // only when two lists in a row lack it.
        this.applyList(objects, {trustAbsence: false})
        this.markSynced()
        this.backoff.reset()
      } catch (err) {
        if (signal.aborted) return
        await this.retryLater(signal, err, 'list failed')
        wait = false
      }
    }
  }

  private async retryLater(signal: AbortSignal, err: unknown, why: string): Promise<void> {
    const delayMs = this.backoff.next()
    this.reconnects++
    this.metrics.informerReconnect(this.resource)
    if (err !== undefined) this.lastError = errorMessage(err)
    this.logger.warn({err, delayMs, attempt: this.backoff.attempts, reconnects: this.reconnects}, `${why}: retrying`)
    this.setConnection('backoff')
    await this.delay(delayMs, signal)
  }

  /**
   * Makes the cache equal to a full list. With `trustAbsence` false, a cached object missing
   * from the list is kept (no DELETED) unless the previous list lacked it too.
   */
  private applyList(objects: readonly T[], options: {trustAbsence: boolean}): void {
    let complete: readonly T[] = objects
    const unconfirmed = new Set<string>()
    if (!options.trustAbsence && this.store.size > 0) {
      const listed = new Set<string>()
      for (const o of objects) listed.add(o.id)
      const kept: T[] = []
      for (const cached of this.store.list()) {
        if (listed.has(cached.id) || this.unconfirmedAbsent.has(cached.id)) continue
        unconfirmed.add(cached.id)
        kept.push(cached)
      }
      if (kept.length > 0) complete = [...objects, ...kept]
    }
    this.unconfirmedAbsent = unconfirmed
    for (const event of this.store.replace(complete)) this.emit(event)
    this.metrics.informerCacheSize(this.resource, this.store.size)
  }

  private applyBuffered(buffer: readonly WatchEvent<T>[]): void {
    // An object deleted later in the buffer needs no intermediate states: only its deletion.
    const deletedLater = new Set<string>()
    for (const event of buffer) if (event.type === 'DELETED') deletedLater.add(event.id)
    for (const event of buffer) {
      if (event.type !== 'DELETED' && deletedLater.has(event.id)) continue
      this.applyWatchEvent(event)
    }
  }

  private applyWatchEvent(event: WatchEvent<T>): void {
    const change = this.store.apply(event)
    if (!change) return
    this.emit(change)
    if (change.type !== 'MODIFIED') this.metrics.informerCacheSize(this.resource, this.store.size)
  }

  private emit(event: ResourceEvent<T>): void {
    this.metrics.informerEvent(this.resource, event.type)
    this.events.emit(event)
  }

  private markSynced(): void {
    if (this.synced) return
    this.synced = true
    this.metrics.informerSynced(this.resource, true)
    this.logger.info({cacheSize: this.store.size, mode: this.mode}, 'informer synced')
    this.wakeSyncWaiters()
    this.statusEvents.emit(this.status())
  }

  private wakeSyncWaiters(): void {
    for (const waiter of [...this.syncWaiters]) waiter()
  }

  private setConnection(connection: ConnectionState): void {
    if (this.connection === connection) return
    this.connection = connection
    this.statusEvents.emit(this.status())
  }
}
