// Informers end to end: the embedded API server on real sockets, the real REST and gRPC
// clients, createSources. Each scenario lists a populated server page by page, then goes
// through rounds in which the server changes at the worst moments (watch stream dead, watch
// reopened but list not started, between two list pages) and checks that the informer ends
// each round with exactly the server's objects and one right last event per changed id.
import {afterEach, describe, expect, it} from 'vitest'
import {createSources, type WatchStrategy} from '../../src/lib/api/sources.js'
import type {ObjectMeta, ResourceName, ResourceTypes} from '../../src/lib/api/types.js'
import {Informer, type ConnectionState, type ResourceSource} from '../../src/lib/informer/index.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import {
  cacheState,
  clients,
  countByType,
  countingFetch,
  describeDiff,
  FULL_BATCH,
  NO_DELETES_OF_EXISTING,
  observedSource,
  recordInformer,
  replayEvents,
  Round,
  sameState,
  seed,
  stateDiff,
  serverState,
  startServer,
  waitFor,
  writers,
  type BatchPlan,
  type Clients,
} from './helpers.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function server(): Promise<ApiServer> {
  const s = await startServer()
  cleanups.push(() => s.close())
  return s
}

interface Variant {
  name: string
  /** The sources' strategy. */
  watch: WatchStrategy
  /** The server has no watch from the start. */
  unimplementedFromStart?: boolean
  /** What starts round `r` (kill the streams, drop the watch...). */
  startRound(server: ApiServer, round: number): void
  /** The connection state at which the first batch of the round is written. */
  gapState(round: number): ConnectionState
  /** After the rounds: the mode the informer must be in. */
  finalMode: 'stream' | 'poll'
  /** The server's watch delivers changes during the rounds. */
  serverWatches?: boolean
}

const streamKilled: Variant = {
  name: 'watch streams killed every round',
  watch: 'stream',
  startRound: (s) => s.killWatchStreams(),
  gapState: () => 'backoff',
  finalMode: 'stream',
  serverWatches: true,
}

const watchGoesAway: Variant = {
  name: 'the server drops its watch in round 1: fallback to polling',
  watch: 'stream',
  startRound: (s, round) => {
    if (round !== 0) return
    s.setWatchMode('unimplemented')
    s.killWatchStreams()
  },
  gapState: (round) => (round === 0 ? 'backoff' : 'polling'),
  finalMode: 'poll',
}

const noWatchFromStart: Variant = {
  name: 'the server never had a watch: polling from the start',
  watch: 'stream',
  unimplementedFromStart: true,
  startRound: () => {},
  gapState: () => 'polling',
  finalMode: 'poll',
}

const pollSources: Variant = {
  name: "watch: 'poll' sources",
  watch: 'poll',
  startRound: () => {},
  gapState: () => 'polling',
  finalMode: 'poll',
}

interface Scenario {
  variant: Variant
  resource: ResourceName
  count: number
  pageSize?: number
  rounds: number
  /** Page after whose response the mid-list batch is written. */
  midListPage: number
}

/**
 * Batches of a round: A at the variant's gap state, B when the relist is about to start
 * (the watch, if any, is open again), C between two list pages. Only C avoids deleting
 * objects that predate the round: with offset paging such a delete shifts later objects onto
 * pages already read (see the separate test of that case below).
 */
const BATCHES: {name: string; plan: BatchPlan}[] = [
  {name: 'A (gap)', plan: FULL_BATCH},
  {name: 'B (relist about to start)', plan: FULL_BATCH},
  {name: 'C (between two pages)', plan: NO_DELETES_OF_EXISTING},
]

async function runScenario<R extends ResourceName>(s: Scenario & {resource: R}): Promise<void> {
  const api = await server()
  if (s.variant.unimplementedFromStart) api.setWatchMode('unimplemented')
  const seq = {next: 0}
  const writer = writers(api.store)[s.resource]
  seed(api.store, writer, s.count, seq)

  const counting = countingFetch()
  const c: Clients = clients(api, counting.fetch)
  cleanups.push(() => c.close())
  const pageSize = s.pageSize ?? 100
  const sources = createSources({rest: c.rest, grpc: c.grpc, watch: s.variant.watch, list: {pageSize}})
  const observed = observedSource(sources[s.resource] as ResourceSource<ResourceTypes[R]>)
  const informer = new Informer<ResourceTypes[R]>({
    source: observed.source,
    pollIntervalMs: 30,
    // Reconnect at once, every time: the rounds are about what happens in the gap, not its length.
    backoff: {initialMs: 5, maxMs: 20, jitter: 0, resetAfterMs: 0},
  })
  const {events} = recordInformer(informer)
  const stop = new AbortController()
  cleanups.push(() => informer.stop())
  cleanups.push(() => stop.abort())

  // ---- initial sync: every page of `pageSize`, exactly one ADDED per object ----
  await informer.start(stop.signal)
  expect(await informer.waitForSync()).toBe(true)
  const pages = Math.ceil(s.count / pageSize)
  const listed = counting.pages.filter((p) => p.resource === s.resource)
  expect(listed.map((p) => p.page).sort((a, b) => a - b)).toEqual(Array.from({length: pages}, (_, i) => i + 1))
  expect(new Set(listed.map((p) => p.size))).toEqual(new Set([pageSize]))
  expect(countByType(events)).toEqual({ADDED: s.count, MODIFIED: 0, DELETED: 0})
  expect(sameState(cacheState(informer), serverState(api.store, s.resource))).toBe(true)
  // The informer lists without waiting for the watch to answer, so it may learn that the
  // server has no watch only after its first sync.
  const initialMode = s.variant.unimplementedFromStart || s.variant.watch === 'poll' ? 'poll' : 'stream'
  await waitFor(
    () => informer.status().mode === initialMode,
    () => `mode ${initialMode} (${JSON.stringify(informer.status())})`,
  )

  // ---- rounds of changes at the worst moments ----
  for (let r = 0; r < s.rounds; r++) {
    const round = new Round(api.store, writer, seq)
    const from = events.length
    const reconnectsBefore = informer.status().reconnects
    const fired: string[] = []
    const states: ConnectionState[] = []
    let next = 0
    const fire = (why: string): string | undefined => {
      const batch = BATCHES[next++]
      fired.push(`${batch.name} at ${why}`)
      return round.batch(batch.plan)
    }
    const unsubscribe = informer.onStatus((status) => {
      states.push(status.connection)
      if (next === 0 && status.connection === s.variant.gapState(r)) fire(status.connection)
      else if (next === 1 && status.connection === 'listing') fire('listing')
    })
    counting.onPage(async (p) => {
      if (next !== 2 || p.resource !== s.resource || p.page !== s.midListPage) return
      // Written while the informer is between two pages of its relist...
      expect(informer.status().connection).toBe('listing')
      const last = fire(`after page ${p.page}`)
      if (informer.status().mode === 'poll' || !s.variant.serverWatches || last === undefined) return
      // ...and the page is held until the watch has delivered those changes, so they reach
      // the informer while it is still listing (its replay buffer), not after.
      const at = api.store.get(s.resource, last)?.updated_at ?? ''
      await waitFor(
        () => observed.delivered(last, at),
        () => `the watch to deliver ${last} at ${at}`,
      )
    })
    try {
      s.variant.startRound(api, r)
      await waitFor(
        () => next === BATCHES.length,
        () => `round ${r}: the three batches (fired: ${fired.join(', ') || 'none'}; states ${states.join(' > ')})`,
      )
      const server = () => serverState(api.store, s.resource)
      await waitFor(
        () => sameState(cacheState(informer), server()) && (informer.status().mode === 'poll' || informer.status().connection === 'watching'),
        () => `round ${r}: the cache to catch up (${describeDiff(cacheState(informer), server())}; status ${JSON.stringify(informer.status())})`,
      )
    } finally {
      unsubscribe()
      counting.onPage(undefined)
    }
    if (s.variant === streamKilled) {
      // The gap batch was written while the stream was down, and the informer reconnected.
      expect(states[0]).toBe('backoff')
      expect(informer.status().reconnects).toBeGreaterThan(reconnectsBefore)
    }
    round.check(events.slice(from))
  }

  // ---- the end: exactly the server's objects, reached through consistent events ----
  const finalServer = serverState(api.store, s.resource)
  expect(cacheState(informer)).toEqual(finalServer)
  expect(replayEvents(events)).toEqual(finalServer)
  expect(informer.status()).toMatchObject({synced: true, mode: s.variant.finalMode, cacheSize: finalServer.size})
  if (s.variant.finalMode === 'stream') expect(informer.status().connection).toBe('watching')
  // Objects that arrived through the watch are the same objects the REST list returns.
  const byRest = new Map((await c.rest.listAll<ObjectMeta>(s.resource)).map((o) => [o.id, o]))
  const mismatched = informer.list().filter((o) => JSON.stringify(sortKeys(o)) !== JSON.stringify(sortKeys(byRest.get(o.id))))
  expect(mismatched.map((o) => ({cache: sortKeys(o), rest: sortKeys(byRest.get(o.id))})).slice(0, 2)).toEqual([])
}

function sortKeys(o: object | undefined): Record<string, unknown> | undefined {
  if (!o) return undefined
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)))
}

describe('sessions informer over a real server: 1234 sessions, 13 pages of 100, 10 rounds of changes', () => {
  for (const variant of [streamKilled, watchGoesAway, noWatchFromStart, pollSources]) {
    it(variant.name, async () => {
      await runScenario({variant, resource: 'sessions', count: 1234, rounds: 10, midListPage: 3})
    })
  }
})

describe('projects and project settings informers', () => {
  for (const resource of ['projects', 'project_settings'] as const) {
    for (const variant of [streamKilled, watchGoesAway, pollSources]) {
      it(`${resource}: ${variant.name}`, async () => {
        await runScenario({variant, resource, count: 157, pageSize: 50, rounds: 4, midListPage: 2})
      })
    }
  }
})

// Offset paging is not a snapshot: the server pages in insertion order, so a delete on a page
// the client has already read shifts every later object one place forward, and the first object
// of the next page is in no page at all. Taking such a list as complete would emit DELETED for a
// session that still exists (kube mode: its CR deleted). The informer lists again when a DELETED
// arrived during a list, and in poll mode deletes only what two lists in a row lack.
describe('offset paging while objects are deleted', () => {
  async function setup(watch: WatchStrategy) {
    const api = await server()
    const seq = {next: 0}
    seed(api.store, writers(api.store).sessions, 1234, seq)
    const counting = countingFetch()
    const c = clients(api, counting.fetch)
    cleanups.push(() => c.close())
    const informer = new Informer({
      source: createSources({rest: c.rest, grpc: c.grpc, watch}).sessions,
      pollIntervalMs: 30,
      backoff: {initialMs: 5, maxMs: 20, jitter: 0, resetAfterMs: 0},
    })
    const {events} = recordInformer(informer)
    const stop = new AbortController()
    cleanups.push(() => informer.stop())
    cleanups.push(() => stop.abort())
    /** Deletes the first session once, right after the next page-1 response. */
    const deleteFirstAfterPage1 = (): {deleted: () => string | undefined} => {
      let deleted: string | undefined
      counting.onPage((p) => {
        if (deleted !== undefined || p.page !== 1) return
        deleted = api.store.all('sessions')[0].id
        api.store.delete('sessions', deleted)
      })
      return {deleted: () => deleted}
    }
    return {api, informer, events, stop, deleteFirstAfterPage1, counting}
  }

  it('initial list: every session that exists ends up in the cache', async () => {
    const {api, informer, stop, deleteFirstAfterPage1, counting} = await setup('stream')
    const hook = deleteFirstAfterPage1()
    await informer.start(stop.signal)
    await informer.waitForSync()
    // The delete may come before the server registered the stream, so the first list cannot
    // know it is short: the confirmation relist completes it.
    await waitFor(
      () => counting.pages.filter((p) => p.page === 1).length >= 2 && informer.status().connection === 'watching',
      () => 'the confirmation relist',
    )
    expect(hook.deleted()).toBeDefined()
    expect(stateDiff(cacheState(informer), serverState(api.store, 'sessions'))).toBe('')
  })

  it('relist after a reconnect: no DELETED for a session that still exists', async () => {
    const {api, informer, events, stop, deleteFirstAfterPage1} = await setup('stream')
    await informer.start(stop.signal)
    await informer.waitForSync()
    await waitFor(
      () => informer.status().connection === 'watching',
      () => 'watching',
    )
    const from = events.length
    const hook = deleteFirstAfterPage1()
    api.killWatchStreams()
    await waitFor(
      () => hook.deleted() !== undefined && !informer.get(hook.deleted() ?? '') && informer.status().connection === 'watching',
      () => 'the relist',
    )
    const wronglyDeleted = events.slice(from).filter((e) => e.type === 'DELETED' && api.store.get('sessions', e.object.id))
    expect(wronglyDeleted.map((e) => e.object.id)).toEqual([])
    expect(stateDiff(cacheState(informer), serverState(api.store, 'sessions'))).toBe('')
  })

  it('polling: no DELETED for a session that still exists', async () => {
    const {api, informer, events, stop, deleteFirstAfterPage1} = await setup('poll')
    await informer.start(stop.signal)
    await informer.waitForSync()
    const from = events.length
    const hook = deleteFirstAfterPage1()
    await waitFor(
      () => hook.deleted() !== undefined && !informer.get(hook.deleted() ?? ''),
      () => 'the next poll',
    )
    const wronglyDeleted = events.slice(from).filter((e) => e.type === 'DELETED' && api.store.get('sessions', e.object.id))
    expect(wronglyDeleted.map((e) => e.object.id)).toEqual([])
  })
})
