// Fault injection and the request log: injected Conflicts, 500s, 429 with Retry-After, failed
// watches, and counting what the client really sent.
import {CoordinationV1Api, CustomObjectsApi, Watch} from '@kubernetes/client-node'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {apiError, mergePatch, ns, session, sessions, waitFor} from './helpers.js'

let kube: FakeKube
let custom: CustomObjectsApi
let coord: CoordinationV1Api

beforeAll(async () => {
  kube = await startFakeKube({namespaces: [ns]})
  custom = kube.kubeConfig().makeApiClient(CustomObjectsApi)
  coord = kube.kubeConfig().makeApiClient(CoordinationV1Api)
})

beforeEach(() => {
  kube.clearFaults()
  kube.resetCounts()
})

afterAll(async () => {
  await kube.close()
})

describe('failNext', () => {
  it('an injected 409 Conflict looks like a real one, then the retry succeeds', async () => {
    await custom.createNamespacedCustomObject({...sessions, namespace: ns, body: session('c1')})
    kube.failNext({verb: 'patch', resource: 'agenticsessions', status: 409})
    const {code, status} = await apiError(() =>
      custom.patchNamespacedCustomObject({...sessions, namespace: ns, name: 'c1', body: {spec: {timeout: 1}}}, mergePatch),
    )
    expect(code).toBe(409)
    expect(status).toMatchObject({
      kind: 'Status',
      reason: 'Conflict',
      message: expect.stringContaining('Operation cannot be fulfilled on agenticsessions.vteam.ambient-code "c1"'),
      details: {name: 'c1', group: 'vteam.ambient-code', kind: 'agenticsessions'},
    })
    // The failed request did not write.
    expect(kube.get('agenticsessions', ns, 'c1')?.spec).toMatchObject({timeout: 300})
    await custom.patchNamespacedCustomObject({...sessions, namespace: ns, name: 'c1', body: {spec: {timeout: 1}}}, mergePatch)
    expect(kube.get('agenticsessions', ns, 'c1')?.spec).toMatchObject({timeout: 1})
  })

  it('fails `times` matching requests and leaves others alone', async () => {
    kube.failNext({verb: 'create', resource: 'leases.coordination.k8s.io', status: 500, times: 2})
    // A different resource is not affected.
    await custom.createNamespacedCustomObject({...sessions, namespace: ns, body: session('unaffected')})
    const body = {metadata: {name: 'flaky'}, spec: {holderIdentity: 'a'}}
    const first = await apiError(() => coord.createNamespacedLease({namespace: ns, body}))
    expect(first.code).toBe(500)
    expect(first.status).toMatchObject({reason: 'InternalError', code: 500})
    expect((await apiError(() => coord.createNamespacedLease({namespace: ns, body}))).code).toBe(500)
    const lease = await coord.createNamespacedLease({namespace: ns, body})
    expect(lease.metadata?.name).toBe('flaky')
    expect(kube.count({verb: 'create', resource: 'leases'})).toBe(3)
    expect(kube.count({verb: 'create', resource: 'leases', code: 500})).toBe(2)
  })

  it('429 carries Retry-After', async () => {
    kube.failNext({verb: 'get', resource: 'agenticsessions', name: 'x', status: 429, retryAfterSeconds: 2})
    const res = await fetch(`${kube.url}/apis/vteam.ambient-code/v1alpha1/namespaces/${ns}/agenticsessions/x`, {
      headers: {authorization: `Bearer ${kube.token}`},
    })
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('2')
    expect(await res.json()).toMatchObject({reason: 'TooManyRequests', details: {retryAfterSeconds: 2}})
  })

  it('a failed watch request ends the Watch with the status code', async () => {
    kube.failNext({verb: 'watch', resource: 'agenticsessions', status: 503})
    let error: unknown
    let finished = false
    await new Watch(kube.kubeConfig()).watch(
      `/apis/vteam.ambient-code/v1alpha1/namespaces/${ns}/agenticsessions`,
      {},
      () => undefined,
      (err: unknown) => {
        finished = true
        error = err
      },
    )
    await waitFor(() => finished, 'the watch to end')
    expect((error as {statusCode?: number}).statusCode).toBe(503)
  })
})

describe('request log', () => {
  it('records verb, resource, namespace, name, subresource and patch content type', async () => {
    await custom.createNamespacedCustomObject({...sessions, namespace: ns, body: session('logged')})
    await custom.getNamespacedCustomObject({...sessions, namespace: ns, name: 'logged'})
    await custom.patchNamespacedCustomObjectStatus({...sessions, namespace: ns, name: 'logged', body: {status: {phase: 'Running'}}}, mergePatch)
    await custom.listClusterCustomObject(sessions)
    expect(kube.count({verb: 'create', resource: 'agenticsessions', namespace: ns})).toBe(1)
    expect(kube.count({verb: 'get', name: 'logged'})).toBe(1)
    expect(kube.count({verb: 'list', resource: 'agenticsessions', namespace: undefined})).toBe(1)
    const patch = kube.requests.find((r) => r.verb === 'patch')
    expect(patch).toMatchObject({
      resource: 'agenticsessions',
      group: 'vteam.ambient-code',
      namespace: ns,
      name: 'logged',
      subresource: 'status',
      contentType: 'application/merge-patch+json',
      code: 200,
    })
    kube.resetCounts()
    expect(kube.count()).toBe(0)
  })
})

describe('hold', () => {
  it('keeps matching requests unprocessed and unanswered until released; others go through', async () => {
    const hold = kube.hold((r) => r.verb === 'create' && r.resource === 'agenticsessions' && r.userAgent === 'held-client')
    const held = fetch(`${kube.url}/apis/vteam.ambient-code/v1alpha1/namespaces/${ns}/agenticsessions`, {
      method: 'POST',
      headers: {authorization: `Bearer ${kube.token}`, 'content-type': 'application/json', 'user-agent': 'held-client'},
      body: JSON.stringify(session('held')),
    })
    await waitFor(() => hold.held === 1, 'the request to be held')
    // Another client's create is not held.
    await custom.createNamespacedCustomObject({...sessions, namespace: ns, body: session('free')})
    expect(kube.get('agenticsessions', ns, 'held')).toBeUndefined()
    hold.release()
    expect((await held).status).toBe(201)
    expect(kube.get('agenticsessions', ns, 'held')).toBeDefined()
    expect(hold.held).toBe(0)
  })

  it('logs each request with its user agent and arrival time', async () => {
    const before = Date.now()
    await fetch(`${kube.url}/api/v1/namespaces/${ns}`, {headers: {authorization: `Bearer ${kube.token}`, 'user-agent': 'replica-x'}})
    const record = kube.requests.find((r) => r.userAgent === 'replica-x')
    expect(record).toMatchObject({verb: 'get', resource: 'namespaces', code: 200})
    expect(record?.at).toBeGreaterThanOrEqual(before)
    expect(record?.at).toBeLessThanOrEqual(Date.now())
  })
})
