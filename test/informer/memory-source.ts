// An in-memory server that behaves like the contract's watch semantics, for informer and
// controller tests: writes bump a microsecond updated_at clock; a stream only carries changes
// made after it opened; CREATED/UPDATED read the object when sent (so an event can carry a
// newer state, and two changes can arrive as two events with the same state); DELETED carries
// only the id; streams can be killed (like UNAVAILABLE); an UNIMPLEMENTED variant; no watch.
// Like the real server, a stream says nothing until its first event, and it can be registered
// late (`lateRegistration`): changes before registration are not on it.
import {MicrosecondClock} from '../../src/lib/api/time.js'
import type {ObjectMeta, WatchEvent} from '../../src/lib/api/types.js'
import {AmbientError} from '../../src/lib/errors.js'
import {WatchUnimplementedError, type ResourceSource} from '../../src/lib/api/watch-source.js'

export interface Thing extends ObjectMeta {
  name: string
  phase?: string
  generation: number
}

export class StreamKilledError extends AmbientError {
  constructor() {
    super('stream killed (UNAVAILABLE)', 'ERR_TEST_UNAVAILABLE')
  }
}

export class ListFailedError extends AmbientError {
  constructor() {
    super('list failed (UNAVAILABLE)', 'ERR_TEST_LIST')
  }
}

type Pending = {type: 'CREATED' | 'UPDATED' | 'DELETED'; id: string}

class Stream implements AsyncIterator<WatchEvent<Thing>> {
  private readonly pending: Pending[] = []
  private waiter: {resolve: (r: IteratorResult<WatchEvent<Thing>>) => void; reject: (e: unknown) => void} | undefined
  private failure: unknown
  private finished = false
  private flushScheduled = false

  constructor(
    private readonly server: MemoryServer,
    signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.end(), {once: true})
  }

  get open(): boolean {
    return !this.finished && this.failure === undefined
  }

  push(event: Pending): void {
    if (!this.open) return
    this.pending.push(event)
    this.scheduleFlush()
  }

  end(failure?: unknown): void {
    if (!this.open) return
    if (failure === undefined) this.finished = true
    else {
      this.failure = failure
      // A killed stream loses whatever it had not sent yet.
      this.pending.length = 0
    }
    this.server.detach(this)
    this.scheduleFlush()
  }

  next(): Promise<IteratorResult<WatchEvent<Thing>>> {
    return new Promise((resolve, reject) => {
      this.waiter = {resolve, reject}
      this.scheduleFlush()
    })
  }

  return(): Promise<IteratorResult<WatchEvent<Thing>>> {
    this.end()
    return Promise.resolve({done: true, value: undefined})
  }

  // Delivery is deferred, like a network hop: the object is read at send time, not at write time.
  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      this.flush()
    })
  }

  private flush(): void {
    const waiter = this.waiter
    if (!waiter) return
    while (this.pending.length > 0) {
      const event = this.pending.shift() as Pending
      if (event.type === 'DELETED') {
        this.waiter = undefined
        waiter.resolve({done: false, value: {type: 'DELETED', id: event.id}})
        return
      }
      const object = this.server.read(event.id)
      // Gone by the time it is sent: the server has nothing to send for it.
      if (!object) continue
      this.waiter = undefined
      waiter.resolve({done: false, value: {type: event.type, id: event.id, object}})
      return
    }
    if (this.failure !== undefined) {
      this.waiter = undefined
      waiter.reject(this.failure)
    } else if (this.finished) {
      this.waiter = undefined
      waiter.resolve({done: true, value: undefined})
    }
  }
}

export interface MemorySourceOptions {
  /** 'stream' (default), 'unimplemented' (watch rejects), 'none' (no watch method). */
  watch?: 'stream' | 'unimplemented' | 'none'
  resource?: string
}

export class MemoryServer {
  private readonly items = new Map<string, Thing>()
  private readonly clock = new MicrosecondClock()
  private readonly streams = new Set<Stream>()
  private nextId = 1
  /** Runs after a list request arrives, before the snapshot is taken. */
  beforeSnapshot: (() => void | Promise<void>) | undefined
  /** Runs after the snapshot is taken, before the list response arrives. */
  afterSnapshot: (() => void | Promise<void>) | undefined
  /** Lists fail while this is > 0 (decremented per failed list). */
  failLists = 0
  /** Watches fail on open while this is > 0 (decremented per failed watch). */
  failWatches = 0
  /** Event-loop turns a list response takes after its snapshot (a slow, paged list). */
  listLatencyTurns = 20
  lists = 0
  watches = 0
  /**
   * New streams are registered only by registerPending() (the server has received the call
   * but not subscribed it yet): changes meanwhile are not on them.
   */
  lateRegistration = false
  private readonly unregistered = new Set<Stream>()

  create(name: string, phase?: string): Thing {
    const now = this.clock.next()
    const id = `id-${String(this.nextId++).padStart(6, '0')}`
    const thing: Thing = {
      id,
      kind: 'Thing',
      href: `/things/${id}`,
      created_at: now,
      updated_at: now,
      name,
      generation: 1,
      ...(phase !== undefined && {phase}),
    }
    this.items.set(id, thing)
    this.broadcast({type: 'CREATED', id})
    return structuredClone(thing)
  }

  update(id: string, patch: Partial<Pick<Thing, 'name' | 'phase'>>): Thing {
    const old = this.items.get(id)
    if (!old) throw new Error(`no ${id}`)
    const next: Thing = {...old, ...patch, generation: old.generation + 1, updated_at: this.clock.next()}
    this.items.set(id, next)
    this.broadcast({type: 'UPDATED', id})
    return structuredClone(next)
  }

  delete(id: string): void {
    if (!this.items.delete(id)) throw new Error(`no ${id}`)
    this.broadcast({type: 'DELETED', id})
  }

  /** Sends one more UPDATED for `id` without a write: the same state twice. */
  resend(id: string): void {
    this.broadcast({type: 'UPDATED', id})
  }

  read(id: string): Thing | undefined {
    const thing = this.items.get(id)
    return thing && structuredClone(thing)
  }

  ids(): string[] {
    return [...this.items.keys()]
  }

  snapshot(): Map<string, Thing> {
    return new Map([...this.items].map(([id, t]) => [id, structuredClone(t)]))
  }

  /** Ends every open stream with an error, as when the server's broker goes down. */
  killStreams(): number {
    const open = [...this.streams, ...[...this.unregistered].filter((s) => s.open)]
    for (const stream of open) stream.end(new StreamKilledError())
    return open.length
  }

  openStreams(): number {
    return this.streams.size
  }

  /** Registers the streams opened but not yet registered; returns how many. */
  registerPending(): number {
    const pending = [...this.unregistered].filter((s) => s.open)
    this.unregistered.clear()
    for (const stream of pending) this.streams.add(stream)
    return pending.length
  }

  pendingRegistrations(): number {
    return [...this.unregistered].filter((s) => s.open).length
  }

  detach(stream: Stream): void {
    this.streams.delete(stream)
    this.unregistered.delete(stream)
  }

  source(options: MemorySourceOptions = {}): ResourceSource<Thing> {
    const resource = options.resource ?? 'things'
    const mode = options.watch ?? 'stream'
    const list = async (signal: AbortSignal): Promise<Thing[]> => {
      this.lists++
      await new Promise((r) => setImmediate(r))
      if (this.failLists > 0) {
        this.failLists--
        throw new ListFailedError()
      }
      await this.beforeSnapshot?.()
      const items = [...this.items.values()].map((t) => structuredClone(t))
      await this.afterSnapshot?.()
      for (let i = 0; i < this.listLatencyTurns; i++) await new Promise((r) => setImmediate(r))
      signal.throwIfAborted()
      return items
    }
    if (mode === 'none') return {resource, list}
    const watch = (signal: AbortSignal): AsyncIterable<WatchEvent<Thing>> => {
      this.watches++
      if (mode === 'unimplemented') {
        return {
          [Symbol.asyncIterator]: () => ({next: () => Promise.reject(new WatchUnimplementedError(resource))}),
        }
      }
      // Subscribed as soon as the call is made (later writes are delivered), or later.
      const stream = new Stream(this, signal)
      if (this.failWatches > 0) {
        this.failWatches--
        stream.end(new StreamKilledError())
      } else if (this.lateRegistration) {
        this.unregistered.add(stream)
      } else {
        this.streams.add(stream)
      }
      return {[Symbol.asyncIterator]: () => stream}
    }
    return {resource, list, watch}
  }

  private broadcast(event: Pending): void {
    for (const stream of this.streams) stream.push(event)
  }
}
