// A delaying queue that asks a rate limiter how long to wait before a key's retry.
import {DelayingQueue} from './delaying-queue.js'
import type {WorkQueueOptions} from './queue.js'
import {defaultControllerRateLimiter, type RateLimiter} from './rate-limiters.js'

export interface RateLimitingQueueOptions<K> extends WorkQueueOptions {
  /** Default: defaultControllerRateLimiter on the queue's clock. */
  rateLimiter?: RateLimiter<K>
}

export class RateLimitingQueue<K = string> extends DelayingQueue<K> {
  readonly rateLimiter: RateLimiter<K>

  constructor(options: RateLimitingQueueOptions<K> = {}) {
    super(options)
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<K>(this.clock)
  }

  /** Adds `key` once the rate limiter allows it (one more failure for the key). */
  addRateLimited(key: K): void {
    this.addAfter(key, this.rateLimiter.when(key))
  }

  /** The key is done for good (succeeded or given up): forget its failures. */
  forget(key: K): void {
    this.rateLimiter.forget(key)
  }

  numRequeues(key: K): number {
    return this.rateLimiter.numRequeues(key)
  }
}
