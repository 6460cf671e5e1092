import {afterEach, describe, expect, it} from 'vitest'
import {Backoff} from '../../src/lib/util/backoff.js'
import type {ResourceEvent} from '../../src/lib/informer/events.js'
import {Informer, type InformerOptions} from '../../src/lib/informer/informer.js'
import {WatchUnimplementedError} from '../../src/lib/api/watch-source.js'
import {Gate, cacheOf, netEvents, record, replay, seeded, sortById, sortedEntries, untilCacheEquals} from './helpers.js'
import {MemoryServer, type Thing} from './memory-source.js'

const stops: AbortController[] = []
afterEach(() => {
  for (const c of stops.splice(0)) c.abort()
})

function startInformer(options: InformerOptions<Thing>): Informer<Thing> {
  const informer = new Informer<Thing>({backoff: {initialMs: 2, maxMs: 10}, ...options})
  const controller = new AbortController()
  stops.push(controller)
  void informer.start(controller.signal)
  return informer
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('Informer (watch)', () => {
  it('lists every object, then follows creates, updates and deletes', async () => {
    const server = new MemoryServer()
    const a = server.create('a')
    const b = server.create('b')
    server.create('c')
    const informer = new Informer<Thing>({source: server.source()})
    const events = record(informer)
    const stop = new AbortController()
    stops.push(stop)
    await informer.start(stop.signal)
    expect(await informer.waitForSync()).toBe(true)
    expect(informer.hasSynced()).toBe(true)
    expect(sortedEntries(cacheOf(informer))).toEqual(sortedEntries(server.snapshot()))
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'ADDED'])
    await expect.poll(() => informer.status().connection, {timeout: 20_000}).toBe('watching')

    events.length = 0
    const d = server.create('d')
    const a2 = server.update(a.id, {phase: 'Running'})
    server.delete(b.id)
    await untilCacheEquals(informer, () => server.snapshot())
    expect(events).toEqual([
      {type: 'ADDED', resource: 'things', object: d},
      {type: 'MODIFIED', resource: 'things', object: a2, old: a},
      {type: 'DELETED', resource: 'things', object: b},
    ])
    expect(informer.get(a.id)).toEqual(a2)
    expect(informer.lister.get(b.id)).toBeUndefined()
    expect(informer.status()).toMatchObject({resource: 'things', synced: true, mode: 'stream', cacheSize: 3, reconnects: 0})
    await informer.stop()
    expect(informer.status().connection).toBe('stopped')
    expect(server.openStreams()).toBe(0)
  })

  it('after a killed stream, every change made while disconnected yields exactly its net event', async () => {
    const server = new MemoryServer()
    const seed = Array.from({length: 30}, (_, i) => server.create(`t${i}`))
    const gate = new Gate()
    const informer = startInformer({source: server.source(), delay: (_ms, signal) => gate.wait(signal)})
    const events = record(informer)
    await informer.waitForSync()
    await expect.poll(() => informer.status().connection, {timeout: 20_000}).toBe('watching')
    const before = cacheOf(informer)
    events.length = 0

    expect(server.killStreams()).toBe(1)
    await expect.poll(() => gate.parked, {timeout: 20_000}).toBe(1)
    expect(informer.status().connection).toBe('backoff')
    expect(informer.status().lastError).toMatch(/UNAVAILABLE/)
    // Everything below happens with no stream open: nothing of it is ever replayed.
    for (let i = 0; i < 5; i++) server.create(`new${i}`)
    for (let i = 0; i < 5; i++) server.update(seed[i].id, {phase: 'Running'})
    for (let i = 5; i < 8; i++) {
      server.update(seed[i].id, {phase: 'Running'})
      server.update(seed[i].id, {phase: 'Completed'})
    }
    for (let i = 10; i < 15; i++) server.delete(seed[i].id)
    for (let i = 15; i < 17; i++) {
      server.update(seed[i].id, {name: 'doomed'})
      server.delete(seed[i].id)
    }
    for (let i = 0; i < 3; i++) server.delete(server.create(`ephemeral${i}`).id)

    gate.open()
    await untilCacheEquals(informer, () => server.snapshot())
    await expect.poll(() => informer.status().connection, {timeout: 20_000}).toBe('watching')
    expect(sortById(events)).toEqual(netEvents('things', before, server.snapshot()))
    expect(events).toHaveLength(5 + 5 + 3 + 5 + 2)
    expect(informer.status().reconnects).toBe(1)
  })

  it('opens the watch before listing: changes racing the list are neither lost nor doubled', async () => {
    const server = new MemoryServer()
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => server.create(n))
    let e: Thing | undefined
    let f: Thing | undefined
    // Changes after the stream opened but before the snapshot: the list has them. Each hook
    // fires once, as a real change would: the informer may list more than once.
    server.beforeSnapshot = () => {
      server.beforeSnapshot = undefined
      server.update(a.id, {phase: 'Running'})
      e = server.create('e')
    }
    // Changes after the snapshot: only the buffered stream events have them.
    server.afterSnapshot = () => {
      server.afterSnapshot = undefined
      server.update(b.id, {phase: 'Running'})
      server.delete(c.id)
      f = server.create('f')
    }
    const informer = startInformer({source: server.source()})
    const events = record(informer)
    await informer.waitForSync()
    await untilCacheEquals(informer, () => server.snapshot())
    server.beforeSnapshot = undefined
    server.afterSnapshot = undefined
    const types = events.map((ev) => `${ev.type} ${ev.object.name}`)
    expect(types.slice(0, 5).sort()).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'ADDED d', 'ADDED e'])
    expect(types.slice(5)).toEqual(['MODIFIED b', 'DELETED c', 'ADDED f'])
    expect(informer.get(e?.id ?? '')).toEqual(e)
    expect(informer.get(f?.id ?? '')).toEqual(f)
    expect(replay(events)).toEqual(server.snapshot())

    // The same on a reconnect, plus a stale event older than the list.
    await expect.poll(() => informer.status().connection, {timeout: 20_000}).toBe('watching')
    const before = cacheOf(informer)
    events.length = 0
    server.beforeSnapshot = async () => {
      server.beforeSnapshot = undefined
      server.update(d.id, {phase: 'Running'})
      // Let that event be sent (carrying this state) before the next write.
      await tick()
      await tick()
      server.update(d.id, {phase: 'Completed'})
    }
    server.afterSnapshot = () => {
      server.afterSnapshot = undefined
      server.delete(a.id)
    }
    const listsBefore = server.lists
    server.killStreams()
    // The reconnect lists again (twice here: a delete arrived while it listed).
    await expect.poll(() => server.lists, {timeout: 20_000}).toBeGreaterThanOrEqual(listsBefore + 2)
    await untilCacheEquals(informer, () => server.snapshot())
    expect(sortById(events)).toEqual(netEvents('things', before, server.snapshot()))
    expect(informer.get(d.id)?.phase).toBe('Completed')
  })

  it('two events carrying the same state produce one event', async () => {
    const server = new MemoryServer()
    const a = server.create('a')
    const b = server.create('b')
    const informer = startInformer({source: server.source()})
    const events = record(informer)
    await informer.waitForSync()
    await expect.poll(() => informer.status().connection, {timeout: 20_000}).toBe('watching')
    events.length = 0
    // Two writes in a row: both events are read when sent, so both carry the second state.
    server.update(a.id, {phase: 'Running'})
    const a2 = server.update(a.id, {phase: 'Completed'})
    server.resend(a.id)
    // Ordered stream: once b's change is seen, a's duplicates have been handled.
    const b2 = server.update(b.id, {phase: 'Running'})
    await expect.poll(() => events.length, {timeout: 20_000}).toBeGreaterThanOrEqual(2)
    await untilCacheEquals(informer, () => server.snapshot())
    expect(events).toEqual([
      {type: 'MODIFIED', resource: 'things', object: a2, old: a},
      {type: 'MODIFIED', resource: 'things', object: b2, old: b},
    ])
  })

  it('converges under random writes, killed streams and failed lists', async () => {
    const server = new MemoryServer()
    const random = seeded(42)
    for (let i = 0; i < 50; i++) server.create(`seed${i}`)
    const informer = startInformer({source: server.source(), random})
    const events = record(informer)
    await informer.waitForSync()
    let kills = 0
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 10; i++) {
        const ids = server.ids()
        const r = random()
        if (r < 0.3 || ids.length === 0) server.create(`r${round}-${i}`)
        else if (r < 0.8) server.update(ids[Math.floor(random() * ids.length)], {phase: `p${round}`})
        else server.delete(ids[Math.floor(random() * ids.length)])
      }
      if (round % 5 === 0) {
        // Kill a live stream (not a backoff pause) so each kill forces a reconnect.
        await expect.poll(() => server.openStreams(), {timeout: 20_000}).toBe(1)
        kills += server.killStreams()
      }
      if (round % 13 === 0) server.failLists = 2
      await tick()
    }
    await untilCacheEquals(informer, () => server.snapshot())
    expect(sortedEntries(replay(events))).toEqual(sortedEntries(server.snapshot()))
    expect(kills).toBe(8)
    expect(informer.status().reconnects).toBeGreaterThanOrEqual(kills)
  })

  it('reports idle when a watch has been quiet, without treating it as an error', async () => {
    const server = new MemoryServer()
    const a = server.create('a')
    let now = 1_000_000
    const informer = startInformer({source: server.source(), idleAfterMs: 60_000, now: () => now})
    await informer.waitForSync()
    await expect.poll(() => informer.status().connection, {timeout: 20_000}).toBe('watching')
    expect(informer.status().idle).toBe(false)
    now += 60_000
    expect(informer.status()).toMatchObject({idle: true, connection: 'watching', reconnects: 0})
    server.update(a.id, {phase: 'Running'})
    await expect.poll(() => informer.status().lastEventAt, {timeout: 20_000}).toBe(now)
    expect(informer.status().idle).toBe(false)
  })

  it('keeps going when a handler throws', async () => {
    const server = new MemoryServer()
    const informer = startInformer({source: server.source()})
    informer.on(() => {
      throw new Error('handler bug')
    })
    const events = record(informer)
    const unsubscribed: ResourceEvent<Thing>[] = []
    const off = informer.on((e) => unsubscribed.push(e))
    off()
    off()
    await informer.waitForSync()
    server.create('x')
    server.create('y')
    await expect.poll(() => events.length, {timeout: 20_000}).toBe(2)
    expect(unsubscribed).toEqual([])
    expect(informer.status().connection).toBe('watching')
  })

  it('emits status changes and waitForSync gives up on abort', async () => {
    const server = new MemoryServer()
    server.failLists = 1_000_000
    const informer = startInformer({source: server.source()})
    const states: string[] = []
    informer.onStatus((s) => states.push(s.connection))
    const abort = new AbortController()
    const waiting = informer.waitForSync(abort.signal)
    await expect.poll(() => informer.status().reconnects, {timeout: 20_000}).toBeGreaterThan(2)
    abort.abort()
    expect(await waiting).toBe(false)
    expect(states).toContain('listing')
    expect(states).toContain('backoff')
    expect(informer.status().lastError).toMatch(/list failed/)
  })
})

// The real server (grpc-go) sends a stream's headers with its first event and never says when
// it registered the stream: the informer lists at once and lists once more later.
describe('Informer (a server that registers streams late and says nothing until then)', () => {
  it('syncs an idle server whose stream never sends anything', async () => {
    const server = new MemoryServer()
    server.lateRegistration = true
    for (let i = 0; i < 20; i++) server.create(`t${i}`)
    const informer = startInformer({source: server.source()})
    const events = record(informer)
    expect(await informer.waitForSync()).toBe(true)
    expect(sortedEntries(cacheOf(informer))).toEqual(sortedEntries(server.snapshot()))
    expect(events.map((e) => e.type)).toEqual(Array(20).fill('ADDED'))
    expect(server.pendingRegistrations()).toBe(1)
    expect(informer.status()).toMatchObject({synced: true, connection: 'watching', mode: 'stream'})
  })

  it('the confirmation relist, confirmRelistAfterMs after the request went out, finds what no stream carried', async () => {
    const server = new MemoryServer()
    server.lateRegistration = true
    const [a, b, c] = ['a', 'b', 'c'].map((n) => server.create(n))
    const gate = new Gate()
    const asked: number[] = []
    let now = 5_000
    const informer = startInformer({
      source: server.source(),
      now: () => now,
      confirmRelistAfterMs: 1500,
      confirmDelay: (ms, signal) => {
        asked.push(ms)
        return gate.wait(signal)
      },
    })
    const events = record(informer)
    await informer.waitForSync()
    await expect.poll(() => gate.parked, {timeout: 20_000}).toBe(1)
    // Request sent at 5000 (the source has no `sent` hint: sent when opened), asked at 5000.
    expect(asked).toEqual([1500])
    const before = cacheOf(informer)
    events.length = 0
    // Changes before the server registered the stream: on no stream, in no list read so far.
    server.update(a.id, {phase: 'Running'})
    server.delete(b.id)
    const d = server.create('d')
    expect(server.registerPending()).toBe(1)
    // After registration: on the stream, held while the relist is read, then applied.
    server.afterSnapshot = () => {
      server.afterSnapshot = undefined
      server.update(c.id, {phase: 'Completed'})
    }
    const lists = server.lists
    now += 1500
    gate.open()
    await expect.poll(() => server.lists === lists + 1 && server.afterSnapshot === undefined, {timeout: 20_000}).toBe(true)
    await untilCacheEquals(informer, () => server.snapshot())
    expect(sortById(events)).toEqual(netEvents('things', before, server.snapshot()))
    expect(informer.get(d.id)).toEqual(d)
    expect(informer.status().connection).toBe('watching')
    // Once per connection: no further relists while the stream lives.
    server.create('e')
    await untilCacheEquals(informer, () => server.snapshot())
    expect(server.lists).toBe(lists + 1)
  })

  it('counts the wait from when the request was sent, not from when the call was made', async () => {
    const server = new MemoryServer()
    const inner = server.source()
    let markSent: () => void = () => {}
    const sent = new Promise<void>((resolve) => (markSent = resolve))
    const watch = inner.watch?.bind(inner)
    if (!watch) throw new Error('the memory source has a watch')
    const source = {...inner, watch: (signal: AbortSignal) => Object.assign(watch(signal), {sent})}
    let now = 10_000
    const asked: number[] = []
    const informer = startInformer({
      source,
      now: () => now,
      confirmRelistAfterMs: 2000,
      confirmDelay: (ms) => {
        asked.push(ms)
        return new Promise(() => {})
      },
    })
    await informer.waitForSync()
    await tick()
    await tick()
    expect(asked).toEqual([])
    now += 700
    markSent()
    await expect.poll(() => asked, {timeout: 20_000}).toEqual([2000])
  })

  it('a stream that ends before the relist reconnects and confirms again, and no change is lost', async () => {
    const server = new MemoryServer()
    server.lateRegistration = true
    for (let i = 0; i < 10; i++) server.create(`seed${i}`)
    const gate = new Gate()
    const informer = startInformer({source: server.source(), confirmDelay: (_ms, signal) => gate.wait(signal)})
    await informer.waitForSync()
    await expect.poll(() => gate.parked, {timeout: 20_000}).toBe(1)
    server.create('lost-from-first-stream')
    server.registerPending()
    server.killStreams()
    // The killed connection's wait ends with it; the new connection waits again.
    await expect.poll(() => informer.status().reconnects, {timeout: 20_000}).toBe(1)
    await expect.poll(() => gate.parked, {timeout: 20_000}).toBe(1)
    server.create('before-second-registration')
    server.registerPending()
    gate.open()
    await untilCacheEquals(informer, () => server.snapshot())
  })

  it('converges under a write storm with late registrations, killed streams and failed lists', async () => {
    const server = new MemoryServer()
    server.lateRegistration = true
    const random = seeded(7)
    for (let i = 0; i < 50; i++) server.create(`seed${i}`)
    // The server registers each stream at a random moment before its confirmation relist.
    const informer = startInformer({
      source: server.source(),
      random,
      confirmDelay: async (_ms, signal) => {
        for (let i = Math.floor(random() * 6); i > 0 && !signal.aborted; i--) await tick()
        server.registerPending()
      },
    })
    const events = record(informer)
    await informer.waitForSync()
    let kills = 0
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 10; i++) {
        const ids = server.ids()
        const r = random()
        if (r < 0.3 || ids.length === 0) server.create(`r${round}-${i}`)
        else if (r < 0.8) server.update(ids[Math.floor(random() * ids.length)], {phase: `p${round}`})
        else server.delete(ids[Math.floor(random() * ids.length)])
        if (random() < 0.3) await tick()
      }
      if (round % 5 === 0) kills += server.killStreams()
      if (round % 13 === 0) server.failLists = 2
      await tick()
    }
    // Only the confirmation relists register streams here: writes made once the last
    // connection is live are on its stream or found by its confirmation.
    await expect.poll(() => informer.status().connection, {timeout: 20_000}).toBe('watching')
    for (let i = 0; i < 5; i++) server.create(`after-storm-${i}`)
    await untilCacheEquals(informer, () => server.snapshot())
    expect(sortedEntries(replay(events))).toEqual(sortedEntries(server.snapshot()))
    expect(kills).toBeGreaterThan(0)
  })
})

describe('Informer (poll)', () => {
  it('polls and diffs when told to', async () => {
    const server = new MemoryServer()
    const a = server.create('a')
    const b = server.create('b')
    const informer = startInformer({source: server.source(), watchMode: 'poll', pollIntervalMs: 5})
    const events = record(informer)
    await informer.waitForSync()
    server.update(a.id, {phase: 'Running'})
    server.delete(b.id)
    server.create('c')
    await untilCacheEquals(informer, () => server.snapshot())
    expect(replay(events)).toEqual(server.snapshot())
    expect(server.watches).toBe(0)
    expect(informer.status().mode).toBe('poll')
  })

  it('falls back to polling when the server has no watch (UNIMPLEMENTED)', async () => {
    const server = new MemoryServer()
    const seed = [server.create('w1'), server.create('w2')]
    const informer = startInformer({source: server.source({watch: 'unimplemented', resource: 'workflows'}), pollIntervalMs: 5})
    const events = record(informer)
    await informer.waitForSync()
    await expect.poll(() => informer.status().mode, {timeout: 20_000}).toBe('poll')
    server.update(seed[0].id, {phase: 'Running'})
    server.delete(seed[1].id)
    server.create('w3')
    await untilCacheEquals(informer, () => server.snapshot())
    expect(replay(events)).toEqual(server.snapshot())
    expect(events.every((e) => e.resource === 'workflows')).toBe(true)
  })

  it('falls back to polling when watch() throws WatchUnimplementedError at once', async () => {
    const server = new MemoryServer()
    server.create('old-gen')
    const base = server.source({watch: 'none', resource: 'tasks'})
    const source = {
      ...base,
      watch(): AsyncIterable<never> {
        throw new WatchUnimplementedError('tasks')
      },
    }
    const informer = startInformer({source, pollIntervalMs: 5})
    await informer.waitForSync()
    server.create('new')
    await untilCacheEquals(informer, () => server.snapshot())
    expect(informer.status()).toMatchObject({mode: 'poll', reconnects: 0})
  })

  it('polls a source that has no watch at all, retrying failed lists', async () => {
    const server = new MemoryServer()
    server.create('t1')
    server.failLists = 2
    const informer = startInformer({source: server.source({watch: 'none', resource: 'tasks'}), pollIntervalMs: 5})
    await informer.waitForSync()
    expect(informer.status().reconnects).toBe(2)
    server.create('t2')
    await untilCacheEquals(informer, () => server.snapshot())
  })
})

describe('backoff', () => {
  it('doubles from 1 s to 30 s with jitter from the injected random', () => {
    const low = new Backoff({initialMs: 1000, maxMs: 30_000, jitter: 0.25, resetAfterMs: 30_000}, () => 0)
    expect(Array.from({length: 7}, () => low.next())).toEqual([750, 1500, 3000, 6000, 12_000, 22_500, 22_500])
    const mid = new Backoff({initialMs: 1000, maxMs: 30_000, jitter: 0.25, resetAfterMs: 30_000}, () => 0.5)
    expect(Array.from({length: 7}, () => mid.next())).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000])
    mid.reset()
    expect(mid.next()).toBe(1000)
  })

  it('the informer waits those delays between reconnects and resets after a healthy stream', async () => {
    const server = new MemoryServer()
    server.failWatches = 7
    const delays: number[] = []
    let now = 0
    const informer = new Informer<Thing>({
      source: server.source(),
      random: () => 0,
      now: () => now,
      delay: async (ms) => {
        delays.push(ms)
        await tick()
      },
    })
    const stop = new AbortController()
    stops.push(stop)
    await informer.start(stop.signal)
    await expect.poll(() => informer.status().connection, {timeout: 20_000}).toBe('watching')
    expect(delays).toEqual([750, 1500, 3000, 6000, 12_000, 22_500, 22_500])
    expect(informer.status().reconnects).toBe(7)

    // Healthy for resetAfterMs: the next reconnect starts from the initial delay again.
    now += 30_000
    server.killStreams()
    await expect.poll(() => delays.length, {timeout: 20_000}).toBe(8)
    await expect.poll(() => informer.status().connection, {timeout: 20_000}).toBe('watching')
    // Killed again at once: not healthy long enough, so the delay doubles.
    server.killStreams()
    await expect.poll(() => delays.length, {timeout: 20_000}).toBe(9)
    expect(delays.slice(7)).toEqual([750, 1500])
  })
})
