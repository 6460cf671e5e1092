import {afterEach, describe, expect, it} from 'vitest'
import {TerminalError} from '../../src/lib/controller/controller.js'
import {ExponentialFailureRateLimiter} from '../../src/lib/workqueue/rate-limiters.js'
import {MemoryServer, type Thing} from '../informer/memory-source.js'
import {Gate} from '../informer/helpers.js'
import {lateClock, settle, startHarness, stopHarness, type Harness} from './harness.js'

const running: Harness[] = []
afterEach(async () => {
  for (const h of running.splice(0)) {
    h.abort.abort()
    await h.informer.done
  }
})

async function harness(...args: Parameters<typeof startHarness>): Promise<Harness> {
  const h = await startHarness(...args)
  running.push(h)
  return h
}

function seed(server: MemoryServer, n: number, phase?: string): Thing[] {
  return Array.from({length: n}, (_, i) => server.create(`t${i}`, phase))
}

class Flaky extends Error {}

describe('Controller', () => {
  it('retries the failing 10 % with backoff, reconciles all others, gives up after maxRetries', async () => {
    const server = new MemoryServer()
    const things = seed(server, 200)
    const flaky = new Set(things.filter((_, i) => i % 20 === 0).map((t) => t.id))
    const broken = new Set(things.filter((_, i) => i % 20 === 10).map((t) => t.id))
    const h = await harness({
      server,
      controller: {maxRetries: 4},
      handle: async (req, _signal, attempt) => {
        if (broken.has(req.id)) throw new Flaky(`broken ${req.id}`)
        if (flaky.has(req.id) && attempt <= 3) throw new Flaky(`flaky ${req.id} attempt ${attempt}`)
      },
    })
    const {controller, clock} = h
    await settle(h, () => controller.stats().succeeded + controller.stats().failed === 200)
    expect(controller.stats()).toMatchObject({succeeded: 180, failed: 20, waiting: 20, retries: 20})
    for (const t of things) expect(h.attempts.get(t.id)).toBe(1)

    // Writes while retrying: per-key exclusivity must hold under events too.
    const healthy = things.filter((t) => !flaky.has(t.id) && !broken.has(t.id))
    for (const t of healthy.slice(0, 50)) server.update(t.id, {phase: 'Running'})

    // Per-key exponential: 5, 10, 20, 40 ms after each failure. Nothing is due before.
    const delays = [5, 10, 20, 40]
    let failed = 20
    for (const [i, delay] of delays.entries()) {
      clock.advance(delay - 1)
      expect(controller.stats().waiting).toBe(20 - (i === 3 ? 10 : 0))
      clock.advance(1)
      failed += i < 2 ? 20 : 10
      await settle(h, () => controller.stats().failed === failed)
    }
    await settle(h, () => controller.stats().givenUp === 10)
    const stats = controller.stats()
    expect(stats).toMatchObject({failed: 20 * 3 + 10 * 2, retries: 10 * 3 + 10 * 4, givenUp: 10, waiting: 0, running: true})
    for (const id of flaky) expect(h.attempts.get(id)).toBe(4)
    for (const id of broken) expect(h.attempts.get(id)).toBe(5)
    for (const id of broken) expect(controller.errorOf(id)?.message).toMatch(/broken/)
    await settle(h, () => controller.stats().succeeded === 180 + 10 + 50)
    for (const id of flaky) expect(controller.errorOf(id)).toBeUndefined()
    expect(h.maxConcurrentPerId()).toBe(1)
    clock.advance(100_000)
    expect(controller.stats().queueDepth + controller.stats().inFlight).toBe(0)
    await stopHarness(h)
  })

  it('records terminal errors and never retries them; a later change reconciles again', async () => {
    const server = new MemoryServer()
    const [a, b, c] = seed(server, 3)
    const h = await harness({
      server,
      handle: async (req) => {
        if (req.id !== c.id && req.object?.phase !== 'Fixed') throw new TerminalError(`bad spec ${req.object?.name}`)
      },
    })
    await settle(h, () => h.calls.length === 3)
    expect(h.controller.stats()).toMatchObject({terminal: 2, failed: 0, retries: 0, waiting: 0, succeeded: 1})
    expect(h.controller.errorOf(a.id)).toMatchObject({terminal: true, message: 'bad spec t0'})
    h.clock.advance(3_600_000)
    expect(h.controller.stats().queueDepth).toBe(0)
    expect(h.attempts.get(a.id)).toBe(1)

    server.update(b.id, {phase: 'Fixed'})
    await settle(h, () => h.attempts.get(b.id) === 2)
    expect(h.controller.errorOf(b.id)).toBeUndefined()
    expect(h.attempts.get(a.id)).toBe(1)
  })

  it('reads the latest state at reconcile time: a burst of changes is one more pass', async () => {
    const server = new MemoryServer()
    const [x] = seed(server, 1)
    const gate = new Gate()
    const first = new AbortController()
    const h = await harness({
      server,
      handle: async (_req, _signal, attempt) => {
        if (attempt === 1) await gate.wait(first.signal)
      },
    })
    await expect.poll(() => gate.parked, {timeout: 20_000}).toBe(1)
    let last = x
    for (let i = 0; i < 200; i++) last = server.update(x.id, {name: `v${i}`})
    await expect.poll(() => h.informer.get(x.id)?.generation, {timeout: 20_000}).toBe(last.generation)
    gate.open()
    await settle(h, () => h.attempts.get(x.id) === 2)
    expect(h.calls.map((c) => c.object?.generation)).toEqual([1, last.generation])
    expect(h.calls[0].key).toBe(`things/${x.id}`)
  })

  it('hands deletions to the reconciler with the last known state until handled', async () => {
    const server = new MemoryServer()
    const [a, b] = seed(server, 2)
    let failDeletes = 2
    const h = await harness({
      server,
      handle: async (req) => {
        if (!req.object && failDeletes-- > 0) throw new Flaky('cleanup failed')
      },
    })
    await settle(h, () => h.calls.length === 2)
    const a2 = server.update(a.id, {phase: 'Running'})
    await settle(h, () => h.calls.length === 3)
    server.delete(a.id)
    await expect.poll(() => h.controller.stats().tombstones, {timeout: 20_000}).toBe(1)
    await settle(h, () => h.controller.stats().waiting === 1)
    h.clock.advance(5)
    await settle(h, () => h.controller.stats().waiting === 1 && h.calls.length === 5)
    h.clock.advance(10)
    await settle(h, () => h.calls.length === 6)
    const deletes = h.calls.filter((c) => c.id === a.id && !c.object)
    expect(deletes).toHaveLength(3)
    for (const d of deletes) expect(d).toMatchObject({key: `things/${a.id}`, resource: 'things', id: a.id, object: undefined, deleted: a2})
    expect(h.controller.stats()).toMatchObject({tombstones: 0, waiting: 0})
    expect(h.attempts.get(b.id)).toBe(1)
  })

  it('requeues after requeueAfterMs without counting an error', async () => {
    const server = new MemoryServer()
    const [_a] = seed(server, 1)
    const h = await harness({server, handle: async (_req, _signal, attempt) => (attempt < 3 ? {requeueAfterMs: 1000} : undefined)})
    await settle(h, () => h.calls.length === 1)
    h.clock.advance(999)
    expect(h.controller.stats().queueDepth + h.controller.stats().inFlight).toBe(0)
    h.clock.advance(1)
    await settle(h, () => h.calls.length === 2)
    h.clock.advance(1000)
    await settle(h, () => h.calls.length === 3)
    expect(h.controller.stats()).toMatchObject({requeued: 2, succeeded: 3, failed: 0, waiting: 0})
  })

  it('resyncs objects often while they need attention and rarely once stable', async () => {
    const server = new MemoryServer()
    const busy = server.create('busy', 'Running')
    const stable = server.create('stable', 'Done')
    const h = await harness({
      server,
      controller: {resync: {attentionMs: 30_000, stableMs: 300_000, tickMs: 1000}, needsAttention: (t) => t.phase !== 'Done'},
    })
    await settle(h, () => h.calls.length === 2)
    const idle = (): boolean => h.controller.stats().queueDepth === 0 && h.controller.stats().inFlight === 0
    h.clock.advance(29_000)
    expect(idle()).toBe(true)
    h.clock.advance(2_000)
    await settle(h, () => h.attempts.get(busy.id) === 2)
    expect(h.attempts.get(stable.id)).toBe(1)
    // 31 s + 8 x 31 s = 279 s: the stable object (due at 300 s) is left alone.
    for (let i = 0; i < 8; i++) {
      h.clock.advance(31_000)
      await settle(h, () => h.attempts.get(busy.id) === 3 + i)
    }
    expect(h.attempts.get(stable.id)).toBe(1)
    h.clock.advance(23_000)
    await settle(h, () => h.attempts.get(stable.id) === 2)
    expect(h.controller.stats().scheduled).toBe(2)
  })

  it('treats recently created objects as needing attention for 2 h', async () => {
    const server = new MemoryServer()
    const fresh = server.create('fresh', 'Done')
    const clock = lateClock()
    clock.set(Date.now())
    const h = await harness({server, clock, controller: {resync: {attentionMs: 30_000, stableMs: 300_000}, needsAttention: () => false}})
    const idle = (): boolean => h.controller.stats().queueDepth === 0 && h.controller.stats().inFlight === 0
    await settle(h, () => h.calls.length === 1)
    h.clock.advance(32_000)
    await settle(h, () => h.attempts.get(fresh.id) === 2)
    // One sweep inside this jump re-enqueues it; the pass runs two hours on: no longer recent.
    h.clock.advance(2 * 3600_000)
    await settle(h, () => h.attempts.get(fresh.id) === 3)
    h.clock.advance(290_000)
    expect(idle()).toBe(true)
    h.clock.advance(12_000)
    await settle(h, () => h.attempts.get(fresh.id) === 4)
  })

  it('resyncs a failing object at the attention cadence, ahead of a long backoff', async () => {
    const server = new MemoryServer()
    const sick = server.create('sick', 'Done')
    const h = await harness({
      server,
      controller: {
        resync: {attentionMs: 30_000, stableMs: 300_000},
        needsAttention: () => false,
        rateLimiter: new ExponentialFailureRateLimiter({baseMs: 100_000}),
      },
      handle: async (_req, _signal, attempt) => {
        if (attempt === 1) throw new Flaky('first pass fails')
      },
    })
    await settle(h, () => h.controller.stats().failed === 1)
    expect(h.controller.stats().waiting).toBe(1)
    h.clock.advance(32_000)
    await settle(h, () => h.attempts.get(sick.id) === 2)
    // Healthy now: back to the stable cadence (the pending backoff entry still fires once).
    h.clock.advance(100_000)
    await settle(h)
    const count = h.attempts.get(sick.id) ?? 0
    h.clock.advance(150_000)
    await settle(h)
    expect(h.attempts.get(sick.id)).toBe(count)
  })

  it('resyncs 100k objects from one timer', async () => {
    const server = new MemoryServer()
    const n = 100_000
    for (let i = 0; i < n; i++) server.create(`o${i}`, 'Done')
    const h = await harness({server, controller: {resync: {attentionMs: 30_000, stableMs: 300_000}, needsAttention: () => false}})
    await settle(h, () => h.calls.length === n)
    expect(h.controller.stats().scheduled).toBe(n)
    // The sweep timer, nothing per object.
    expect(h.clock.pendingTimers()).toBe(1)
    h.clock.advance(302_000)
    await settle(h, () => h.calls.length === 2 * n)
    expect(h.clock.pendingTimers()).toBe(1)
  }, 120_000)

  it('waits for the informer to sync, and stop drains reconciles in flight', async () => {
    const server = new MemoryServer()
    server.failLists = 3
    const [a] = seed(server, 1)
    const gate = new Gate()
    const never = new AbortController()
    let signalSeen: AbortSignal | undefined
    const h = await harness({
      server,
      handle: async (_req, signal) => {
        signalSeen = signal
        await gate.wait(never.signal)
      },
    })
    expect(h.informer.hasSynced()).toBe(true)
    await expect.poll(() => h.controller.stats().inFlight, {timeout: 20_000}).toBe(1)
    let stopped = false
    const stopping = h.controller.stop().then(() => (stopped = true))
    server.update(a.id, {phase: 'Running'})
    await expect.poll(() => h.informer.get(a.id)?.phase, {timeout: 20_000}).toBe('Running')
    expect(stopped).toBe(false)
    gate.open()
    await stopping
    expect(signalSeen?.aborted).toBe(false)
    // The update during shutdown was not taken up.
    expect(h.calls).toHaveLength(1)
    expect(h.controller.stats()).toMatchObject({running: false, inFlight: 0})

    // Restartable (as under leader election): every cached object is enqueued again.
    const again = h.controller.start(h.abort.signal)
    await settle(h, () => h.calls.length === 2)
    expect(h.calls[1].object?.phase).toBe('Running')
    h.abort.abort()
    await again
  })

  it('aborts reconciles still running after the grace period', async () => {
    const server = new MemoryServer()
    seed(server, 1)
    let aborted = false
    const h = await harness({
      server,
      controller: {gracePeriodMs: 5000},
      handle: (_req, signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = true
            resolve()
          }),
        ),
    })
    await expect.poll(() => h.controller.stats().inFlight, {timeout: 20_000}).toBe(1)
    const stopping = h.controller.stop()
    await new Promise((r) => setImmediate(r))
    h.clock.advance(5000)
    await stopping
    expect(aborted).toBe(true)
  })

  it('aborts in-flight reconciles at once when `abort` fires (a lost lease), without waiting out the grace period', async () => {
    const server = new MemoryServer()
    seed(server, 2)
    const signals: AbortSignal[] = []
    const lost = new AbortController()
    const h = await harness({
      server,
      start: {abort: lost.signal},
      // A grace period that never ends on this clock: only the abort can end the run.
      controller: {gracePeriodMs: 1e12},
      handle: (_req, signal) => {
        signals.push(signal)
        return new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), {once: true}))
      },
    })
    await expect.poll(() => h.controller.stats().inFlight, {timeout: 20_000}).toBe(2)
    expect(signals.some((s) => s.aborted)).toBe(false)
    // As the elector does when the lease is lost: stop, and abort what is in flight.
    lost.abort(new Error('leadership lost'))
    h.abort.abort()
    await h.run
    expect(signals).toHaveLength(2)
    expect(signals.every((s) => s.aborted)).toBe(true)
    expect(h.controller.stats()).toMatchObject({running: false, inFlight: 0, retries: 0, givenUp: 0})
  })

  it('never lets informer events block on the queue', async () => {
    const server = new MemoryServer()
    const gate = new Gate()
    const never = new AbortController()
    const h = await harness({server, controller: {workers: 1}, handle: () => gate.wait(never.signal)})
    // One worker parked forever; the informer keeps delivering 5k new objects.
    for (let i = 0; i < 5000; i++) server.create(`n${i}`)
    await expect.poll(() => h.informer.status().cacheSize, {timeout: 20_000}).toBe(5000)
    await expect.poll(() => h.controller.stats().queueDepth, {timeout: 20_000}).toBe(4999)
    gate.open()
    await settle(h, () => h.calls.length === 5000)
  })
})
