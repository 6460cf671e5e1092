import {describe, expect, it} from 'vitest'
import {ManualClock} from '../../src/lib/workqueue/clock.js'
import {DelayingQueue} from '../../src/lib/workqueue/delaying-queue.js'
import {RateLimitingQueue} from '../../src/lib/workqueue/rate-limiting-queue.js'
import {
  BucketRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
} from '../../src/lib/workqueue/rate-limiters.js'

describe('DelayingQueue', () => {
  it('adds a key once its delay has passed, in due order, with one timer armed', async () => {
    const clock = new ManualClock()
    const q = new DelayingQueue({clock})
    q.addAfter('late', 300)
    q.addAfter('early', 100)
    q.addAfter('middle', 200)
    expect(clock.pendingTimers()).toBe(1)
    expect(q.len()).toBe(0)
    clock.advance(99)
    expect(q.len()).toBe(0)
    clock.advance(1)
    expect(q.len()).toBe(1)
    clock.advance(500)
    expect(q.len()).toBe(3)
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['early', 'middle', 'late'])
    expect(clock.pendingTimers()).toBe(0)
  })

  it('keeps the earlier due time when a waiting key is added again', () => {
    const clock = new ManualClock()
    const q = new DelayingQueue({clock})
    q.addAfter('a', 1000)
    q.addAfter('a', 100)
    q.addAfter('a', 5000)
    expect(q.waitingCount()).toBe(1)
    clock.advance(100)
    expect(q.len()).toBe(1)
    clock.advance(10_000)
    expect(q.len()).toBe(1)
  })

  it('adds at once for a zero delay and drops waiting keys on shutdown', () => {
    const clock = new ManualClock()
    const q = new DelayingQueue({clock})
    q.addAfter('now', 0)
    expect(q.len()).toBe(1)
    q.addAfter('later', 10)
    q.shutDown()
    clock.advance(100)
    expect(q.len()).toBe(1)
    expect(q.waitingCount()).toBe(0)
  })

  it('handles many waiting keys with a single timer', () => {
    const clock = new ManualClock()
    const q = new DelayingQueue<number>({clock})
    for (let i = 0; i < 10_000; i++) q.addAfter(i, 10_000 - i)
    expect(clock.pendingTimers()).toBe(1)
    clock.advance(5_000)
    expect(q.len()).toBe(5_000)
    clock.advance(5_000)
    expect(q.len()).toBe(10_000)
  })
})

describe('rate limiters', () => {
  it('per-key exponential: 5 ms doubling to a 1000 s cap, forget resets', () => {
    const r = new ExponentialFailureRateLimiter()
    expect([r.when('a'), r.when('a'), r.when('a'), r.when('a')]).toEqual([5, 10, 20, 40])
    expect(r.when('b')).toBe(5)
    expect(r.numRequeues('a')).toBe(4)
    for (let i = 0; i < 100; i++) r.when('a')
    expect(r.when('a')).toBe(1_000_000)
    for (let i = 0; i < 2000; i++) r.when('a')
    expect(r.when('a')).toBe(1_000_000)
    r.forget('a')
    expect(r.numRequeues('a')).toBe(0)
    expect(r.when('a')).toBe(5)
  })

  it('token bucket: burst free, then spaced at qps, refilled by time', () => {
    const clock = new ManualClock()
    const r = new BucketRateLimiter({clock})
    for (let i = 0; i < 100; i++) expect(r.when(`k${i}`)).toBe(0)
    expect(r.when('x')).toBeCloseTo(100)
    expect(r.when('y')).toBeCloseTo(200)
    clock.advance(1000)
    // 10 tokens refilled minus a debt of 2: 8 free, then waiting again.
    for (let i = 0; i < 8; i++) expect(r.when(`z${i}`)).toBe(0)
    expect(r.when('w')).toBeCloseTo(100)
    clock.advance(60_000)
    for (let i = 0; i < 100; i++) expect(r.when(`v${i}`)).toBe(0)
    expect(r.when('u')).toBeCloseTo(100)
    expect(r.numRequeues('u')).toBe(0)
  })

  it('max-of: the slower limiter wins, requeues come from the per-key one', () => {
    const clock = new ManualClock()
    const r = new MaxOfRateLimiter(new ExponentialFailureRateLimiter({baseMs: 5, maxMs: 1000}), new BucketRateLimiter({clock, qps: 1, burst: 2}))
    expect(r.when('a')).toBe(5)
    expect(r.when('a')).toBe(10)
    expect(r.when('b')).toBe(1000)
    expect(r.numRequeues('a')).toBe(2)
    r.forget('a')
    expect(r.numRequeues('a')).toBe(0)
  })

  it('default controller limiter is 5 ms per key until the bucket runs dry', () => {
    const clock = new ManualClock()
    const r = defaultControllerRateLimiter(clock)
    for (let i = 0; i < 100; i++) expect(r.when(`k${i}`)).toBe(5)
    expect(r.when('k100')).toBeCloseTo(100)
  })
})

describe('RateLimitingQueue', () => {
  it('retries a key after the limiter delay and forgets on success', () => {
    const clock = new ManualClock()
    const q = new RateLimitingQueue({clock})
    q.addRateLimited('a')
    q.addRateLimited('a')
    expect(q.numRequeues('a')).toBe(2)
    // The second call asked for 10 ms but the earlier 5 ms entry stands.
    clock.advance(5)
    expect(q.len()).toBe(1)
    q.forget('a')
    expect(q.numRequeues('a')).toBe(0)
  })

  it('backs off exponentially across failed passes', async () => {
    const clock = new ManualClock()
    const q = new RateLimitingQueue({clock})
    q.add('a')
    const due: number[] = []
    for (let attempt = 0; attempt < 5; attempt++) {
      const key = (await q.get()) as string
      const start = clock.now()
      q.addRateLimited(key)
      q.done(key)
      while (q.len() === 0) clock.advance(1)
      due.push(clock.now() - start)
    }
    expect(due).toEqual([5, 10, 20, 40, 80])
  })
})
