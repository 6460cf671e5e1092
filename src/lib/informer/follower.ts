// Reads one watch stream in the background from the moment it is opened, so nothing the
// server sends is lost while the informer lists: events are held while a list is read, and
// handed over live otherwise. One follower per connection; the informer decides when to hold.
import type {ObjectMeta, WatchEvent} from '../api/types.js'
import {WatchUnimplementedError, type WatchStream} from '../api/watch-source.js'

export interface StreamFollowerOptions<T extends ObjectMeta> {
  stream: WatchStream<T>
  // Methods, not function-typed properties, so that StreamFollower<Sub> stays assignable to
  // StreamFollower<Base> (and Informer<Session> to Informer<ObjectMeta>).
  /** Applies one event while live. */
  apply(event: WatchEvent<T>): void
  /** Called when messages arrive, live or held (once per burst read at once). */
  received(): void
}

export class StreamFollower<T extends ObjectMeta> {
  /** Resolves (never rejects) when the stream has ended, however it ended. */
  readonly ended: Promise<void>
  private held: WatchEvent<T>[] = []
  private live = false
  private closed = false
  private finished = false
  private failure: unknown

  constructor(private readonly options: StreamFollowerOptions<T>) {
    this.ended = this.read()
  }

  /** The stream is over (its error, if any, is in `error`). */
  get done(): boolean {
    return this.finished
  }

  get error(): unknown {
    return this.failure
  }

  /** The server answered that it has no watch. */
  get unimplemented(): boolean {
    return this.finished && this.failure instanceof WatchUnimplementedError
  }

  /** From now on events are held (a list is being read). */
  hold(): void {
    this.live = false
  }

  /** Takes the events held so far. */
  take(): WatchEvent<T>[] {
    const held = this.held
    this.held = []
    return held
  }

  /** From now on events are applied as they come. Call take() first, in the same tick. */
  goLive(): void {
    this.live = true
  }

  /** Nothing more is applied or held; the caller ends the stream. */
  close(): void {
    this.closed = true
    this.held = []
  }

  private async read(): Promise<void> {
    const {stream, received} = this.options
    const iterator = stream[Symbol.asyncIterator]()
    const nextBatch = stream.nextBatch ? stream.nextBatch.bind(stream) : () => oneEvent(iterator)
    try {
      for (let batch = await nextBatch(); batch; batch = await nextBatch()) {
        if (this.closed) {
          await iterator.return?.()
          break
        }
        received()
        for (const event of batch) if (!this.closed) this.handle(event)
      }
    } catch (err) {
      this.failure = err
    } finally {
      this.finished = true
    }
  }

  private handle(event: WatchEvent<T>): void {
    if (this.live) this.options.apply(event)
    else this.held.push(event)
  }
}

/** A stream without nextBatch() is read one event at a time. */
async function oneEvent<T extends ObjectMeta>(iterator: AsyncIterator<WatchEvent<T>>): Promise<WatchEvent<T>[] | undefined> {
  const result = await iterator.next()
  return result.done ? undefined : [result.value]
}
