// The buffer between a watch call that pushes messages (grpc-js 'data' events) and a reader
// that pulls them, one at a time (for await) or a burst at a time (nextBatch). Past
// `highWaterMark` unread items the call is paused, so HTTP/2 flow control holds the server
// back while the reader is slow; it resumes once half of them are read. Hand-written rather
// than async generators stacked on Readable's iterator: one resolved promise per item there
// costs several, and a burst costs one promise here.

/** What the queue needs of the call it reads. */
export interface WatchQueueSource {
  pause(): void
  resume(): void
  /** Called once, when the reader is done with the call (end or error read, or return()). */
  close(): void
  /** Resolves when the request has gone out; without it, it counts as sent once opened. */
  sent?: Promise<void>
}

export interface WatchQueueOptions<T extends NonNullable<unknown>> {
  /**
   * Opens the call on the first read, not before. The call feeds the queue with push(),
   * then end() or fail(); the returned controls let the queue pause and close it.
   */
  open(queue: WatchQueue<T>): WatchQueueSource
  /** Unread items past which the call is paused (default 128). */
  highWaterMark?: number
}

export const DEFAULT_WATCH_HIGH_WATER_MARK = 128

/** new: no call yet; open: the call feeds it; ended: the call is over, unread items remain; closed: the reader is done, the call released. */
type State = 'new' | 'open' | 'ended' | 'closed'

type Waiter<T> =
  | {batch: false; resolve: (result: IteratorResult<T>) => void; reject: (err: unknown) => void}
  | {batch: true; resolve: (items: T[] | undefined) => void; reject: (err: unknown) => void}

const DONE: IteratorReturnResult<undefined> = {value: undefined, done: true}

/** Items are never undefined: undefined is how the buffer says it has none. */
export class WatchQueue<T extends NonNullable<unknown>> implements AsyncIterableIterator<T> {
  /** Resolves when the call's request has gone out (see WatchQueueSource.sent); pending until then. */
  readonly sent: Promise<void>
  private readonly options: WatchQueueOptions<T>
  private readonly highWaterMark: number
  private state: State = 'new'
  private source: WatchQueueSource | undefined
  /** Unread items are items[head..]: reading one moves head instead of shifting the array. */
  private items: T[] = []
  private head = 0
  private paused = false
  private failure: Error | undefined
  private waiter: Waiter<T> | undefined
  private markSent: () => void = () => {}

  constructor(options: WatchQueueOptions<T>) {
    this.options = options
    this.highWaterMark = Math.max(2, options.highWaterMark ?? DEFAULT_WATCH_HIGH_WATER_MARK)
    this.sent = new Promise((resolve) => (this.markSent = resolve))
  }

  /** Items received and not yet read. */
  get buffered(): number {
    return this.items.length - this.head
  }

  /** The call has ended or failed (unread items may remain), or the reader is done. */
  get ended(): boolean {
    return this.state === 'ended' || this.state === 'closed'
  }

  /** The call delivered an item; ignored once it has ended. */
  push(item: T): void {
    if (this.state !== 'open') return
    const waiter = this.waiter
    if (waiter) {
      // A reader is waiting, so nothing is buffered: hand the item over directly.
      this.waiter = undefined
      if (waiter.batch) waiter.resolve([item])
      else waiter.resolve({value: item, done: false})
      return
    }
    this.items.push(item)
    if (!this.paused && this.buffered >= this.highWaterMark) {
      this.paused = true
      this.source?.pause()
    }
  }

  /** The call ended cleanly: the reader gets the items before, then the end. */
  end(): void {
    if (this.state !== 'open') return
    this.state = 'ended'
    this.wakeAtEnd()
  }

  /** The call failed: the reader gets the items before, then `error`. */
  fail(error: Error): void {
    if (this.state !== 'open') return
    this.state = 'ended'
    this.failure = error
    this.wakeAtEnd()
  }

  next(): Promise<IteratorResult<T>> {
    if (this.state === 'new') this.open()
    const value = this.items[this.head]
    if (value !== undefined) {
      this.head++
      this.afterRead()
      return Promise.resolve({value, done: false})
    }
    if (this.state === 'open') return new Promise((resolve, reject) => (this.waiter = {batch: false, resolve, reject}))
    const error = this.close()
    return error ? Promise.reject(error) : Promise.resolve(DONE)
  }

  /**
   * Every unread item at once (waits for one if there is none); undefined once the call has
   * ended, rejected with its error if it failed. One promise per burst instead of per item.
   */
  nextBatch(): Promise<T[] | undefined> {
    if (this.state === 'new') this.open()
    if (this.head < this.items.length) return Promise.resolve(this.takeAll())
    if (this.state === 'open') return new Promise((resolve, reject) => (this.waiter = {batch: true, resolve, reject}))
    const error = this.close()
    return error ? Promise.reject(error) : Promise.resolve(undefined)
  }

  /** The reader is done (e.g. it left its for-await loop): unread items are dropped, the call closed. */
  return(): Promise<IteratorResult<T>> {
    const waiter = this.waiter
    this.waiter = undefined
    this.close()
    if (waiter?.batch) waiter.resolve(undefined)
    else waiter?.resolve(DONE)
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  private open(): void {
    this.state = 'open'
    let source: WatchQueueSource
    try {
      source = this.options.open(this)
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)))
      return
    }
    this.source = source
    if (source.sent) source.sent.then(this.markSent, () => undefined)
    else this.markSent()
    // Items pushed while opening may already have reached the mark.
    if (this.paused) source.pause()
  }

  private afterRead(): void {
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head >= this.highWaterMark * 8) {
      // A reader that never quite catches up: drop what it has read.
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    if (this.paused && this.buffered <= this.highWaterMark / 2) {
      this.paused = false
      this.source?.resume()
    }
  }

  private takeAll(): T[] {
    const taken = this.head === 0 ? this.items : this.items.slice(this.head)
    this.items = []
    this.head = 0
    this.afterRead()
    return taken
  }

  /** A reader waiting when the call ends has read everything: it gets the end at once. */
  private wakeAtEnd(): void {
    const waiter = this.waiter
    if (!waiter) return
    this.waiter = undefined
    const error = this.close()
    if (error) waiter.reject(error)
    else if (waiter.batch) waiter.resolve(undefined)
    else waiter.resolve(DONE)
  }

  /** Done reading: releases the call once; returns the error still to be delivered, if any. */
  private close(): Error | undefined {
    const error = this.failure
    this.failure = undefined
    if (this.state === 'closed') return error
    this.state = 'closed'
    this.items = []
    this.head = 0
    this.source?.close()
    return error
  }
}
