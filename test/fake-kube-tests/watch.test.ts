// Watches through client-node's Watch and makeInformer: resume from a resourceVersion, synthetic
// ADDED without one, selector transitions, bookmarks, 410 Expired, timeoutSeconds, and informer
// reconnect/relist when the fake drops watches or compacts history.
import {CustomObjectsApi, makeInformer, Watch, type KubernetesObject, type KubernetesListObject} from '@kubernetes/client-node'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {startFakeKube, type FakeKube, type KubeObject} from '../fake-kube/index.js'
import {mergePatch, ns, session, sessions, waitFor} from './helpers.js'

let kube: FakeKube
let custom: CustomObjectsApi
const path = `/apis/vteam.ambient-code/v1alpha1/namespaces/${ns}/agenticsessions`

interface Seen {
  type: string
  object: KubeObject & {code?: number; reason?: string}
}

interface OpenWatch {
  events: Seen[]
  done: () => boolean
  doneError: () => unknown
  abort(): void
}

const open: OpenWatch[] = []

async function watch(query: Record<string, string | boolean | number>, p = path): Promise<OpenWatch> {
  const events: Seen[] = []
  let finished = false
  let error: unknown
  const controller = await new Watch(kube.kubeConfig()).watch(
    p,
    query,
    (type, object: KubeObject) => events.push({type, object}),
    (err: unknown) => {
      finished = true
      error = err
    },
  )
  const w = {events, done: () => finished, doneError: () => error, abort: () => controller.abort()}
  open.push(w)
  return w
}

async function create(name: string, labels?: Record<string, string>): Promise<KubeObject> {
  const body = session(name)
  if (labels) body.metadata.labels = labels
  return (await custom.createNamespacedCustomObject({...sessions, namespace: ns, body})) as KubeObject
}

async function patch(name: string, body: unknown): Promise<KubeObject> {
  return (await custom.patchNamespacedCustomObject({...sessions, namespace: ns, name, body}, mergePatch)) as KubeObject
}

async function remove(name: string): Promise<void> {
  await custom.deleteNamespacedCustomObject({...sessions, namespace: ns, name})
}

beforeAll(async () => {
  kube = await startFakeKube({namespaces: [ns]})
  custom = kube.kubeConfig().makeApiClient(CustomObjectsApi)
})

afterEach(async () => {
  for (const w of open.splice(0)) w.abort()
  for (const o of kube.list('agenticsessions', ns)) kube.delete('agenticsessions', ns, o.metadata.name ?? '')
  kube.setBookmarkInterval(1000)
})

afterAll(async () => {
  await kube.close()
})

describe('Watch', () => {
  it('from a list resourceVersion: every change after it, in order, with growing resourceVersions', async () => {
    await create('before')
    const list = (await custom.listNamespacedCustomObject({...sessions, namespace: ns})) as {metadata: {resourceVersion: string}}
    const w = await watch({resourceVersion: list.metadata.resourceVersion})
    await create('w1')
    await patch('w1', {spec: {timeout: 5}})
    await remove('w1')
    await waitFor(() => w.events.length >= 3, 'three events')
    expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1'])
    const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion))
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b))
    expect(new Set(rvs).size).toBe(3)
    expect(w.events[0].object.kind).toBe('AgenticSession')
  })

  it('without a resourceVersion: the current objects as ADDED first', async () => {
    await create('e1')
    await create('e2')
    const w = await watch({})
    await waitFor(() => w.events.length >= 2, 'initial events')
    expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED e1', 'ADDED e2'])
  })

  it('replays changes made before the watch opened when resuming from an older resourceVersion', async () => {
    const s = await create('replay')
    await patch('replay', {spec: {timeout: 7}})
    const w = await watch({resourceVersion: s.metadata.resourceVersion ?? ''})
    await waitFor(() => w.events.length >= 1, 'replayed event')
    expect(w.events[0]).toMatchObject({type: 'MODIFIED', object: {spec: {timeout: 7}}})
  })

  it('label selectors: moving in and out of the selection is ADDED and DELETED', async () => {
    const w = await watch({labelSelector: 'watched=yes', resourceVersion: kube.resourceVersion()})
    await create('sel', {watched: 'no'})
    await patch('sel', {metadata: {labels: {watched: 'yes'}}})
    await patch('sel', {spec: {timeout: 9}})
    await patch('sel', {metadata: {labels: {watched: 'no'}}})
    await create('sel-2', {watched: 'yes'})
    await waitFor(() => w.events.length >= 4, 'selector events')
    expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED sel', 'MODIFIED sel', 'DELETED sel', 'ADDED sel-2'])
  })

  it('a field selector on metadata.name watches one object', async () => {
    const w = await watch({fieldSelector: 'metadata.name=only', resourceVersion: kube.resourceVersion()})
    await create('other')
    await create('only')
    await waitFor(() => w.events.length >= 1, 'named event')
    await patch('other', {spec: {timeout: 1}})
    await patch('only', {spec: {timeout: 1}})
    await waitFor(() => w.events.length >= 2, 'second named event')
    expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED only', 'MODIFIED only'])
  })

  it('bookmarks carry only the resourceVersion', async () => {
    kube.setBookmarkInterval(50)
    const w = await watch({allowWatchBookmarks: true, resourceVersion: kube.resourceVersion()})
    await waitFor(() => w.events.some((e) => e.type === 'BOOKMARK'), 'a bookmark')
    const bookmark = w.events.find((e) => e.type === 'BOOKMARK')
    expect(bookmark?.object).toEqual({
      kind: 'AgenticSession',
      apiVersion: 'vteam.ambient-code/v1alpha1',
      metadata: {resourceVersion: kube.resourceVersion()},
    })
    const plain = await watch({resourceVersion: kube.resourceVersion()})
    await create('after-bookmark')
    await waitFor(() => plain.events.length >= 1, 'event on the plain watch')
    expect(plain.events.every((e) => e.type !== 'BOOKMARK')).toBe(true)
  })

  it('a compacted resourceVersion gets a 410 Expired ERROR event and the stream ends', async () => {
    const old = kube.resourceVersion()
    await create('x')
    kube.expireResourceVersions()
    const w = await watch({resourceVersion: old})
    await waitFor(() => w.done(), 'the stream to end')
    expect(w.events).toHaveLength(1)
    expect(w.events[0].type).toBe('ERROR')
    expect(w.events[0].object).toMatchObject({kind: 'Status', status: 'Failure', reason: 'Expired', code: 410})
    // The resourceVersion of a fresh list is watchable again.
    const fresh = await watch({resourceVersion: kube.resourceVersion()})
    await create('y')
    await waitFor(() => fresh.events.length >= 1, 'event after expiry')
    expect(fresh.done()).toBe(false)
  })

  it('timeoutSeconds ends the stream cleanly', async () => {
    const w = await watch({timeoutSeconds: 1, resourceVersion: kube.resourceVersion()})
    await waitFor(() => w.done(), 'the timeout')
    expect(w.doneError()).toBeNull()
  })

  it('direct store writes reach watchers like writes by another client', async () => {
    await create('direct')
    const w = await watch({resourceVersion: kube.resourceVersion()})
    const updated = kube.update('agenticsessions', ns, 'direct', (o) => {
      o.status = {phase: 'Running'}
    })
    expect(updated.metadata.generation).toBe(1)
    kube.put('agenticsessions', ns, 'direct-2', session('direct-2'))
    kube.delete('agenticsessions', ns, 'direct')
    await waitFor(() => w.events.length >= 3, 'direct events')
    expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['MODIFIED direct', 'ADDED direct-2', 'DELETED direct'])
    expect(w.events[0].object.status).toEqual({phase: 'Running'})
    expect(w.events[1].object.spec).toMatchObject({timeout: 300})
  })
})

describe('makeInformer', () => {
  function informer() {
    const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> =>
      (await custom.listNamespacedCustomObject({...sessions, namespace: ns})) as KubernetesListObject<KubernetesObject>
    const inf = makeInformer(kube.kubeConfig(), path, listFn)
    const log: string[] = []
    const errors: unknown[] = []
    inf.on('add', (o) => log.push(`add ${o.metadata?.name}`))
    inf.on('update', (o) => log.push(`update ${o.metadata?.name}`))
    inf.on('delete', (o) => log.push(`delete ${o.metadata?.name}`))
    inf.on('error', (e) => errors.push(e))
    return {inf, log, errors}
  }

  it('lists, then sees adds, updates and deletes', async () => {
    await create('pre')
    const {inf, log} = informer()
    await inf.start()
    try {
      await waitFor(() => log.includes('add pre'), 'initial list')
      await waitFor(() => kube.activeWatches({resource: 'agenticsessions'}) === 1, 'the watch')
      await create('i1')
      await patch('i1', {spec: {timeout: 3}})
      await remove('pre')
      await waitFor(() => log.length >= 4, 'informer events')
      expect(log).toEqual(['add pre', 'add i1', 'update i1', 'delete pre'])
      expect(inf.get('i1', ns)).toMatchObject({spec: {timeout: 3}})
    } finally {
      await inf.stop()
    }
  })

  it('reconnects from its last resourceVersion after closeWatches(), missing nothing', async () => {
    const {inf, log} = informer()
    await inf.start()
    try {
      await waitFor(() => kube.activeWatches({resource: 'agenticsessions'}) === 1, 'the watch')
      kube.resetCounts()
      expect(kube.closeWatches()).toBe(1)
      // Written while no watch is open: the resumed watch replays it.
      await create('during-gap')
      await waitFor(() => log.includes('add during-gap'), 'the replayed add')
      expect(kube.count({verb: 'watch', resource: 'agenticsessions'})).toBeGreaterThanOrEqual(1)
      expect(kube.count({verb: 'list', resource: 'agenticsessions'})).toBe(0)
    } finally {
      await inf.stop()
    }
  })

  it('relists after 410 when its resourceVersion was compacted, and reports vanished objects as deleted', async () => {
    await create('keep')
    await create('vanish')
    const {inf, log} = informer()
    await inf.start()
    try {
      await waitFor(() => log.length === 2 && kube.activeWatches({resource: 'agenticsessions'}) === 1, 'synced informer')
      kube.closeWatches()
      // While disconnected: history is compacted and an object disappears.
      kube.delete('agenticsessions', ns, 'vanish')
      kube.expireResourceVersions()
      kube.resetCounts()
      await waitFor(() => log.includes('delete vanish'), 'the relist')
      expect(kube.count({verb: 'list', resource: 'agenticsessions'})).toBeGreaterThanOrEqual(1)
      await waitFor(() => kube.activeWatches({resource: 'agenticsessions'}) === 1, 'the new watch')
      await create('after-relist')
      await waitFor(() => log.includes('add after-relist'), 'an add after the relist')
    } finally {
      await inf.stop()
    }
  })

  it('a dropped connection (socket destroyed) surfaces as an informer error', async () => {
    const {inf, errors} = informer()
    await inf.start()
    try {
      await waitFor(() => kube.activeWatches({resource: 'agenticsessions'}) === 1, 'the watch')
      kube.closeWatches({mode: 'destroy'})
      await waitFor(() => errors.length > 0, 'an error callback')
    } finally {
      await inf.stop()
    }
  })
})
