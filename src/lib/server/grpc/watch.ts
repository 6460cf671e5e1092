// One gRPC watch stream. It queues change notices (type + id, never objects) and sends them
// one by one, reading the object from the store at send time like the real server does: an
// event can carry a newer state than the change that caused it, and a CREATED/UPDATED whose
// object is gone by then is skipped (its DELETED follows). Sending respects back-pressure
// (write() false -> wait for 'drain'); a consumer more than `maxPending` notices behind is
// ended with RESOURCE_EXHAUSTED instead of letting the queue grow without bound.
import {status, type ServerWritableStream} from '@grpc/grpc-js'
import type {Logger} from '../../log.js'
import type {StoreResource} from '../schema.js'
import type {ChangeEvent, Store} from '../store.js'

export const DEFAULT_MAX_PENDING_WATCH_EVENTS = 100_000

export interface WatchStreamOptions<Msg> {
  call: ServerWritableStream<unknown, Msg>
  store: Store
  resource: StoreResource
  /** Builds the message for a change, reading the store now; undefined skips it. */
  toMessage: (event: ChangeEvent) => Msg | undefined
  maxPending: number
  logger: Logger
  /** Called once when the stream is over, however it ended. */
  onDone: () => void
}

export class WatchStream<Msg> {
  private queue: (ChangeEvent | undefined)[] = []
  private head = 0
  private scheduled = false
  private waitingForDrain = false
  private done = false
  private readonly unsubscribe: () => void

  constructor(private readonly options: WatchStreamOptions<Msg>) {
    const {call, store, resource} = options
    this.unsubscribe = store.on(resource, (event) => this.enqueue(event))
    call.on('cancelled', () => this.finish())
    call.on('close', () => this.finish())
    call.on('error', () => this.finish())
  }

  get pending(): number {
    return this.queue.length - this.head
  }

  /** Ends the stream with a non-OK status; queued notices are dropped. */
  fail(code: status, details: string): void {
    if (this.done) return
    this.finish()
    // grpc-js turns an 'error' on a server stream into the call's final status.
    this.options.call.emit('error', {code, details})
  }

  private enqueue(event: ChangeEvent): void {
    if (this.done) return
    if (this.pending >= this.options.maxPending) {
      this.options.logger.warn({resource: this.options.resource, pending: this.pending}, 'watch consumer too slow: ending its stream')
      this.fail(status.RESOURCE_EXHAUSTED, `watch consumer fell more than ${this.options.maxPending} events behind`)
      return
    }
    this.queue.push(event)
    this.schedule()
  }

  private schedule(): void {
    if (this.scheduled || this.waitingForDrain || this.done) return
    this.scheduled = true
    // Asynchronous on purpose: the object is read when sent, not when changed.
    setImmediate(() => {
      this.scheduled = false
      this.pump()
    })
  }

  private pump(): void {
    const {call, toMessage} = this.options
    while (!this.done && this.head < this.queue.length) {
      const event = this.queue[this.head] as ChangeEvent
      this.queue[this.head] = undefined
      this.head++
      const message = toMessage(event)
      if (message === undefined) continue
      if (!call.write(message)) {
        this.waitingForDrain = true
        call.once('drain', () => {
          this.waitingForDrain = false
          this.pump()
        })
        break
      }
    }
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  private finish(): void {
    if (this.done) return
    this.done = true
    this.unsubscribe()
    this.queue = []
    this.head = 0
    this.options.onDone()
  }
}
