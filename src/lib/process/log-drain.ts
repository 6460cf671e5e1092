// Moves a runner's output from its pipe to its log file without ever holding the runner up.
// The pipe is read as fast as data comes (never paused: a paused reader lets the pipe fill,
// and a runner writing to a full pipe blocks); what is read waits in a bounded queue for the
// disk. When the disk falls behind by more than the queue, whole lines are dropped and a
// marker line in the log says how many bytes are missing. Memory stays bounded by the queue
// and one partial line; the runner is stalled at most by what the pipe itself buffers.
import type {Readable} from 'node:stream'
import type {LogSink} from './log-rotate.js'

export type {LogSink, LogPosition} from './log-rotate.js'

/**
 * 4 MiB per stream: at the 70 MiB/s a runner printing flat out reaches here, that absorbs about
 * 60 ms of stalled disk writes (the kernel throttles writers once dirty pages pile up: single
 * writes took up to 130 ms under a 256 MiB flood). Floods the disk cannot keep up with lose
 * lines, marked in the log (docs/benchmarks.md).
 */
export const DEFAULT_MAX_QUEUED_LOG_BYTES = 4 * 1024 * 1024
/** A line longer than this is written in pieces rather than held back whole. */
const MAX_HELD_LINE_BYTES = 64 * 1024
const MAX_WRITE_BYTES = 1024 * 1024
const NEWLINE = 0x0a

export interface LogDrainOptions {
  source: Readable
  sink: LogSink
  /** Bytes read but not yet written that may wait for the disk, default 4 MiB; beyond, lines are dropped. */
  maxQueuedBytes?: number
  /** Names the stream in the drop marker, e.g. "stdout". */
  name?: string
  /** A failed write or read (reported once per kind of error, not per write). */
  onError?: (err: unknown) => void
}

export interface LogDrainStats {
  bytesIn: number
  bytesWritten: number
  bytesDropped: number
  peakQueuedBytes: number
  /** The pipe ended (every writer closed it) or the drain was closed. */
  ended: boolean
}

export class LogDrain {
  /** Resolves once the pipe has ended and everything kept is written (the sink is closed then). */
  readonly done: Promise<void>
  readonly #source: Readable
  readonly #sink: LogSink
  readonly #maxQueued: number
  readonly #name: string
  readonly #onError: (err: unknown) => void
  readonly #queue: Buffer[] = []
  #queued = 0
  /** The start of a line not yet complete. */
  #held: Buffer[] = []
  #heldBytes = 0
  /** Inside a line whose start was dropped: skip to its end. */
  #skipping = false
  /** Dropped since the last marker. */
  #unreported = 0
  #writing = false
  #ended = false
  #lastErrorCode?: string
  #resolveDone!: () => void
  readonly #stats = {bytesIn: 0, bytesWritten: 0, bytesDropped: 0, peakQueuedBytes: 0}

  constructor(options: LogDrainOptions) {
    this.#source = options.source
    this.#sink = options.sink
    this.#maxQueued = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_LOG_BYTES
    this.#name = options.name ?? 'output'
    this.#onError = options.onError ?? (() => {})
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve
    })
    this.#source.on('data', (chunk: Buffer) => this.#accept(chunk))
    this.#source.once('end', () => this.#end())
    this.#source.once('close', () => this.#end())
    this.#source.on('error', (err) => {
      this.#report(err)
      this.#end()
    })
  }

  stats(): LogDrainStats {
    return {...this.#stats, ended: this.#ended}
  }

  /** Stops reading (what is queued is still written): for a pipe another process keeps open. */
  close(): void {
    this.#source.destroy()
    this.#end()
  }

  #accept(chunk: Buffer): void {
    this.#stats.bytesIn += chunk.length
    let data = chunk
    if (this.#skipping) {
      const newline = data.indexOf(NEWLINE)
      if (newline < 0) {
        this.#drop(data.length)
        return
      }
      this.#drop(newline + 1)
      data = data.subarray(newline + 1)
      this.#skipping = false
    }
    const lastNewline = data.lastIndexOf(NEWLINE)
    if (lastNewline < 0) {
      this.#hold(data)
      return
    }
    const lines = this.#takeHeld(data.subarray(0, lastNewline + 1))
    this.#hold(data.subarray(lastNewline + 1))
    this.#enqueue(lines, true)
  }

  #hold(part: Buffer): void {
    if (part.length === 0) return
    this.#held.push(part)
    this.#heldBytes += part.length
    if (this.#heldBytes > MAX_HELD_LINE_BYTES) this.#enqueue(this.#takeHeld(), false)
  }

  #takeHeld(tail?: Buffer): Buffer {
    const parts = tail ? [...this.#held, tail] : this.#held
    this.#held = []
    this.#heldBytes = 0
    const [only] = parts
    return parts.length === 1 && only ? only : Buffer.concat(parts)
  }

  /** `wholeLines`: `data` ends a line (when it has to go, so does the partial line after it). */
  #enqueue(data: Buffer, wholeLines: boolean): void {
    if (data.length === 0) return
    const marker = this.#unreported > 0 ? this.#marker() : undefined
    const size = data.length + (marker?.length ?? 0)
    if (this.#queued + size > this.#maxQueued) {
      this.#drop(data.length)
      if (!wholeLines || this.#heldBytes > 0) {
        // The line being written continues in the next read: it goes too.
        this.#drop(this.#takeHeld().length)
        this.#skipping = true
      }
      return
    }
    if (marker) {
      this.#unreported = 0
      this.#push(marker)
    }
    this.#push(data)
    void this.#write()
  }

  #marker(): Buffer {
    return Buffer.from(`[ambient] dropped ${this.#unreported} bytes of ${this.#name}: the log was not written as fast as the runner wrote\n`)
  }

  #push(data: Buffer): void {
    this.#queue.push(data)
    this.#queued += data.length
    if (this.#queued > this.#stats.peakQueuedBytes) this.#stats.peakQueuedBytes = this.#queued
  }

  #drop(bytes: number): void {
    this.#stats.bytesDropped += bytes
    this.#unreported += bytes
  }

  #end(): void {
    if (this.#ended) return
    this.#ended = true
    // A last line without its newline, then what is still unreported, as room allows.
    if (this.#heldBytes > 0 && !this.#skipping) this.#enqueue(this.#takeHeld(), true)
    if (this.#unreported > 0) {
      const marker = this.#marker()
      if (this.#queued + marker.length <= this.#maxQueued) {
        this.#unreported = 0
        this.#push(marker)
      }
    }
    void this.#write()
  }

  async #write(): Promise<void> {
    if (this.#writing) return
    this.#writing = true
    try {
      while (this.#queue.length > 0) {
        const batch = this.#takeBatch()
        try {
          await this.#sink.write(batch)
          this.#stats.bytesWritten += batch.length
        } catch (err) {
          this.#report(err)
          this.#drop(batch.length)
        }
        this.#queued -= batch.length
      }
    } finally {
      this.#writing = false
    }
    if (this.#ended && this.#queue.length === 0) {
      await this.#sink.close().catch((err: unknown) => this.#report(err))
      this.#resolveDone()
    }
  }

  /** Queued chunks joined into one write of at most MAX_WRITE_BYTES (or one larger chunk). */
  #takeBatch(): Buffer {
    const parts: Buffer[] = []
    let size = 0
    while (this.#queue.length > 0 && (parts.length === 0 || size + (this.#queue[0]?.length ?? 0) <= MAX_WRITE_BYTES)) {
      const part = this.#queue.shift() as Buffer
      parts.push(part)
      size += part.length
    }
    const [only] = parts
    return parts.length === 1 && only ? only : Buffer.concat(parts, size)
  }

  #report(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? String(err)
    if (code === this.#lastErrorCode) return
    this.#lastErrorCode = code
    this.#onError(err)
  }
}
