import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {KubeCache, KubeCacheEvent} from '../../src/lib/kube/cache.js'
import {createKubeCaches, INDEX_SESSION_ID, type KubeCaches} from '../../src/lib/kube/caches.js'
import {KubeClient} from '../../src/lib/kube/client.js'
import type {AgenticSession} from '../../src/lib/kube/types.js'
import {startFakeKube, type FakeKube, type KubeObject} from '../fake-kube/index.js'
import {until} from './helpers.js'

let kube: FakeKube
let client: KubeClient
const running: AbortController[] = []

beforeAll(async () => {
  kube = await startFakeKube({namespaces: ['default', 'team-a', 'team-b']})
  client = new KubeClient({kubeConfig: kube.kubeConfig()})
})

afterEach(() => {
  for (const c of running.splice(0)) c.abort()
})

afterAll(async () => {
  client?.close()
  await kube?.close()
})

function session(name: string, sessionId: string, namespace = 'team-a', managed = true): KubeObject {
  return {
    metadata: {
      name,
      namespace,
      labels: managed ? {'ambient-code.io/managed': 'true', 'ambient-code.io/session-id': sessionId} : {'ambient-code.io/session-id': sessionId},
    },
    spec: {displayName: name},
  }
}

async function started(): Promise<{
  caches: KubeCaches
  cache: KubeCache<AgenticSession>
  events: KubeCacheEvent<AgenticSession>[]
  done: Promise<void>
}> {
  const caches = createKubeCaches({client, backoff: {initialMs: 20, maxMs: 100}})
  const cache = caches.agenticSessions
  const events: KubeCacheEvent<AgenticSession>[] = []
  cache.on((e) => events.push(e))
  const controller = new AbortController()
  running.push(controller)
  const done = cache.start(controller.signal)
  await cache.waitForSync(AbortSignal.timeout(20_000))
  return {caches, cache, events, done}
}

describe('KubeCache', () => {
  it('syncs only managed objects, then follows changes with the old object on update', async () => {
    kube.put('agenticsessions', 'team-a', 'pre', session('pre', 'id-pre'))
    kube.put('agenticsessions', 'team-a', 'unmanaged', session('unmanaged', 'id-u', 'team-a', false))
    const {cache, events} = await started()
    expect(cache.hasSynced()).toBe(true)
    expect(cache.get('team-a', 'pre')?.spec?.displayName).toBe('pre')
    expect(cache.get('team-a', 'unmanaged')).toBeUndefined()
    expect(cache.byIndex(INDEX_SESSION_ID, 'id-pre').map((o) => o.metadata.name)).toEqual(['pre'])
    expect(cache.byLabel('ambient-code.io/session-id', 'id-pre').map((o) => o.metadata.name)).toEqual(['pre'])
    expect(cache.byLabel('ambient-code.io/managed', 'true').map((o) => o.metadata.name)).toContain('pre')
    expect(cache.list('team-a').map((o) => o.metadata.name)).toContain('pre')

    kube.update('agenticsessions', 'team-a', 'pre', (o) => {
      ;(o.spec as {displayName: string}).displayName = 'changed'
    })
    const mod = await until('MODIFIED', () => events.find((e) => e.type === 'MODIFIED'))
    expect(mod.type === 'MODIFIED' && mod.old.spec?.displayName).toBe('pre')
    expect(mod.object.spec?.displayName).toBe('changed')

    kube.delete('agenticsessions', 'team-a', 'pre')
    await until('DELETED', () => events.find((e) => e.type === 'DELETED'))
    expect(cache.get('team-a', 'pre')).toBeUndefined()
    expect(cache.byIndex(INDEX_SESSION_ID, 'id-pre')).toEqual([])
  })

  it('restarts after the watch dies and catches up with what changed meanwhile', async () => {
    const {cache} = await started()
    await until('watch open', () => kube.activeWatches() > 0)
    const dropped = kube.closeWatches({mode: 'destroy'})
    expect(dropped).toBeGreaterThan(0)
    kube.put('agenticsessions', 'team-b', 'while-down', session('while-down', 'id-wd', 'team-b'))
    await until('object written while the watch was down', () => cache.get('team-b', 'while-down'))
    expect(cache.status().synced).toBe(true)
    // A dropped connection is an error to ListWatch, which stops: the restart is ours.
    expect(cache.status().restarts).toBeGreaterThan(0)
  })

  it('relists after 410 Gone, survives a failing relist, and drops what vanished', async () => {
    kube.put('agenticsessions', 'team-a', 'doomed', session('doomed', 'id-doomed'))
    const {cache, events} = await started()
    expect(cache.get('team-a', 'doomed')).toBeDefined()
    await until('watch open', () => kube.activeWatches() > 0)
    kube.failNext({verb: 'list', resource: 'agenticsessions', status: 500, times: 2})
    kube.delete('agenticsessions', 'team-a', 'doomed')
    // The delete event may or may not reach the watch before we cut it; either way it must land.
    kube.expireResourceVersions()
    kube.closeWatches({mode: 'destroy'})
    await until('vanished object deleted', () => !cache.get('team-a', 'doomed'))
    expect(events.some((e) => e.type === 'DELETED' && e.object.metadata.name === 'doomed')).toBe(true)
    kube.put('agenticsessions', 'team-a', 'after', session('after', 'id-after'))
    await until('watch resumed', () => cache.get('team-a', 'after'))
    // ListWatch gives up on a failed list: only our restart brought it back.
    expect(cache.status().restarts).toBeGreaterThan(0)
    expect(cache.status().lastError).toMatch(/500|Internal/)
  })

  it('shows our own writes before the watch does, and lets the watch take over', async () => {
    const {cache} = await started()
    const created = await client.agenticSessions.create({
      apiVersion: 'vteam.ambient-code/v1alpha1',
      kind: 'AgenticSession',
      ...(session('mine', 'id-mine') as unknown as AgenticSession),
    })
    cache.observeWrite(created)
    expect(cache.get('team-a', 'mine')?.metadata.uid).toBe(created.metadata.uid)
    expect(cache.byIndex(INDEX_SESSION_ID, 'id-mine')).toHaveLength(1)
    expect(cache.list('team-a').some((o) => o.metadata.name === 'mine')).toBe(true)
    await until('watch delivered the create', () => cache.status().size > 0 && cache.get('team-a', 'mine'))

    const patched = await client.agenticSessions.patch('team-a', 'mine', {spec: {initialPrompt: 'x'}})
    cache.observeWrite(patched)
    expect(cache.get('team-a', 'mine')?.spec?.initialPrompt).toBe('x')

    await client.agenticSessions.delete('team-a', 'mine')
    await until('watch sees patch', () => cache.get('team-a', 'mine')?.spec?.initialPrompt === 'x')
    cache.observeDelete('team-a', 'mine')
    expect(cache.get('team-a', 'mine')).toBeUndefined()
    expect(cache.byIndex(INDEX_SESSION_ID, 'id-mine')).toEqual([])
  })

  it('waitForSync rejects when its signal aborts first', async () => {
    const caches = createKubeCaches({client})
    const c = new AbortController()
    const wait = caches.namespaces.waitForSync(c.signal)
    c.abort(new Error('gave up'))
    await expect(wait).rejects.toThrow('gave up')
  })
})
