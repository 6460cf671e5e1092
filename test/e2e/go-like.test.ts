// Informers end to end against the grpc-go-like stand-in of the real server (its headers come
// with the first event, it registers a stream at a moment the client cannot see): the real
// REST and gRPC clients, createSources, the informer. Five forced outages with changes in
// every window, then a 1 kHz write storm with stream kills: nothing may be lost.
import {afterEach, describe, expect, it} from 'vitest'
import {GrpcClient} from '../../src/lib/api/grpc.js'
import {RestClient} from '../../src/lib/api/rest.js'
import {createSources} from '../../src/lib/api/sources.js'
import type {Session} from '../../src/lib/api/types.js'
import {Informer} from '../../src/lib/informer/index.js'
import {GoLikeServer} from '../conformance/go-like-server.js'
import {cacheState, describeDiff, FULL_BATCH, recordInformer, replayEvents, Round, sameState, seed, serverState, waitFor, writers} from './helpers.js'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(options: {sessions: number; registrationDelayMs?: number}) {
  const server = await GoLikeServer.start({registrationDelayMs: options.registrationDelayMs})
  cleanups.push(() => server.close())
  const seq = {next: 0}
  const writer = writers(server.store).sessions
  seed(server.store, writer, options.sessions, seq)
  const rest = new RestClient({baseUrl: server.url, basePath: server.basePath, token: () => server.token})
  const grpc = new GrpcClient({address: server.grpcAddress, tls: false, token: () => server.token})
  cleanups.push(() => grpc.close())
  const informer = new Informer<Session>({
    source: createSources({rest, grpc, watch: 'stream'}).sessions,
    backoff: {initialMs: 5, maxMs: 40, jitter: 0, resetAfterMs: 0},
    // Registration here takes at most registrationDelayMs: the relist comes well after it.
    confirmRelistAfterMs: 400,
  })
  const {events} = recordInformer(informer)
  const stop = new AbortController()
  cleanups.push(() => informer.stop())
  cleanups.push(() => stop.abort())
  await informer.start(stop.signal)
  expect(await informer.waitForSync()).toBe(true)
  const converged = (what: string) =>
    waitFor(
      () => sameState(cacheState(informer), serverState(server.store, 'sessions')) && informer.status().connection === 'watching',
      () => `${what}: ${describeDiff(cacheState(informer), serverState(server.store, 'sessions'))}; ${JSON.stringify(informer.status())}`,
      30_000,
    )
  return {server, writer, seq, informer, events, converged}
}

describe('informers against the grpc-go-like server', () => {
  it('five forced stream outages, with changes while down and while the new stream is not yet registered', async () => {
    const {server, writer, seq, informer, events, converged} = await setup({sessions: 600})
    await converged('the initial sync')
    for (let outage = 1; outage <= 5; outage++) {
      const round = new Round(server.store, writer, seq)
      const from = events.length
      const calls = server.watchCalls
      server.holdRegistrations = true
      expect(server.killStreams()).toBe(1)
      // While the stream is down...
      round.batch(FULL_BATCH)
      await waitFor(() => server.watchCalls > calls, `outage ${outage}: the reconnect`)
      // ...and while the new call has arrived but is not subscribed (the informer is listing).
      round.batch(FULL_BATCH)
      await waitFor(() => server.releaseRegistrations() === 1, `outage ${outage}: the held registration`)
      server.holdRegistrations = false
      await converged(`outage ${outage}`)
      round.check(events.slice(from))
    }
    expect(informer.status().reconnects).toBe(5)
    expect(replayEvents(events)).toEqual(serverState(server.store, 'sessions'))
  })

  it('a 1 kHz write storm with a stream kill every 250 ms loses nothing', async () => {
    const {server, writer, seq, informer, events, converged} = await setup({sessions: 300, registrationDelayMs: 20})
    await converged('the initial sync')
    const started = performance.now()
    let writes = 0
    let kills = 0
    let nextKill = 250
    let n = 0
    // Every millisecond of the storm gets one write, in the order create, update, status, delete.
    while (performance.now() - started < 3000) {
      const due = Math.floor(performance.now() - started)
      for (; writes < due; writes++) {
        const ids = server.store.all('sessions')
        const pick = ids[(writes * 7919) % ids.length].id
        const kind = writes % 5
        if (kind === 0 || ids.length < 50) writer.create(seq.next++)
        else if (kind === 1 || kind === 2) writer.modify(pick, n++)
        else if (kind === 3) writer.modifyOther?.(pick, n++)
        else server.store.delete('sessions', pick)
      }
      if (due >= nextKill) {
        kills += server.killStreams()
        nextKill += 250
      }
      await new Promise((r) => setTimeout(r, 1))
    }
    const seconds = (performance.now() - started) / 1000
    await converged('after the storm')
    expect(replayEvents(events)).toEqual(serverState(server.store, 'sessions'))
    expect(writes / seconds).toBeGreaterThan(900)
    expect(kills).toBeGreaterThanOrEqual(5)
    expect(informer.status().reconnects).toBeGreaterThanOrEqual(kills)
  })
})
