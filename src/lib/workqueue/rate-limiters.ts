// How long to wait before retrying a key (client-go default_rate_limiters semantics): a
// per-key exponential backoff so one failing object backs off on its own, and a global token
// bucket so many failing objects together cannot hammer the API.
import {realClock, type Clock} from './clock.js'

export interface RateLimiter<K = string> {
  /** Delay in ms before `key` may be retried; records one more failure. */
  when(key: K): number
  /** The key succeeded: reset its failure history. */
  forget(key: K): void
  /** Failures recorded for `key` since the last forget. */
  numRequeues(key: K): number
}

export interface ExponentialRateLimiterOptions {
  /** First delay (default 5 ms); doubles per failure. */
  baseMs?: number
  /** Cap (default 1000 s). */
  maxMs?: number
}

export class ExponentialFailureRateLimiter<K = string> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>()
  private readonly baseMs: number
  private readonly maxMs: number

  constructor(options: ExponentialRateLimiterOptions = {}) {
    this.baseMs = options.baseMs ?? 5
    this.maxMs = options.maxMs ?? 1_000_000
  }

  when(key: K): number {
    const exp = this.failures.get(key) ?? 0
    this.failures.set(key, exp + 1)
    // 2 ** exp overflows to Infinity for huge exp; min() then yields the cap.
    return Math.min(this.baseMs * 2 ** exp, this.maxMs)
  }

  forget(key: K): void {
    this.failures.delete(key)
  }

  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0
  }
}

export interface BucketRateLimiterOptions {
  /** Tokens added per second (default 10). */
  qps?: number
  /** Bucket size (default 100). */
  burst?: number
  clock?: Clock
}

/**
 * A token bucket that reserves: every call takes a token, going into debt when the bucket is
 * empty, and the debt is the wait. So a burst of failures is spread out at `qps`.
 */
export class BucketRateLimiter<K = string> implements RateLimiter<K> {
  private readonly qps: number
  private readonly burst: number
  private readonly clock: Clock
  private tokens: number
  private last: number

  constructor(options: BucketRateLimiterOptions = {}) {
    this.qps = options.qps ?? 10
    this.burst = options.burst ?? 100
    this.clock = options.clock ?? realClock
    this.tokens = this.burst
    this.last = this.clock.now()
  }

  when(_key: K): number {
    const now = this.clock.now()
    const elapsed = Math.max(0, now - this.last)
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.qps)
    this.last = Math.max(this.last, now)
    this.tokens -= 1
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000
  }

  forget(_key: K): void {}

  numRequeues(_key: K): number {
    return 0
  }
}

/** The longest delay of several limiters; failures are counted by all of them. */
export class MaxOfRateLimiter<K = string> implements RateLimiter<K> {
  private readonly limiters: RateLimiter<K>[]

  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters
  }

  when(key: K): number {
    let max = 0
    for (const limiter of this.limiters) max = Math.max(max, limiter.when(key))
    return max
  }

  forget(key: K): void {
    for (const limiter of this.limiters) limiter.forget(key)
  }

  numRequeues(key: K): number {
    let max = 0
    for (const limiter of this.limiters) max = Math.max(max, limiter.numRequeues(key))
    return max
  }
}

/** Per-key 5 ms -> 1000 s exponential, and 10/s with a burst of 100 overall. */
export function defaultControllerRateLimiter<K = string>(clock: Clock = realClock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(new ExponentialFailureRateLimiter<K>(), new BucketRateLimiter<K>({clock}))
}
