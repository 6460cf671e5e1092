import {describe, expect, it} from 'vitest'
import {ManualClock} from '../../src/lib/workqueue/clock.js'
import {Deque} from '../../src/lib/workqueue/deque.js'
import {WorkQueue} from '../../src/lib/workqueue/queue.js'
import type {UnfinishedWork, WorkQueueMetrics, WorkQueueMetricsProvider} from '../../src/lib/workqueue/metrics.js'

async function drain<K>(q: WorkQueue<K>): Promise<K[]> {
  const out: K[] = []
  while (q.len() > 0) {
    const key = (await q.get()) as K
    out.push(key)
    q.done(key)
  }
  return out
}

describe('Deque', () => {
  it('keeps FIFO order across growth and wrap-around', () => {
    const d = new Deque<number>(2)
    const expected: number[] = []
    let next = 0
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < round; i++) {
        d.push(next)
        expected.push(next++)
      }
      for (let i = 0; i < round / 2; i++) expect(d.shift()).toBe(expected.shift())
    }
    expect([...d]).toEqual(expected)
    expect(d.length).toBe(expected.length)
    while (expected.length) expect(d.shift()).toBe(expected.shift())
    expect(d.shift()).toBeUndefined()
  })
})

describe('WorkQueue', () => {
  it('getNow takes queued keys in order without waiting, and holds them like get', async () => {
    const q = new WorkQueue<string>()
    expect(q.getNow()).toBeUndefined()
    q.add('a')
    q.add('b')
    expect(q.getNow()).toBe('a')
    q.add('a') // held: queued again only when done
    expect(q.getNow()).toBe('b')
    expect(q.getNow()).toBeUndefined()
    q.done('a')
    expect(q.getNow()).toBe('a')
    q.done('a')
    q.done('b')
    expect(q.inFlight()).toBe(0)
    expect(q.len()).toBe(0)
  })

  it('deduplicates queued keys and keeps FIFO order', async () => {
    const q = new WorkQueue()
    q.add('a')
    q.add('b')
    q.add('a')
    q.add('c')
    q.add('b')
    expect(q.len()).toBe(3)
    expect(await drain(q)).toEqual(['a', 'b', 'c'])
  })

  it('re-queues a key added while it is processed, only after done()', async () => {
    const q = new WorkQueue()
    q.add('a')
    const key = await q.get()
    expect(key).toBe('a')
    q.add('a')
    q.add('a')
    // Held by a worker: not handed to another one.
    expect(q.len()).toBe(0)
    expect(q.isDirty('a')).toBe(true)
    q.done('a')
    expect(q.len()).toBe(1)
    expect(await q.get()).toBe('a')
    q.done('a')
    expect(q.len()).toBe(0)
    expect(q.has('a')).toBe(false)
  })

  it('hands a key to a parked worker as soon as it is added', async () => {
    const q = new WorkQueue()
    const waiting = q.get()
    q.add('x')
    expect(await waiting).toBe('x')
    expect(q.inFlight()).toBe(1)
  })

  it('never lets two workers hold the same key, and processes every key after its last add', async () => {
    const q = new WorkQueue<number>()
    const keys = 50
    const active = new Map<number, number>()
    const lastAdd = new Map<number, number>()
    const lastStart = new Map<number, number>()
    let tick = 0
    let maxConcurrentPerKey = 0
    let producing = true

    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await q.get()
        if (key === undefined) return
        const n = (active.get(key) ?? 0) + 1
        active.set(key, n)
        maxConcurrentPerKey = Math.max(maxConcurrentPerKey, n)
        lastStart.set(key, ++tick)
        // Yield a few times so other workers and the producer interleave.
        for (let i = 0; i < (key % 4) + 1; i++) await new Promise((r) => setImmediate(r))
        active.set(key, (active.get(key) ?? 1) - 1)
        q.done(key)
      }
    }
    const workers = Array.from({length: 8}, () => worker())

    const producer = (async () => {
      for (let i = 0; i < 5000; i++) {
        const key = (i * 7919) % keys
        lastAdd.set(key, ++tick)
        q.add(key)
        if (i % 10 === 0) await new Promise((r) => setImmediate(r))
      }
      producing = false
    })()
    await producer
    expect(producing).toBe(false)
    // Wait until everything queued has been processed, then stop.
    await expect.poll(() => q.len() + q.inFlight(), {timeout: 20_000}).toBe(0)
    q.shutDown()
    await Promise.all(workers)

    expect(maxConcurrentPerKey).toBe(1)
    for (const [key, added] of lastAdd) expect(lastStart.get(key)).toBeGreaterThan(added)
  })

  it('ignores adds after shutdown and hands out what was queued, then undefined', async () => {
    const q = new WorkQueue()
    q.add('a')
    q.add('b')
    q.shutDown()
    q.add('c')
    expect(q.len()).toBe(2)
    expect(await q.get()).toBe('a')
    expect(await q.get()).toBe('b')
    expect(await q.get()).toBeUndefined()
    expect(await q.get()).toBeUndefined()
  })

  it('wakes parked workers with undefined on shutdown', async () => {
    const q = new WorkQueue()
    const parked = [q.get(), q.get()]
    q.shutDown()
    expect(await Promise.all(parked)).toEqual([undefined, undefined])
  })

  it('shutDownWithDrain waits for keys in flight', async () => {
    const q = new WorkQueue()
    q.add('a')
    q.add('b')
    const a = (await q.get()) as string
    const b = (await q.get()) as string
    let drained: boolean | undefined
    const draining = q.shutDownWithDrain().then((v) => (drained = v))
    q.add('c')
    expect(q.len()).toBe(0)
    q.done(a)
    await new Promise((r) => setImmediate(r))
    expect(drained).toBeUndefined()
    q.done(b)
    await draining
    expect(drained).toBe(true)
  })

  it('shutDownWithDrain gives up after the grace period', async () => {
    const clock = new ManualClock()
    const q = new WorkQueue({clock})
    q.add('stuck')
    await q.get()
    const draining = q.shutDownWithDrain(1000)
    clock.advance(999)
    clock.advance(1)
    expect(await draining).toBe(false)
  })

  it('takes 100k adds without blocking the producer and processes each key once', async () => {
    const q = new WorkQueue<number>()
    // A worker is busy with key 0 while the producer floods the queue.
    q.add(0)
    const held = await q.get()
    for (let i = 0; i < 100_000; i++) q.add(i)
    for (let i = 0; i < 100_000; i++) q.add(i)
    // 0 is held, so it is dirty but not queued until done().
    expect(q.len()).toBe(99_999)
    q.done(held as number)
    expect(q.len()).toBe(100_000)
    const seen = new Uint8Array(100_000)
    const workers = Array.from({length: 4}, async () => {
      for (;;) {
        if (q.len() === 0) return
        const key = (await q.get()) as number
        seen[key]++
        q.done(key)
      }
    })
    await Promise.all(workers)
    expect(seen.every((n) => n === 1)).toBe(true)
  })

  it('reports adds, depth, latency and work time to its metrics hooks', async () => {
    const clock = new ManualClock(1_000)
    const recorded = {adds: 0, depth: [] as number[], queued: [] as number[], worked: [] as number[], retries: 0}
    let probe: (() => UnfinishedWork) | undefined
    const provider: WorkQueueMetricsProvider = {
      forQueue(name, p): WorkQueueMetrics {
        expect(name).toBe('sessions')
        probe = p
        return {
          add: () => void recorded.adds++,
          depth: (n) => void recorded.depth.push(n),
          queued: (s) => void recorded.queued.push(s),
          worked: (s) => void recorded.worked.push(s),
          retry: () => void recorded.retries++,
        }
      },
    }
    const q = new WorkQueue({name: 'sessions', clock, metrics: provider})
    q.add('a')
    q.add('a')
    q.add('b')
    clock.advance(250)
    const a = await q.get()
    clock.advance(2_000)
    expect(probe?.()).toEqual({unfinishedSeconds: 2, longestSeconds: 2})
    q.done(a as string)
    expect(recorded.adds).toBe(2)
    expect(recorded.queued).toEqual([0.25])
    expect(recorded.worked).toEqual([2])
    expect(recorded.depth.at(-1)).toBe(1)
  })
})
