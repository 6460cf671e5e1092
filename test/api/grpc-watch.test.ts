// GrpcClient.watch over real sockets, against the embedded API server and against small
// gRPC servers of the test's own (to write faster than the client reads, or to fail after a
// burst): typed events, the end and errors after every message sent before them, the call
// cancelled when the reader stops, back-pressure, the batch read and the `sent` promise.
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {Server, ServerCredentials, status, type ServerWritableStream, type ServiceError} from '@grpc/grpc-js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EventType} from '../../src/gen/ambient/v1/common.js'
import {
  SessionServiceService,
  type SessionServiceServer,
  type WatchSessionsRequest,
  type SessionWatchEvent,
} from '../../src/gen/ambient/v1/sessions.js'
import {WatchStreamError} from '../../src/lib/api/errors.js'
import {GrpcClient} from '../../src/lib/api/grpc.js'
import type {ObjectMeta, Project, ProjectSettings, Session, WatchEvent} from '../../src/lib/api/types.js'
import {WatchUnimplementedError} from '../../src/lib/api/watch-source.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import {TOKEN, failOnUnhandledErrors, grpcClient, restClient, startServer, waitFor} from './helpers.js'

let server: ApiServer
let grpc: GrpcClient

beforeAll(async () => {
  server = await startServer()
  grpc = grpcClient(server)
})
afterAll(async () => {
  grpc.close()
  await server.close()
})

failOnUnhandledErrors()

async function collect<T extends ObjectMeta>(iterable: AsyncIterable<WatchEvent<T>>, into: WatchEvent<T>[]): Promise<unknown> {
  try {
    for await (const event of iterable) into.push(event)
    return undefined
  } catch (err) {
    return err
  }
}

describe('GrpcClient.watch', () => {
  it('delivers CREATED, UPDATED and DELETED sessions as domain events', async () => {
    const rest = restClient(server)
    const controller = new AbortController()
    const events: WatchEvent<Session>[] = []
    const subscribed = subscriptions('sessions')
    const done = collect(grpc.watch('sessions', controller.signal), events)
    // No headers come before the first event (as from grpc-go): the server's side tells.
    await subscribed(1)

    const created = await rest.create('sessions', {name: 'watched', project_id: 'watch'})
    const updated = await rest.patchStatus(created.id, {phase: 'Running', start_time: '2026-05-06T07:08:09.101112Z'})
    await rest.delete('sessions', created.id)
    await waitFor(() => events.length >= 3, 'three events')
    controller.abort()
    expect(await done).toBeUndefined()

    expect(events.map((e) => e.type)).toEqual(['CREATED', 'UPDATED', 'DELETED'])
    const [c, u, d] = events
    // The server reads the object when it sends: CREATED may already show the update.
    expect(c.type).toBe('CREATED')
    expect([created, updated]).toContainEqual(c.type === 'CREATED' ? c.object : undefined)
    expect(u).toEqual({type: 'UPDATED', id: created.id, object: updated})
    expect(d).toEqual({type: 'DELETED', id: created.id})
  })

  it('delivers projects and project settings', async () => {
    const rest = restClient(server)
    const controller = new AbortController()
    const projectsSubscribed = subscriptions('projects')
    const settingsSubscribed = subscriptions('project_settings')
    const projects: WatchEvent<Project>[] = []
    const settings: WatchEvent<ProjectSettings>[] = []
    const a = collect(grpc.watch('projects', controller.signal), projects)
    const b = collect(grpc.watch('project_settings', controller.signal), settings)
    await projectsSubscribed(1)
    await settingsSubscribed(1)
    const project = await rest.create('projects', {name: 'watched-project', description: 'd'})
    const s = await rest.create('project_settings', {project_id: project.id, repositories: '[]'})
    await waitFor(() => projects.length >= 1 && settings.length >= 1, 'one event each')
    controller.abort()
    expect(await a).toBeUndefined()
    expect(await b).toBeUndefined()
    expect(projects[0]).toEqual({type: 'CREATED', id: project.id, object: project})
    expect(settings[0]).toEqual({type: 'CREATED', id: s.id, object: s})
  })

  it('throws WatchUnimplementedError when the server has no watch', async () => {
    server.setWatchMode('unimplemented')
    try {
      const err = await collect(grpc.watch('sessions', new AbortController().signal), [])
      expect(err).toBeInstanceOf(WatchUnimplementedError)
      expect(err).toMatchObject({code: 'ERR_WATCH_UNIMPLEMENTED'})
    } finally {
      server.setWatchMode('on')
    }
  })

  it('throws WatchStreamError with the gRPC code when the server ends the stream', async () => {
    const subscribed = subscriptions('sessions')
    const done = collect(grpc.watch('sessions', new AbortController().signal), [])
    await subscribed(1)
    server.killWatchStreams()
    const err = await done
    expect(err).toBeInstanceOf(WatchStreamError)
    expect(err).toMatchObject({code: 'ERR_WATCH_STREAM', grpcCode: status.UNAVAILABLE, resource: 'sessions'})
  })

  it('cancels the call when the signal aborts or the consumer stops reading', async () => {
    const listeners = () => server.store.listenerCount('sessions')
    const base = listeners()

    const controller = new AbortController()
    const done = collect(grpc.watch('sessions', controller.signal), [])
    await waitFor(() => listeners() === base + 1, 'the server to subscribe')
    controller.abort()
    expect(await done).toBeUndefined()
    await waitFor(() => listeners() === base, 'the server to see the cancel')

    // Breaking out of the loop after the first event must cancel the call too.
    const iterable = grpc.watch('sessions', new AbortController().signal)
    const first = (async () => {
      for await (const event of iterable) return event
      return undefined
    })()
    await waitFor(() => listeners() === base + 1, 'the server to subscribe the second watch')
    server.store.create('sessions', {name: 'break-out'})
    expect((await first)?.type).toBe('CREATED')
    await waitFor(() => listeners() === base, 'the server to see the second cancel')

    // An already-aborted signal opens nothing.
    const aborted = new AbortController()
    aborted.abort()
    expect(await collect(grpc.watch('sessions', aborted.signal), [])).toBeUndefined()
  })

  it('ends open watches without an error on close()', async () => {
    const client = grpcClient(server)
    const subscribed = subscriptions('projects')
    const done = collect(client.watch('projects', new AbortController().signal), [])
    await subscribed(1)
    client.close()
    expect(await done).toBeUndefined()
  })

  it('holds the server back while the consumer does not read', async () => {
    // The server writes as fast as grpc-js lets it (write() false -> wait for 'drain'): it can
    // only get ahead of the consumer if the client reads without being asked.
    const total = 2000
    const {state, client, close} = await streamServer({total, promptBytes: 8 * 1024, end: (call) => call.end()})
    try {
      const iterator = client.watch('sessions', new AbortController().signal)[Symbol.asyncIterator]()
      expect((await iterator.next()).done).toBe(false)
      await waitFor(() => state.blocked, 'the server to be held back')
      // A client that read ahead would move these 16 MB over loopback in a fraction of this
      // window; one that respects flow control keeps the server blocked however long we wait.
      const readAhead = await waitFor(() => state.sent >= total / 2, 'read-ahead', 1000).then(
        () => true,
        () => false,
      )
      expect(readAhead).toBe(false)
      expect(state.blocked).toBe(true)

      let received = 1
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) received++
      expect(received).toBe(total)
    } finally {
      close()
    }
  })

  it('hands everything received over in one batch, in order, then the end', async () => {
    const total = 300
    const {state, client, close} = await streamServer({total, promptBytes: 16, end: (call) => call.end()})
    try {
      const watch = client.watch('sessions', new AbortController().signal)
      const batches = [(await watch.nextBatch()) ?? []]
      // Nobody reads meanwhile: the queue fills up to its mark and pauses the call.
      await waitFor(() => state.done && watch.buffered >= 127, 'the queue to fill')
      const buffered = watch.buffered
      const burst = (await watch.nextBatch()) ?? []
      expect(burst).toHaveLength(buffered)
      batches.push(burst)
      for (let batch = await watch.nextBatch(); batch; batch = await watch.nextBatch()) batches.push(batch)
      expect(batches.flat().map((e) => e.id)).toEqual(Array.from({length: total}, (_, i) => `s-${i}`))
    } finally {
      close()
    }
  })

  it('delivers the messages received before an error status, then the error', async () => {
    // Small enough to fit in HTTP/2's flow-control windows: all of it is sent, the status last,
    // while the client has paused the call. grpc-js hands a failed status over at once and
    // drops what it had not yet pushed to the stream (a non-OK status wins), but what the
    // queue and the stream's own buffer hold must still come first.
    const total = 400
    const {state, client, close} = await streamServer({
      total,
      promptBytes: 16,
      end: (call) => call.emit('error', {code: status.UNAVAILABLE, details: 'broker gone'}),
    })
    try {
      const events: WatchEvent<Session>[] = []
      const watch = client.watch('sessions', new AbortController().signal)
      const first = await watch.next()
      if (!first.done) events.push(first.value)
      await waitFor(() => state.done && watch.buffered >= 127, 'the server to send everything and fail')
      const queued = watch.buffered
      const err = await collect(watch, events)
      expect(err).toBeInstanceOf(WatchStreamError)
      expect(err).toMatchObject({grpcCode: status.UNAVAILABLE})
      expect(events.map((e) => e.id)).toEqual(Array.from({length: events.length}, (_, i) => `s-${i}`))
      // More than the queue held: the stream's buffered messages too (the error waits for 'end').
      expect(events.length).toBeGreaterThan(1 + queued)
    } finally {
      close()
    }
  })

  it('resolves `sent` once the call is out on a connected channel, never for a call that never was', async () => {
    // A fresh client: its channel connects for this call.
    const client = grpcClient(server)
    try {
      const watch = client.watch('projects', new AbortController().signal)
      expect(await settled(watch.sent)).toBe('pending') // not opened before the first read
      const done = collect(watch, [])
      await waitFor(() => settled(watch.sent).then((s) => s === 'settled'), '`sent` to resolve')
      await watch.return()
      expect(await done).toBeUndefined()
    } finally {
      client.close()
    }

    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const nobody = new GrpcClient({address: `127.0.0.1:${port}`, tls: false, token: () => TOKEN})
    try {
      const watch = nobody.watch('sessions', new AbortController().signal)
      expect(await collect(watch, [])).toMatchObject({code: 'ERR_WATCH_STREAM', grpcCode: status.UNAVAILABLE})
      expect(await settled(watch.sent)).toBe('pending')
    } finally {
      nobody.close()
    }
  })
})

const settled = <T>(promise: Promise<T>): Promise<'pending' | 'settled'> =>
  Promise.race([promise.then(() => 'settled' as const), new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))])

interface StreamServerOptions {
  total: number
  promptBytes: number
  /** Ends the call once every message is written (and flushed past write()'s back-pressure). */
  end: (call: ServerWritableStream<WatchSessionsRequest, SessionWatchEvent>) => void
}

/** A Session service whose watch writes `total` CREATED events as fast as flow control allows. */
async function streamServer(options: StreamServerOptions) {
  const {total} = options
  const prompt = 'x'.repeat(options.promptBytes)
  const state = {sent: 0, blocked: false, done: false}
  const fast = new Server()
  const unimplemented = (_call: unknown, callback: (err: Partial<ServiceError>) => void) =>
    callback({code: status.UNIMPLEMENTED, details: 'not here'})
  const impl: SessionServiceServer = {
    getSession: unimplemented,
    createSession: unimplemented,
    updateSession: unimplemented,
    updateSessionStatus: unimplemented,
    deleteSession: unimplemented,
    listSessions: unimplemented,
    watchSessions: (call) => {
      const pump = () => {
        while (state.sent < total) {
          const id = `s-${state.sent}`
          const session = {
            metadata: {id, kind: 'Session', href: '', created_at: {seconds: 1, nanos: 0}, updated_at: {seconds: 1, nanos: 0}},
            name: id,
            prompt,
          }
          state.sent++
          if (!call.write({type: EventType.EVENT_TYPE_CREATED, session, resource_id: id})) {
            state.blocked = true
            call.once('drain', () => {
              state.blocked = false
              pump()
            })
            return
          }
        }
        options.end(call)
        state.done = true
      }
      pump()
    },
  }
  fast.addService(SessionServiceService, impl)
  const port = await new Promise<number>((resolve, reject) =>
    fast.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  const client = new GrpcClient({address: `127.0.0.1:${port}`, tls: false, token: () => TOKEN})
  return {
    state,
    client,
    close: () => {
      client.close()
      fast.forceShutdown()
    },
  }
}

/** Waits until the server holds `n` more watch subscriptions of `resource` than now. */
function subscriptions(resource: 'sessions' | 'projects' | 'project_settings'): (n: number) => Promise<void> {
  const base = server.store.listenerCount(resource)
  return async (n) => {
    await waitFor(() => server.store.listenerCount(resource) >= base + n, `the server to register ${n} ${resource} watch(es)`)
  }
}
