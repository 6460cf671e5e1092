// Contract section 2, watch semantics. The server facts run against both the embedded server
// and the grpc-go-like stand-in (go-like-server.ts), through raw generated clients so that
// what is on the wire (headers, messages) is what is checked. The client facts run the real
// REST/gRPC clients and the informer against the stand-in.
import {credentials, Metadata, status, type ClientReadableStream, type ServiceError} from '@grpc/grpc-js'
import {afterEach, describe, expect, it} from 'vitest'
import {GrpcClient} from '../../src/lib/api/grpc.js'
import {RestClient} from '../../src/lib/api/rest.js'
import {createSources} from '../../src/lib/api/sources.js'
import type {Session} from '../../src/lib/api/types.js'
import {EventType} from '../../src/gen/ambient/v1/common.js'
import {SessionServiceClient, type SessionWatchEvent} from '../../src/gen/ambient/v1/sessions.js'
import {Informer} from '../../src/lib/informer/index.js'
import {startApiServer, type Store} from '../../src/lib/server/index.js'
import {waitFor} from '../helpers/wait.js'
import {GoLikeServer} from './go-like-server.js'

interface Target {
  grpcAddress: string
  token: string
  store: Store
  killStreams(): void
  close(): Promise<void>
}

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const servers: {name: string; start(): Promise<Target>}[] = [
  {
    name: 'embedded server',
    start: async () => {
      const api = await startApiServer({host: '127.0.0.1', port: 0, grpcPort: 0, token: 'conformance'})
      return {
        grpcAddress: api.grpcAddress,
        token: 'conformance',
        store: api.store,
        killStreams: () => api.killWatchStreams(),
        close: () => api.close(),
      }
    },
  },
  {
    name: 'grpc-go-like server',
    start: async () => {
      const s = await GoLikeServer.start()
      return {grpcAddress: s.grpcAddress, token: s.token, store: s.store, killStreams: () => s.killStreams(), close: () => s.close()}
    },
  },
]

/** A raw watch call: every message and whether headers had arrived before it. */
function rawWatch(target: Target) {
  const client = new SessionServiceClient(target.grpcAddress, credentials.createInsecure())
  const md = new Metadata()
  md.set('authorization', `Bearer ${target.token}`)
  const call: ClientReadableStream<SessionWatchEvent> = client.watchSessions({}, md)
  const seen = {headers: false, messages: [] as {event: SessionWatchEvent; headersBefore: boolean}[], error: undefined as ServiceError | undefined}
  call.on('metadata', () => (seen.headers = true))
  call.on('data', (event: SessionWatchEvent) => seen.messages.push({event, headersBefore: seen.headers}))
  call.on('error', (err: ServiceError) => (seen.error = err))
  cleanups.push(() => {
    call.cancel()
    client.close()
  })
  /** A unary call on the same connection, answered (or refused) by the server: one round trip. */
  const roundTrip = () => new Promise<void>((resolve) => client.getSession({id: 'none'}, md, () => resolve()))
  return {seen, roundTrip}
}

async function started(target: Target, base: number): Promise<void> {
  await waitFor(() => target.store.listenerCount('sessions') === base + 1, 'the server to register the watch')
}

for (const server of servers) {
  describe(`2 watch semantics: ${server.name}`, () => {
    async function open() {
      const target = await server.start()
      cleanups.push(() => target.close())
      const base = target.store.listenerCount('sessions')
      const watch = rawWatch(target)
      await started(target, base)
      return {target, ...watch}
    }

    it('2 watch: the response headers go out with the first event, not before (grpc-go never calls SendHeader)', async () => {
      const {target, seen, roundTrip} = await open()
      // Headers sent when the stream was registered would be on the wire before this answer.
      await roundTrip()
      await roundTrip()
      expect(seen.headers).toBe(false)
      target.store.create('sessions', {name: 'first'})
      await waitFor(() => seen.messages.length === 1, 'the first event')
      expect(seen.headers).toBe(true)
      expect(seen.messages[0].headersBefore).toBe(true)
    })

    it('2 watch: a stream carries only changes made after it opened (nothing is replayed)', async () => {
      const target = await server.start()
      cleanups.push(() => target.close())
      const before = target.store.create('sessions', {name: 'before'})
      const base = target.store.listenerCount('sessions')
      const {seen} = rawWatch(target)
      await started(target, base)
      target.store.update('sessions', before.id, {prompt: 'changed after'})
      const after = target.store.create('sessions', {name: 'after'})
      await waitFor(() => seen.messages.length === 2, 'two events')
      expect(seen.messages.map((m) => [m.event.type, m.event.resource_id])).toEqual([
        [EventType.EVENT_TYPE_UPDATED, before.id],
        [EventType.EVENT_TYPE_CREATED, after.id],
      ])
    })

    it('2 watch: CREATED and UPDATED carry the object as read when sent, so two changes can carry one state', async () => {
      const {target, seen} = await open()
      const created = target.store.create('sessions', {name: 'racy'})
      const updated = target.store.update('sessions', created.id, {prompt: 'second state'})
      await waitFor(() => seen.messages.length === 2, 'two events')
      const [c, u] = seen.messages.map((m) => m.event)
      expect(c.type).toBe(EventType.EVENT_TYPE_CREATED)
      expect(u.type).toBe(EventType.EVENT_TYPE_UPDATED)
      expect(c.session?.prompt).toBe('second state')
      expect(c.session?.metadata?.updated_at).toEqual(u.session?.metadata?.updated_at)
      expect(u.session?.prompt).toBe(updated.prompt)
    })

    it('2 watch: DELETED carries only resource_id, never the object', async () => {
      const {target, seen} = await open()
      const s = target.store.create('sessions', {name: 'doomed'})
      await waitFor(() => seen.messages.length === 1, 'the CREATED event')
      target.store.delete('sessions', s.id)
      await waitFor(() => seen.messages.length === 2, 'the DELETED event')
      const deleted = seen.messages[1].event
      expect(deleted.type).toBe(EventType.EVENT_TYPE_DELETED)
      expect(deleted.resource_id).toBe(s.id)
      expect(deleted.session).toBeUndefined()
    })

    it('2 watch: the server can end a stream at any time with UNAVAILABLE', async () => {
      const {target, seen} = await open()
      target.killStreams()
      await waitFor(() => seen.error, 'the stream to end')
      expect(seen.error?.code).toBe(status.UNAVAILABLE)
    })
  })
}

describe('2 watch semantics: the older generation', () => {
  it('2 watch: an older server has no watch at all (UNIMPLEMENTED)', async () => {
    const api = await startApiServer({host: '127.0.0.1', port: 0, grpcPort: 0, token: 'conformance'})
    cleanups.push(() => api.close())
    api.setWatchMode('unimplemented')
    const {seen} = rawWatch({
      grpcAddress: api.grpcAddress,
      token: 'conformance',
      store: api.store,
      killStreams: () => api.killWatchStreams(),
      close: () => api.close(),
    })
    await waitFor(() => seen.error, 'the call to fail')
    expect(seen.error?.code).toBe(status.UNIMPLEMENTED)
  })
})

describe('2 watch semantics, client side: the informer against the grpc-go-like server', () => {
  async function setup(options: {sessions: number; confirmRelistAfterMs?: number}) {
    const server = await GoLikeServer.start()
    cleanups.push(() => server.close())
    for (let i = 0; i < options.sessions; i++) server.store.create('sessions', {name: `s${i}`})
    const rest = new RestClient({baseUrl: server.url, basePath: server.basePath, token: () => server.token})
    const grpc = new GrpcClient({address: server.grpcAddress, tls: false, token: () => server.token})
    cleanups.push(() => grpc.close())
    const informer = new Informer<Session>({
      source: createSources({rest, grpc, watch: 'stream'}).sessions,
      confirmRelistAfterMs: options.confirmRelistAfterMs,
    })
    const stop = new AbortController()
    cleanups.push(() => informer.stop())
    cleanups.push(() => stop.abort())
    const state = () => new Map(server.store.all('sessions').map((s) => [s.id, s.updated_at]))
    const cache = () => new Map(informer.list().map((s) => [s.id, s.updated_at]))
    return {server, informer, stop, state, cache}
  }

  it('2 watch (client): an informer syncs an idle server that sends no headers and no event', async () => {
    const {server, informer, stop, state, cache} = await setup({sessions: 250})
    await informer.start(stop.signal)
    expect(await informer.waitForSync()).toBe(true)
    expect(cache()).toEqual(state())
    // Nothing was sent on the stream: the sync did not wait for anything from it.
    await waitFor(() => server.registeredStreams() === 1, 'the server to register the stream')
    expect(informer.status().lastEventAt).toBeUndefined()
  })

  it('2 watch (client): changes before the server registered the stream are found by the confirmation relist', async () => {
    const {server, informer, stop, state, cache} = await setup({sessions: 20, confirmRelistAfterMs: 300})
    // The server holds the subscription until the test releases it: changes meanwhile are on
    // no stream, and the first list is already read.
    server.holdRegistrations = true
    await informer.start(stop.signal)
    await informer.waitForSync()
    const [first, second] = server.store.all('sessions')
    server.store.update('sessions', first.id, {prompt: 'while unregistered'})
    server.store.delete('sessions', second.id)
    server.store.create('sessions', {name: 'created while unregistered'})
    expect(cache()).not.toEqual(state())
    await waitFor(() => server.releaseRegistrations() === 1, 'the watch call to arrive')
    const sorted = (m: Map<string, string>) => JSON.stringify([...m].sort())
    await waitFor(() => sorted(cache()) === sorted(state()), 'the cache to equal the server')
    // Found by the relist, not by a reconnect, and from then on the stream carries changes.
    expect(informer.status().reconnects).toBe(0)
    const late = server.store.create('sessions', {name: 'on the stream'})
    await waitFor(() => informer.get(late.id), 'the stream to deliver a later change')
    expect(informer.status().lastEventAt).toBeDefined()
  })
})
