import {describe, expect, it} from 'vitest'
import {RateLimiterClosedError, TokenBucket} from '../../src/lib/kube/rate-limit.js'

/** A clock that only moves when a caller waits, so the bucket's arithmetic is exact. */
function virtualTime() {
  const clock = {now: 0, waits: [] as number[]}
  return {
    clock,
    now: () => clock.now,
    delay: async (ms: number, signal: AbortSignal) => {
      if (signal.aborted) return
      clock.waits.push(ms)
      clock.now += ms
    },
  }
}

describe('TokenBucket', () => {
  it('lets a burst through, then paces at qps, first come first served', async () => {
    const t = virtualTime()
    const waits: number[] = []
    // Time stands still while five callers queue up at once.
    const bucket = new TokenBucket({qps: 50, burst: 100, now: t.now, delay: async (ms) => void waits.push(ms)})
    for (let i = 0; i < 100; i++) await bucket.acquire()
    expect(waits).toEqual([])
    await Promise.all(Array.from({length: 5}, () => bucket.acquire()))
    expect(waits).toEqual([20, 40, 60, 80, 100])
    expect(bucket.throttled).toBe(5)
  })

  it('refills with time up to the burst', async () => {
    const t = virtualTime()
    const bucket = new TokenBucket({qps: 10, burst: 3, now: t.now, delay: t.delay})
    for (let i = 0; i < 3; i++) expect(bucket.tryAcquire()).toBe(true)
    expect(bucket.tryAcquire()).toBe(false)
    t.clock.now += 150
    expect(bucket.tryAcquire()).toBe(true)
    expect(bucket.tryAcquire()).toBe(false)
    t.clock.now += 10_000
    for (let i = 0; i < 3; i++) expect(bucket.tryAcquire()).toBe(true)
    expect(bucket.tryAcquire()).toBe(false)
  })

  it('does not limit with qps 0', async () => {
    const bucket = new TokenBucket({qps: 0, burst: 1})
    for (let i = 0; i < 1000; i++) await bucket.acquire()
    expect(bucket.throttled).toBe(0)
  })

  it('releases waiters when closed or aborted, and refuses after close', async () => {
    const bucket = new TokenBucket({qps: 1, burst: 1})
    await bucket.acquire()
    const aborted = new AbortController()
    const waiting = bucket.acquire(aborted.signal)
    aborted.abort(new Error('stop'))
    await expect(waiting).rejects.toThrow('stop')
    const closing = bucket.acquire()
    bucket.close()
    await expect(closing).rejects.toBeInstanceOf(RateLimiterClosedError)
    await expect(bucket.acquire()).rejects.toBeInstanceOf(RateLimiterClosedError)
  })
})
