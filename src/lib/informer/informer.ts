// Keeps a local cache of one resource in step with the server and tells subscribers what
// changed. Without a watch (older servers, or watchMode 'poll') it lists every pollIntervalMs
// and diffs. With one, each connection goes:
//
//   open the watch and read it in the background (events held) -> list at once -> apply the
//   list, then the held events (by updated_at) -> synced, live -> relist once more when the
//   watch request has been out for confirmRelistAfterMs (events held again meanwhile) -> live.
//
// Why that is gap-free. The server has no resourceVersion and replays nothing: a stream
// carries only changes made after the server registered it, and nothing tells the client
// when that happened (the real server, grpc-go, sends the stream's headers with its first
// event, so an idle stream shows nothing at all). Call that moment R. A change before R is
// not on the stream but is in any list read after it; a change after R is on the stream.
// The first list starts at once, so the cache is complete at once (ready without waiting for
// the server), but a change between that list's read and R can be in neither. The
// confirmation relist starts only after R: registration takes one request's trip and a
// handler start, and the relist waits confirmRelistAfterMs (default 2 s, orders of magnitude
// more) after the request went out on a connected channel. So every change is in the first
// list, the stream, or the relist. Events held during a list are applied after it, and an
// event never overwrites a newer cached state, so the order of arrival cannot regress an
// object. The one assumption, named: a server that takes longer than confirmRelistAfterMs to
// register a stream it has received can lose changes made in that window until the next
// reconnect; raise the setting (WATCH_RELIST_DELAY_SECONDS) for such a server.
//
// Deletes need one more rule. The server pages by offset, so a delete while pages are read
// shifts a live object onto a page already read: it is in no page. A list during which a
// DELETED arrived is read again; but before R the DELETED may be on no stream, so the first
// list of a connection never deletes what it lacks (it could be such an object): absence is
// decided by the confirmation relist, read after R.
import type {ObjectMeta, WatchEvent} from '../api/types.js'
import {errorMessage} from '../errors.js'
import {silentLogger, type Logger} from '../log.js'
import {sleep} from '../util/abort.js'
import {Backoff, DEFAULT_BACKOFF} from '../util/backoff.js'
import {Emitter, type Handler, type ResourceEvent} from './events.js'
import {noopInformerMetrics, type InformerMetrics} from './metrics.js'
import {
  DEFAULT_CONFIRM_RELIST_AFTER_MS,
  InformerError,
  type ConnectionState,
  type InformerOptions,
  type InformerStatus,
  type WatchMode,
} from './options.js'
import {SharedStrings} from './shared-strings.js'
import {StreamFollower} from './follower.js'
import {SyncLatch} from './sync-latch.js'
import {WatchUnimplementedError, type ResourceSource, type WatchStream} from '../api/watch-source.js'
import {Store, type Lister} from './store.js'

export {
  DEFAULT_CONFIRM_RELIST_AFTER_MS,
  InformerError,
  type ConnectionState,
  type InformerOptions,
  type InformerStatus,
  type WatchMode,
} from './options.js'

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
  private readonly confirmRelistAfterMs: number
  private readonly delay: (ms: number, signal: AbortSignal) => Promise<void>
  private readonly confirmDelay: (ms: number, signal: AbortSignal) => Promise<void>
  private readonly now: () => number
  private readonly backoff: Backoff
  private readonly store: Store<T>
  private readonly sharedStrings = new SharedStrings()
  /** Each page of a list as it arrives: its repeated values stored once (shared-strings.ts). */
  private readonly sharePage = (objects: readonly ObjectMeta[]): void => {
    for (const object of objects) this.sharedStrings.share(object)
  }
  private readonly events: Emitter<ResourceEvent<T>>
  private readonly statusEvents: Emitter<InformerStatus>
  private mode: WatchMode
  private connection: ConnectionState = 'stopped'
  private readonly sync = new SyncLatch()
  private reconnects = 0
  private lastError: string | undefined
  private lastEventAt: number | undefined
  private liveSince: number | undefined
  private controller: AbortController | undefined
  private loop: Promise<void> | undefined

  constructor(options: InformerOptions<T>) {
    this.source = options.source
    this.resource = options.source.resource
    this.logger = (options.logger ?? silentLogger).child({resource: this.resource})
    this.pollIntervalMs = options.pollIntervalMs ?? 5000
    this.idleAfterMs = options.idleAfterMs ?? 300_000
    this.metrics = options.metrics ?? noopInformerMetrics
    this.confirmRelistAfterMs = options.confirmRelistAfterMs ?? DEFAULT_CONFIRM_RELIST_AFTER_MS
    this.delay = options.delay ?? sleep
    this.confirmDelay = options.confirmDelay ?? sleep
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
        this.sync.wake()
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
    return this.sync.synced
  }

  /** Resolves true once synced, false if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (!this.sync.synced && this.controller?.signal.aborted) return Promise.resolve(false)
    return this.sync.wait(signal)
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
      synced: this.sync.synced,
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

  /** One connection: open the watch, list, replay, go live, confirm with one more list, follow. */
  private async watchOnce(signal: AbortSignal): Promise<WatchOutcome> {
    const watch = this.source.watch
    if (!watch) return 'unimplemented'
    const connection = new AbortController()
    const abortConnection = (): void => connection.abort()
    signal.addEventListener('abort', abortConnection, {once: true})
    let follower: StreamFollower<T> | undefined
    try {
      this.setConnection('connecting')
      let stream: WatchStream<T>
      try {
        stream = watch.call(this.source, connection.signal)
      } catch (err) {
        if (err instanceof WatchUnimplementedError) return 'unimplemented'
        throw err
      }
      // Reading starts now (it opens the call); events are held until the list is applied.
      follower = new StreamFollower<T>({
        stream,
        apply: (event) => this.applyWatchEvent(event),
        received: () => (this.lastEventAt = this.now()),
      })
      const sentAt = this.sentTime(stream)
      // Until the stream is surely registered, a DELETED that shifted the offset pages may be
      // on no stream, so this list cannot tell "deleted" from "skipped": nothing it lacks is
      // deleted now (the confirmation relist decides).
      if (!(await this.listAndReplay(connection.signal, follower, {trustAbsence: false}))) return 'ended'
      this.markSynced()
      if (follower.unimplemented) return 'unimplemented-listed'
      if (!follower.done) {
        this.liveSince = this.now()
        this.setConnection('watching')
        this.logger.debug({cacheSize: this.store.size}, 'watching')
        await this.confirmRelist(connection.signal, follower, sentAt)
        await follower.ended
      }
      if (signal.aborted) return 'ended'
      if (follower.unimplemented) return 'unimplemented-listed'
      if (follower.error !== undefined) throw follower.error
      return 'ended'
    } finally {
      follower?.close()
      connection.abort()
      signal.removeEventListener('abort', abortConnection)
    }
  }

  /** When the watch request went out (our clock), or undefined if it never did. */
  private sentTime(stream: WatchStream<T>): Promise<number | undefined> {
    if (!stream.sent) return Promise.resolve(this.now())
    return stream.sent.then(
      () => this.now(),
      () => undefined,
    )
  }

  /**
   * Lists while the follower holds the stream's events, makes the cache equal to the list
   * (deleting what it lacks only when `trustAbsence`), applies the held events, and goes
   * live. False when aborted.
   */
  private async listAndReplay(signal: AbortSignal, follower: StreamFollower<T>, options: {trustAbsence: boolean}): Promise<boolean> {
    follower.hold()
    this.setConnection('listing')
    // The server pages by offset: a delete while pages are read shifts a live object onto a
    // page already read, so it is in no page. A list during which a DELETED arrived may lack
    // objects: it may not delete anything, and is read again once its events are applied.
    for (let attempt = 1; ; attempt++) {
      const objects = await this.source.list(signal, this.sharePage)
      if (signal.aborted) return false
      const held = follower.take()
      const clean = countDeletes(held) === 0
      this.applyList(objects, {trustAbsence: options.trustAbsence && clean})
      if (follower.unimplemented) return true
      this.applyHeld(held)
      if (clean) break
      if (attempt === MAX_LIST_ATTEMPTS) {
        this.logger.warn({attempts: attempt}, 'the list kept changing while read; absent objects are kept until a later list confirms them')
        break
      }
      this.logger.debug({attempt}, 'objects were deleted while listing: listing again')
    }
    follower.goLive()
    return true
  }

  /** The relist that closes the window before the server registered the stream (see the top). */
  private async confirmRelist(signal: AbortSignal, follower: StreamFollower<T>, sentAt: Promise<number | undefined>): Promise<void> {
    const at = await Promise.race([sentAt, follower.ended.then(() => undefined)])
    if (at === undefined || follower.done || signal.aborted) return
    const wait = at + this.confirmRelistAfterMs - this.now()
    if (wait > 0) await Promise.race([this.confirmDelay(wait, signal), follower.ended])
    if (follower.done || signal.aborted) return
    this.logger.debug({afterMs: this.confirmRelistAfterMs}, 'confirmation relist')
    if (!(await this.listAndReplay(signal, follower, {trustAbsence: true}))) return
    if (!follower.done) this.setConnection('watching')
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
        const objects = await this.source.list(signal, this.sharePage)
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

  private applyList(objects: readonly T[], options: {trustAbsence: boolean}): void {
    for (const event of this.store.applyList(objects, options)) this.emit(event)
    this.metrics.informerCacheSize(this.resource, this.store.size)
  }

  private applyHeld(events: readonly WatchEvent<T>[]): void {
    for (const event of this.store.applyHeld(events)) this.emit(event)
    this.metrics.informerCacheSize(this.resource, this.store.size)
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
    if (!this.sync.set()) return
    this.metrics.informerSynced(this.resource, true)
    this.logger.info({cacheSize: this.store.size, mode: this.mode}, 'informer synced')
    this.statusEvents.emit(this.status())
  }

  private setConnection(connection: ConnectionState): void {
    if (this.connection === connection) return
    this.connection = connection
    this.statusEvents.emit(this.status())
  }
}
