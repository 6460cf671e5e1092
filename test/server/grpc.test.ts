import {Metadata, status} from '@grpc/grpc-js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EventType} from '../../src/gen/ambient/v1/common.js'
import type {ListSessionsResponse, Session as PbSession, SessionWatchEvent} from '../../src/gen/ambient/v1/sessions.js'
import type {ProjectWatchEvent} from '../../src/gen/ambient/v1/projects.js'
import type {ProjectSettingsWatchEvent} from '../../src/gen/ambient/v1/project_settings.js'
import {formatRfc3339} from '../../src/lib/api/time.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import {afterSubscribers, api, authMetadata, Collector, grpcCall, grpcClients, grpcError, obj, startTestServer, waitFor} from './helpers.js'

let server: ApiServer
let clients: ReturnType<typeof grpcClients>
const md = authMetadata()

beforeAll(async () => {
  server = await startTestServer()
  clients = grpcClients(server)
})
afterAll(async () => {
  clients.close()
  await server.close()
})

const createSession = (name: string, extra: Partial<Parameters<typeof clients.sessions.createSession>[0]> = {}) =>
  grpcCall<PbSession>((cb) => clients.sessions.createSession({name, ...extra}, md, cb))
const listSessions = (page: number, size: number) => grpcCall<ListSessionsResponse>((cb) => clients.sessions.listSessions({page, size}, md, cb))

function watchSessions(): Collector<SessionWatchEvent> {
  return new Collector<SessionWatchEvent>(clients.sessions.watchSessions({}, md), afterSubscribers(server.store, 'sessions'))
}

describe('gRPC unary calls', () => {
  it('creates, gets, updates, writes status and deletes a session', async () => {
    const s = await createSession('g1', {timeout: 60, llm_temperature: 0.3, repos: '{broken', project_id: 'proj'})
    expect(s.metadata).toMatchObject({kind: 'Session', href: `${server.basePath}/sessions/${s.metadata?.id}`})
    expect(s).toMatchObject({name: 'g1', timeout: 60, llm_temperature: 0.3, repos: '{broken', project_id: 'proj', llm_model: 'sonnet'})

    const id = s.metadata?.id ?? ''
    const got = await grpcCall<PbSession>((cb) => clients.sessions.getSession({id}, md, cb))
    expect(got).toEqual(s)
    // Same object, same timestamps over REST, to the microsecond.
    const rest = obj((await api(server, 'GET', `/sessions/${id}`)).body)
    expect(rest.updated_at).toBe(formatRfc3339(s.metadata?.updated_at ?? {seconds: 0, nanos: 0}))

    const updated = await grpcCall<PbSession>((cb) => clients.sessions.updateSession({id, prompt: 'p', name: 'g1b'}, md, cb))
    expect(updated).toMatchObject({prompt: 'p', name: 'g1b', timeout: 60})

    const st = await grpcCall<PbSession>((cb) =>
      clients.sessions.updateSessionStatus(
        {id, phase: 'Running', start_time: {seconds: 1_760_000_000, nanos: 123_456_000}, sdk_restart_count: 1},
        md,
        cb,
      ),
    )
    expect(st).toMatchObject({phase: 'Running', start_time: {seconds: 1_760_000_000, nanos: 123_456_000}, sdk_restart_count: 1, prompt: 'p'})
    expect(obj((await api(server, 'GET', `/sessions/${id}`)).body).start_time).toBe('2025-10-09T08:53:20.123456Z')

    await grpcCall((cb) => clients.sessions.deleteSession({id}, md, cb))
    expect((await grpcError(grpcCall((cb) => clients.sessions.getSession({id}, md, cb)))).code).toBe(status.NOT_FOUND)
  })

  it('maps errors to status codes', async () => {
    const code = async (p: Promise<unknown>) => (await grpcError(p)).code
    expect(await code(createSession(''))).toBe(status.INVALID_ARGUMENT)
    expect(await code(createSession('x'.repeat(256)))).toBe(status.INVALID_ARGUMENT)
    expect(await code(grpcCall((cb) => clients.sessions.getSession({id: ''}, md, cb)))).toBe(status.INVALID_ARGUMENT)
    expect(await code(grpcCall((cb) => clients.sessions.getSession({id: 'nope'}, md, cb)))).toBe(status.NOT_FOUND)
    expect(await code(grpcCall((cb) => clients.sessions.updateSession({id: 'nope', prompt: 'x'}, md, cb)))).toBe(status.NOT_FOUND)
    expect(await code(grpcCall((cb) => clients.sessions.deleteSession({id: 'nope'}, md, cb)))).toBe(status.NOT_FOUND)
    const s = await createSession('errs')
    const id = s.metadata?.id ?? ''
    expect(await code(grpcCall((cb) => clients.sessions.updateSession({id, name: ''}, md, cb)))).toBe(status.INVALID_ARGUMENT)
    expect(await code(grpcCall((cb) => clients.sessions.updateSessionStatus({id}, md, cb)))).toBe(status.INVALID_ARGUMENT)
    expect(await code(grpcCall((cb) => clients.sessions.updateSessionStatus({id, phase: 'Exploded'}, md, cb)))).toBe(status.INVALID_ARGUMENT)
    const p = await grpcCall<{metadata?: {id: string}}>((cb) => clients.projects.createProject({name: 'gp'}, md, cb))
    await grpcCall((cb) => clients.settings.createProjectSettings({project_id: p.metadata?.id ?? ''}, md, cb))
    expect(await code(grpcCall((cb) => clients.settings.createProjectSettings({project_id: p.metadata?.id ?? ''}, md, cb)))).toBe(
      status.ALREADY_EXISTS,
    )
    expect(await code(grpcCall((cb) => clients.settings.createProjectSettings({project_id: ''}, md, cb)))).toBe(status.INVALID_ARGUMENT)
    // Still serving.
    expect((await createSession('after-errors')).name).toBe('after-errors')
  })

  it('requires the bearer token on every call', async () => {
    const s = await createSession('auth')
    for (const meta of [undefined, authMetadata('wrong'), authMetadata('')]) {
      const m = meta ?? new Metadata()
      const err = await grpcError(grpcCall((cb) => clients.sessions.getSession({id: s.metadata?.id ?? ''}, m, cb)))
      expect(err.code).toBe(status.UNAUTHENTICATED)
      expect((await grpcError(listSessionsWith(m))).code).toBe(status.UNAUTHENTICATED)
      const w = new Collector<SessionWatchEvent>(clients.sessions.watchSessions({}, m))
      expect((await w.waitForError()).code).toBe(status.UNAUTHENTICATED)
    }
  })

  it('pages 250 sessions as 3 pages of 100 with total 250, and normalises page/size like the real server', async () => {
    const fresh = await startTestServer()
    const c = grpcClients(fresh)
    try {
      const ids: string[] = []
      for (let i = 0; i < 250; i++) {
        ids.push((await grpcCall<PbSession>((cb) => c.sessions.createSession({name: `gp-${i}`}, md, cb))).metadata?.id ?? '')
      }
      const list = (page: number, size: number) => grpcCall<ListSessionsResponse>((cb) => c.sessions.listSessions({page, size}, md, cb))
      const seen: string[] = []
      for (const [page, size] of [
        [1, 100],
        [2, 100],
        [3, 50],
      ]) {
        const res = await list(page, 100)
        expect(res.metadata).toEqual({page, size, total: 250})
        seen.push(...res.items.map((s) => s.metadata?.id ?? ''))
      }
      expect(seen).toEqual(ids)
      expect((await list(0, 0)).metadata).toEqual({page: 1, size: 20, total: 250})
      expect((await list(2, 1000)).metadata).toEqual({page: 2, size: 20, total: 250})
      expect((await list(2, 1000)).items.map((s) => s.metadata?.id)).toEqual(ids.slice(20, 40))
      expect((await list(1, 500)).metadata).toEqual({page: 1, size: 250, total: 250})
      expect((await list(4, 100)).metadata).toEqual({page: 4, size: 0, total: 250})
    } finally {
      c.close()
      await fresh.close()
    }
  })
})

function listSessionsWith(m: Metadata) {
  return grpcCall<ListSessionsResponse>((cb) => clients.sessions.listSessions({page: 1, size: 10}, m, cb))
}

describe('gRPC watch', () => {
  it('sends exactly one event per write, of the right type, only for changes after it opened', async () => {
    const before = await createSession('before-watch')
    const w = watchSessions()
    await w.ready
    await waitFor(() => server.store.listenerCount('sessions') > 0, 'the server-side subscription')

    const s = obj((await api(server, 'POST', '/sessions', {name: 'watched'})).body)
    const id = String(s.id)
    await api(server, 'PATCH', `/sessions/${id}`, {prompt: 'x'})
    await api(server, 'PATCH', `/sessions/${id}/status`, {phase: 'Failed'})
    await api(server, 'POST', `/sessions/${id}/start`)
    await api(server, 'POST', `/sessions/${id}/stop`)
    await api(server, 'POST', `/sessions/${id}/stop`) // 409: no write, no event
    await api(server, 'PATCH', `/sessions/${id}`, {timeout: 'bad'}) // 400: no event
    await api(server, 'DELETE', `/sessions/${id}`)
    // A marker write after everything: once it arrives, every earlier event has too.
    const marker = await createSession('marker')

    const events = await w.waitForCount(7)
    const mine = events.filter((e) => e.resource_id === id)
    expect(mine.map((e) => e.type)).toEqual([
      EventType.EVENT_TYPE_CREATED,
      EventType.EVENT_TYPE_UPDATED,
      EventType.EVENT_TYPE_UPDATED,
      EventType.EVENT_TYPE_UPDATED,
      EventType.EVENT_TYPE_UPDATED,
      EventType.EVENT_TYPE_DELETED,
    ])
    expect(mine.slice(0, 5).map((e) => e.session?.phase)).toEqual([undefined, undefined, 'Failed', 'Pending', 'Stopping'])
    expect(mine[1].session?.prompt).toBe('x')
    for (const e of mine.slice(0, 5)) expect(e.session?.metadata?.id).toBe(id)
    expect(mine[5].session).toBeUndefined()
    expect(events[6].resource_id).toBe(marker.metadata?.id)
    expect(events.some((e) => e.resource_id === before.metadata?.id)).toBe(false)
    expect(events).toHaveLength(7)
    w.stream.cancel()
  })

  it('reads the object when it sends, and skips objects deleted by then', async () => {
    const w = watchSessions()
    await w.ready
    await waitFor(() => server.store.listenerCount('sessions') > 0, 'the server-side subscription')
    const s = server.store.create('sessions', {name: 'v0'})
    // Three writes within one tick: the events are sent later, so all carry the last state.
    server.store.update('sessions', s.id, {name: 'v1'})
    server.store.update('sessions', s.id, {name: 'v2'})
    const gone = server.store.create('sessions', {name: 'short-lived'})
    server.store.delete('sessions', gone.id)

    const events = await w.waitForCount(4)
    expect(events.map((e) => [e.type, e.resource_id])).toEqual([
      [EventType.EVENT_TYPE_CREATED, s.id],
      [EventType.EVENT_TYPE_UPDATED, s.id],
      [EventType.EVENT_TYPE_UPDATED, s.id],
      [EventType.EVENT_TYPE_DELETED, gone.id],
    ])
    for (const e of events.slice(0, 3)) expect(e.session?.name).toBe('v2')
    expect(events[1].session).toEqual(events[2].session)
    expect(events[3].session).toBeUndefined()
    w.stream.cancel()
  })

  it('removes the subscription when the client cancels', async () => {
    // Streams of earlier tests were cancelled too: their subscriptions must be gone as well.
    await waitFor(() => server.store.listenerCount('sessions') === 0, 'earlier subscriptions to go')
    const ws = [watchSessions(), watchSessions(), watchSessions()]
    await Promise.all(ws.map((w) => w.ready))
    await waitFor(() => server.store.listenerCount('sessions') === 3, 'three subscriptions')
    for (const w of ws) w.stream.cancel()
    await waitFor(() => server.store.listenerCount('sessions') === 0, 'the subscriptions to go')
  })

  it('ends streams with UNAVAILABLE on killWatchStreams', async () => {
    const w = watchSessions()
    const wp = new Collector<ProjectWatchEvent>(clients.projects.watchProjects({}, md), afterSubscribers(server.store, 'projects'))
    await Promise.all([w.ready, wp.ready])
    server.killWatchStreams()
    expect((await w.waitForError()).code).toBe(status.UNAVAILABLE)
    expect((await wp.waitForError()).code).toBe(status.UNAVAILABLE)
    await waitFor(() => server.store.listenerCount('sessions') === 0 && server.store.listenerCount('projects') === 0, 'listeners to go')
    // A new stream works again.
    const again = watchSessions()
    await again.ready
    await createSession('after-kill')
    expect((await again.waitForCount(1))[0].session?.name).toBe('after-kill')
    again.stream.cancel()
  })

  it('answers UNIMPLEMENTED in unimplemented mode, and recovers', async () => {
    server.setWatchMode('unimplemented')
    try {
      const collectors = [
        new Collector<unknown>(clients.sessions.watchSessions({}, md)),
        new Collector<unknown>(clients.projects.watchProjects({}, md)),
        new Collector<unknown>(clients.settings.watchProjectSettings({}, md)),
      ]
      for (const c of collectors) expect((await c.waitForError()).code).toBe(status.UNIMPLEMENTED)
      // Unary calls are unaffected.
      expect((await listSessions(1, 1)).items).toHaveLength(1)
    } finally {
      server.setWatchMode('on')
    }
    const w = watchSessions()
    await w.ready
    w.stream.cancel()
  })

  it('watches projects and project settings', async () => {
    const wp = new Collector<ProjectWatchEvent>(clients.projects.watchProjects({}, md), afterSubscribers(server.store, 'projects'))
    const ws = new Collector<ProjectSettingsWatchEvent>(
      clients.settings.watchProjectSettings({}, md),
      afterSubscribers(server.store, 'project_settings'),
    )
    await Promise.all([wp.ready, ws.ready])
    const p = obj((await api(server, 'POST', '/projects', {name: 'watched-project'})).body)
    await api(server, 'PATCH', `/projects/${p.id}`, {status: 'Ready'})
    const ps = obj((await api(server, 'POST', '/project_settings', {project_id: p.id})).body)
    await api(server, 'DELETE', `/project_settings/${ps.id}`)
    await api(server, 'DELETE', `/projects/${p.id}`)
    const pe = await wp.waitForCount(3)
    expect(pe.map((e) => e.type)).toEqual([EventType.EVENT_TYPE_CREATED, EventType.EVENT_TYPE_UPDATED, EventType.EVENT_TYPE_DELETED])
    expect(pe[1].project?.status).toBe('Ready')
    expect(pe[2]).toEqual({type: EventType.EVENT_TYPE_DELETED, project: undefined, resource_id: p.id})
    const se = await ws.waitForCount(2)
    expect(se.map((e) => e.type)).toEqual([EventType.EVENT_TYPE_CREATED, EventType.EVENT_TYPE_DELETED])
    expect(se[0].project_settings?.project_id).toBe(p.id)
    wp.stream.cancel()
    ws.stream.cancel()
  })
})

describe('gRPC watch back-pressure', () => {
  it('delivers everything, in order, to a consumer that pauses', async () => {
    const s = await startTestServer({maxPendingWatchEvents: 10_000})
    const c = grpcClients(s)
    try {
      const w = new Collector<SessionWatchEvent>(c.sessions.watchSessions({}, md), afterSubscribers(s.store, 'sessions'))
      await w.ready
      w.stream.pause()
      const prompt = 'p'.repeat(64 * 1024)
      const ids: string[] = []
      // ~20 MiB of events against a paused reader: far past HTTP/2 windows and socket buffers.
      for (let i = 0; i < 300; i++) {
        ids.push(s.store.create('sessions', {name: `bp-${i}`, prompt}).id)
        if (i % 20 === 0) await new Promise((r) => setImmediate(r))
      }
      w.stream.resume()
      const events = await w.waitForCount(300)
      expect(events.map((e) => e.resource_id)).toEqual(ids)
      expect(w.error).toBeUndefined()
      w.stream.cancel()
    } finally {
      c.close()
      await s.close()
    }
  })

  it('ends a hopelessly slow consumer with RESOURCE_EXHAUSTED and keeps serving others', async () => {
    const s = await startTestServer({maxPendingWatchEvents: 20})
    const c = grpcClients(s)
    try {
      const slow = new Collector<SessionWatchEvent>(c.sessions.watchSessions({}, md), afterSubscribers(s.store, 'sessions'))
      await slow.ready
      slow.stream.pause()
      const prompt = 'p'.repeat(256 * 1024)
      // Enough data to stall the server's writes, then far more notices than the limit.
      for (let i = 0; i < 200; i++) {
        s.store.create('sessions', {name: `slow-${i}`, prompt})
        await new Promise((r) => setImmediate(r))
      }
      await waitFor(() => s.store.listenerCount('sessions') === 0, 'the slow stream to be dropped')
      slow.stream.resume()
      expect((await slow.waitForError()).code).toBe(status.RESOURCE_EXHAUSTED)
      expect(slow.events.length).toBeLessThan(200)

      const ok = new Collector<SessionWatchEvent>(c.sessions.watchSessions({}, md), afterSubscribers(s.store, 'sessions'))
      await ok.ready
      s.store.create('sessions', {name: 'fine'})
      expect((await ok.waitForCount(1))[0].session?.name).toBe('fine')
      ok.stream.cancel()
    } finally {
      c.close()
      await s.close()
    }
  })
})
