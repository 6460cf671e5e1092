// createSources / restOnlySource: lists over REST (every page), watches over gRPC.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createSources, restOnlySource} from '../../src/lib/api/sources.js'
import type {Session, WatchEvent} from '../../src/lib/api/types.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import type {GrpcClient} from '../../src/lib/api/grpc.js'
import {grpcClient, recordingFetch, restClient, startServer, waitFor} from './helpers.js'

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

describe('createSources', () => {
  it('lists every page over REST and watches over gRPC', async () => {
    const ids: string[] = []
    server.store.transaction(() => {
      for (let i = 0; i < 130; i++) ids.push(server.store.create('sessions', {name: `src-${i}`}).id)
    })
    const rec = recordingFetch()
    const sources = createSources({rest: restClient(server, {fetch: rec.fetch}), grpc, watch: 'stream', list: {pageSize: 50}})
    expect(Object.keys(sources).sort()).toEqual(['project_settings', 'projects', 'sessions'])
    expect(sources.sessions.resource).toBe('sessions')

    const controller = new AbortController()
    const listed = await sources.sessions.list(controller.signal)
    expect(listed.map((s) => s.id)).toEqual(ids)
    expect(rec.calls).toHaveLength(3)

    const watch = sources.sessions.watch
    expect(watch).toBeTypeOf('function')
    const events: WatchEvent<Session>[] = []
    const done = (async () => {
      for await (const e of watch?.(controller.signal) ?? []) events.push(e)
    })()
    await waitFor(() => server.store.listenerCount('sessions') > 0, 'the watch to subscribe')
    server.store.delete('sessions', ids[0])
    await waitFor(() => events.length > 0, 'an event')
    controller.abort()
    await done
    expect(events[0]).toEqual({type: 'DELETED', id: ids[0]})
  })

  it('has no watch when polling', async () => {
    const sources = createSources({rest: restClient(server), watch: 'poll'})
    expect(sources.projects.watch).toBeUndefined()
    server.store.create('projects', {name: 'polled'})
    expect((await sources.projects.list(new AbortController().signal)).map((p) => p.name)).toContain('polled')
  })

  it('refuses watch streams without a gRPC client', () => {
    expect(() => createSources({rest: restClient(server), watch: 'stream'})).toThrow(expect.objectContaining({code: 'ERR_SOURCES_NO_GRPC'}))
  })
})

describe('restOnlySource', () => {
  it('polls any REST resource by name', async () => {
    server.store.create('users', {username: 'ada', name: 'Ada'})
    const source = restOnlySource<import('../../src/lib/api/types.js').ObjectMeta & {username: string}>(restClient(server), 'users')
    expect(source.resource).toBe('users')
    expect(source.watch).toBeUndefined()
    expect((await source.list(new AbortController().signal)).map((u) => u.username)).toContain('ada')
  })
})
