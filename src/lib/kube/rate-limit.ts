// Client-side rate limiting like client-go's (QPS 50, burst 100 by default here): every request
// to the Kubernetes API waits for a token, so a resync of thousands of objects cannot flood the
// API server. Reservations are FIFO: each caller is told how long to wait when it asks.
import {AmbientError} from '../errors.js'
import {sleep} from '../util/abort.js'

export interface TokenBucketOptions {
  /** Sustained requests per second; 0 or less turns limiting off. */
  qps?: number
  /** Requests allowed at once after a quiet period. */
  burst?: number
  now?: () => number
  /** Waits `ms`; rejects or resolves early when `signal` aborts. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>
}

export class RateLimiterClosedError extends AmbientError {
  constructor() {
    super('the Kubernetes rate limiter was closed', 'ERR_RATE_LIMITER_CLOSED')
  }
}

export const DEFAULT_QPS = 50
export const DEFAULT_BURST = 100

export class TokenBucket {
  readonly qps: number
  readonly burst: number
  private tokens: number
  private last: number
  private readonly now: () => number
  private readonly delay: (ms: number, signal: AbortSignal) => Promise<void>
  private readonly closed = new AbortController()
  /** Total time callers spent waiting (ms), for logs and metrics. */
  waitedMs = 0
  throttled = 0

  constructor(options: TokenBucketOptions = {}) {
    this.qps = options.qps ?? DEFAULT_QPS
    this.burst = Math.max(1, Math.floor(options.burst ?? DEFAULT_BURST))
    this.now = options.now ?? (() => performance.now())
    this.delay = options.delay ?? sleep
    this.tokens = this.burst
    this.last = this.now()
  }

  get limited(): boolean {
    return this.qps > 0 && Number.isFinite(this.qps)
  }

  /** Takes a token now if one is free; never waits. */
  tryAcquire(): boolean {
    if (!this.limited) return true
    this.refill()
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Resolves when the caller may send; rejects if the limiter closes or `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<void> {
    if (this.closed.signal.aborted) throw new RateLimiterClosedError()
    if (!this.limited) return
    const waitMs = this.reserve()
    if (waitMs <= 0) return
    this.throttled++
    this.waitedMs += waitMs
    const stop = signal ? AbortSignal.any([signal, this.closed.signal]) : this.closed.signal
    try {
      await this.delay(waitMs, stop)
    } finally {
      if (stop.aborted) this.tokens = Math.min(this.burst, this.tokens + 1)
    }
    if (this.closed.signal.aborted) throw new RateLimiterClosedError()
    signal?.throwIfAborted()
  }

  /** Releases every waiter with RateLimiterClosedError (shutdown). */
  close(): void {
    this.closed.abort()
  }

  /** Takes a token, possibly going into debt; returns how long the debt takes to pay off. */
  private reserve(): number {
    this.refill()
    this.tokens -= 1
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000
  }

  private refill(): void {
    const now = this.now()
    const elapsed = Math.max(0, now - this.last)
    this.last = now
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.qps)
  }
}
