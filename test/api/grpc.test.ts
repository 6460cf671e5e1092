// GrpcClient against the embedded API server over real sockets: every Session field survives
// REST -> domain -> gRPC -> domain, watch streams deliver typed events, end the right way and
// respect back-pressure.
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {Server, ServerCredentials, status, type ServiceError} from '@grpc/grpc-js'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {EventType, ObjectReference} from '../../src/gen/ambient/v1/common.js'
import {Session as PbSession, SessionServiceService, type SessionServiceServer} from '../../src/gen/ambient/v1/sessions.js'
import {sessionFromProto, sessionToProto} from '../../src/lib/api/convert.js'
import {ApiError, ApiUnreachableError, WatchStreamError} from '../../src/lib/api/errors.js'
import {GrpcClient} from '../../src/lib/api/grpc.js'
import type {ObjectMeta, Session, WatchEvent} from '../../src/lib/api/types.js'
import {WatchUnimplementedError} from '../../src/lib/informer/source.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import {TOKEN, grpcClient, rejectionOf, restClient, startServer, waitFor} from './helpers.js'

let server: ApiServer
let grpc: GrpcClient

beforeAll(async () => {
  // The server sets kube_cr_name (read-only everywhere) to the id, and created_by_user_id to
  // the token's user ('user-1' here, the value fieldValues expects).
  server = await startServer({username: 'user-1', llmDefaults: false})
  grpc = grpcClient(server)
})
afterAll(async () => {
  grpc.close()
  await server.close()
})

// Unhandled errors from a cancelled stream would otherwise only show up as noise.
const unhandled: unknown[] = []
const onUnhandled = (err: unknown) => unhandled.push(err)
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled)
  process.on('uncaughtException', onUnhandled)
})
afterAll(() => {
  process.off('unhandledRejection', onUnhandled)
  process.off('uncaughtException', onUnhandled)
})
afterEach(() => {
  expect(unhandled).toEqual([])
})

/** A value for every Session field of the contract; the test fails for a field missing here. */
function fieldValues(id: string): Record<string, unknown> {
  return {
    name: 'round-trip',
    repo_url: 'https://github.com/acme/web',
    prompt: 'line one\nline two, ünïcödé',
    created_by_user_id: 'user-1',
    assigned_user_id: 'user-2',
    workflow_id: 'workflow-1',
    repos: '[{"url":"https://github.com/acme/web","branch":"dev","autoPush":true}]',
    timeout: 1234,
    llm_model: 'opus',
    llm_temperature: 0.35,
    llm_max_tokens: 8192,
    parent_session_id: 'parent-1',
    bot_account_name: 'bot-1',
    resource_overrides: '{"cpu":"2"}',
    environment_variables: '{"A":"1"}',
    labels: '{"team":"a"}',
    annotations: '{"note":"x"}',
    project_id: 'round-trip',
    phase: 'Running',
    start_time: '2026-03-04T05:06:07.123456Z',
    completion_time: '2026-03-04T06:07:08.000001Z',
    sdk_session_id: 'sdk-1',
    sdk_restart_count: 3,
    conditions: '[{"type":"Ready","status":"True"}]',
    reconciled_repos: '[{"url":"https://github.com/acme/web"}]',
    reconciled_workflow: '{"gitUrl":"https://github.com/acme/wf"}',
    kube_cr_name: id,
    kube_cr_uid: 'uid-1',
    kube_namespace: 'ns-1',
  }
}

async function collect<T extends ObjectMeta>(iterable: AsyncIterable<WatchEvent<T>>, into: WatchEvent<T>[]): Promise<unknown> {
  try {
    for await (const event of iterable) into.push(event)
    return undefined
  } catch (err) {
    return err
  }
}

describe('Session round trip', () => {
  it('carries every proto field REST -> domain -> gRPC -> domain unchanged', async () => {
    const rest = restClient(server)
    const spec = fieldValues('')
    const specFields = ['name', 'repo_url', 'prompt', 'created_by_user_id', 'assigned_user_id', 'workflow_id', 'repos', 'timeout', 'llm_model', 'llm_temperature', 'llm_max_tokens', 'parent_session_id', 'bot_account_name', 'resource_overrides', 'environment_variables', 'labels', 'annotations', 'project_id']
    const statusFields = ['phase', 'start_time', 'completion_time', 'sdk_session_id', 'sdk_restart_count', 'conditions', 'reconciled_repos', 'reconciled_workflow', 'kube_cr_uid', 'kube_namespace']
    const createBody = Object.fromEntries(specFields.map((f) => [f, spec[f]]))
    const created = await rest.create<Session>('sessions' as string, createBody)
    await rest.patchStatus(created.id, Object.fromEntries(statusFields.map((f) => [f, spec[f]])))
    const viaRest = await rest.get('sessions', created.id)

    // The field list comes from the generated message: a new proto field fails this test
    // until it is carried (and given a value above).
    const expected = fieldValues(created.id)
    const protoFields = Object.keys(PbSession.fromPartial({}))
    expect(protoFields).toHaveLength(30)
    const metaFields = Object.keys(ObjectReference.fromPartial({}))
    expect(metaFields.sort()).toEqual(['created_at', 'href', 'id', 'kind', 'updated_at'])

    const viaGrpc = await grpc.get('sessions', created.id)
    const viaWire = sessionFromProto(PbSession.decode(PbSession.encode(sessionToProto(viaRest)).finish()))
    for (const field of protoFields) {
      if (field === 'metadata') {
        for (const meta of metaFields) {
          const key = meta as keyof ObjectMeta
          expect(viaRest[key], meta).toMatch(/\S/)
          expect(viaGrpc[key], meta).toBe(viaRest[key])
          expect(viaWire[key], meta).toBe(viaRest[key])
        }
        continue
      }
      expect(Object.hasOwn(expected, field), `no test value for proto field ${field}`).toBe(true)
      const key = field as keyof Session
      expect(viaRest[key], field).toEqual(expected[field])
      expect(viaGrpc[key], field).toEqual(viaRest[key])
      expect(viaWire[key], field).toEqual(viaRest[key])
    }
    expect(viaGrpc).toEqual(viaRest)
    expect(viaRest.created_at).toMatch(/\.\d{6}Z$/)
  })
})

describe('GrpcClient unary calls', () => {
  it('lists every page and writes status', async () => {
    const ids: string[] = []
    server.store.transaction(() => {
      for (let i = 0; i < 250; i++) ids.push(server.store.create('sessions', {name: `g-${i}`, project_id: 'grpc-list'}).id)
    })
    const page = await grpc.list('sessions', 2, 100)
    expect(page.items).toHaveLength(100)
    expect(page.total).toBe(server.store.count('sessions'))
    const all = await grpc.listAll('sessions')
    expect(all.filter((s) => s.project_id === 'grpc-list').map((s) => s.id)).toEqual(ids)
    expect(all).toHaveLength(server.store.count('sessions'))

    const before = await grpc.get('sessions', ids[0])
    const after = await grpc.updateSessionStatus(ids[0], {phase: 'Creating', sdk_restart_count: 2})
    expect(after).toMatchObject({phase: 'Creating', sdk_restart_count: 2})
    expect(after.updated_at > before.updated_at).toBe(true)
  })

  it('maps gRPC errors to ApiError and ApiUnreachableError', async () => {
    const missing = await rejectionOf(grpc.get('projects', 'nope'))
    expect(missing).toBeInstanceOf(ApiError)
    expect(missing).toMatchObject({status: 404, code: 'ERR_API_NOT_FOUND', grpcCode: status.NOT_FOUND, message: 'project nope not found'})

    const bad = await rejectionOf(grpc.updateSessionStatus('nope', {phase: 'Bogus'}))
    expect(bad).toBeInstanceOf(ApiError)
    expect((bad as ApiError).status).toBeGreaterThanOrEqual(400)

    const wrongToken = new GrpcClient({address: server.grpcAddress, tls: false, token: () => 'wrong'})
    try {
      expect(await rejectionOf(wrongToken.list('sessions', 1, 1))).toMatchObject({status: 401, code: 'ERR_API_UNAUTHORIZED'})
    } finally {
      wrongToken.close()
    }

    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const nobody = new GrpcClient({address: `127.0.0.1:${port}`, tls: false, token: () => TOKEN})
    try {
      const err = await rejectionOf(nobody.get('sessions', 'x'))
      expect(err).toBeInstanceOf(ApiUnreachableError)
      expect((err as Error).message).toContain(`127.0.0.1:${port}`)
    } finally {
      nobody.close()
    }
  })

  it('sends the current token on each call', async () => {
    let token = 'stale'
    const client = new GrpcClient({address: server.grpcAddress, tls: false, token: () => token})
    try {
      expect(await rejectionOf(client.list('projects', 1, 1))).toMatchObject({status: 401})
      token = TOKEN
      expect((await client.list('projects', 1, 1)).page).toBe(1)
    } finally {
      client.close()
    }
  })
})

/** Waits until the server holds `n` more watch subscriptions of `resource` than now. */
function subscriptions(resource: 'sessions' | 'projects' | 'project_settings'): (n: number) => Promise<void> {
  const base = server.store.listenerCount(resource)
  return async (n) => {
    await waitFor(() => server.store.listenerCount(resource) >= base + n, `the server to register ${n} ${resource} watch(es)`)
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
    const projects: WatchEvent<import('../../src/lib/api/types.js').Project>[] = []
    const settings: WatchEvent<import('../../src/lib/api/types.js').ProjectSettings>[] = []
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
    // A server of our own that writes as fast as grpc-js lets it (write() false -> wait for
    // 'drain'): it can only get ahead of the consumer if the client reads without being asked.
    const total = 2000
    const prompt = 'x'.repeat(8 * 1024)
    const state = {sent: 0, blocked: false}
    const fast = new Server()
    const unimplemented = (_call: unknown, callback: (err: Partial<ServiceError>) => void) => callback({code: status.UNIMPLEMENTED, details: 'not here'})
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
            const session = {metadata: {id, kind: 'Session', href: '', created_at: {seconds: 1, nanos: 0}, updated_at: {seconds: 1, nanos: 0}}, name: id, prompt}
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
          call.end()
        }
        pump()
      },
    }
    fast.addService(SessionServiceService, impl)
    const port = await new Promise<number>((resolve, reject) =>
      fast.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    )
    const client = new GrpcClient({address: `127.0.0.1:${port}`, tls: false, token: () => TOKEN})
    try {
      const iterator = client.watch('sessions', new AbortController().signal)[Symbol.asyncIterator]()
      expect((await iterator.next()).done).toBe(false)
      await waitFor(() => state.blocked, 'the server to be held back')
      // A client that read ahead would move these 16 MB over loopback in a fraction of this
      // window; one that respects flow control keeps the server blocked however long we wait.
      const readAhead = await waitFor(() => state.sent >= total / 2, 'read-ahead', 1000).then(() => true, () => false)
      expect(readAhead).toBe(false)
      expect(state.blocked).toBe(true)

      let received = 1
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) received++
      expect(received).toBe(total)
    } finally {
      client.close()
      fast.forceShutdown()
    }
  })
})
