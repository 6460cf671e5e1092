// A work queue that can add a key later: waiting keys sit in a min-heap on their due time and
// a single timer is armed for the earliest, so a million pending retries cost one timer.
import type {Timer} from './clock.js'
import {MinHeap} from './heap.js'
import {WorkQueue, type WorkQueueOptions} from './queue.js'

interface Waiting<K> {
  key: K
  readyAt: number
  seq: number
  index: number
}

export class DelayingQueue<K = string> extends WorkQueue<K> {
  private readonly heap = new MinHeap<Waiting<K>>((a, b) => a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq))
  private readonly waiting = new Map<K, Waiting<K>>()
  private seq = 0
  private timer: Timer | undefined
  private timerAt = Number.POSITIVE_INFINITY

  constructor(options: WorkQueueOptions = {}) {
    super(options)
  }

  /**
   * Adds `key` after `ms`. A key already waiting keeps the earlier of its two due times; a
   * key already queued is left alone (its pass will see the latest state anyway).
   */
  addAfter(key: K, ms: number): void {
    if (this.isShuttingDown()) return
    this.metrics.retry()
    if (!(ms > 0)) {
      this.add(key)
      return
    }
    if (this.isDirty(key)) return
    const readyAt = this.clock.now() + ms
    const existing = this.waiting.get(key)
    if (existing) {
      if (readyAt < existing.readyAt) {
        existing.readyAt = readyAt
        this.heap.fix(existing)
      }
    } else {
      const entry: Waiting<K> = {key, readyAt, seq: this.seq++, index: -1}
      this.waiting.set(key, entry)
      this.heap.push(entry)
    }
    this.arm()
  }

  /** Keys waiting for their due time. */
  waitingCount(): number {
    return this.waiting.size
  }

  override shutDown(): void {
    this.dropWaiting()
    super.shutDown()
  }

  override shutDownWithDrain(graceMs?: number): Promise<boolean> {
    this.dropWaiting()
    return super.shutDownWithDrain(graceMs)
  }

  private dropWaiting(): void {
    this.timer?.cancel()
    this.timer = undefined
    this.timerAt = Number.POSITIVE_INFINITY
    this.heap.clear()
    this.waiting.clear()
  }

  private arm(): void {
    const top = this.heap.peek()
    if (!top) {
      this.timer?.cancel()
      this.timer = undefined
      this.timerAt = Number.POSITIVE_INFINITY
      return
    }
    if (this.timer && this.timerAt <= top.readyAt) return
    this.timer?.cancel()
    this.timerAt = top.readyAt
    this.timer = this.clock.setTimer(() => this.fire(), top.readyAt - this.clock.now())
  }

  private fire(): void {
    this.timer = undefined
    this.timerAt = Number.POSITIVE_INFINITY
    const now = this.clock.now()
    for (let top = this.heap.peek(); top && top.readyAt <= now; top = this.heap.peek()) {
      this.heap.pop()
      this.waiting.delete(top.key)
      this.add(top.key)
    }
    this.arm()
  }
}
