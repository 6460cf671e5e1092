// Built-in resources through the real client-node API classes: namespaces, rolebindings, leases,
// events (core and events.k8s.io), discovery, and the Status objects of failures.
import {
  CoordinationV1Api,
  CoreV1Api,
  EventsV1Api,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
  VersionApi,
  type KubernetesObject,
  type V1Namespace,
  type V1RoleBinding,
} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {apiError, mergePatch, ns, strategicPatch} from './helpers.js'

let kube: FakeKube
let core: CoreV1Api
let rbac: RbacAuthorizationV1Api
let coord: CoordinationV1Api

beforeAll(async () => {
  kube = await startFakeKube({namespaces: ['default', ns]})
  const kc = kube.kubeConfig()
  core = kc.makeApiClient(CoreV1Api)
  rbac = kc.makeApiClient(RbacAuthorizationV1Api)
  coord = kc.makeApiClient(CoordinationV1Api)
})

afterAll(async () => {
  await kube.close()
})

describe('namespaces', () => {
  it('creates a namespace with server-set metadata, phase Active and the name label', async () => {
    const created = await core.createNamespace({
      body: {metadata: {name: 'proj-1', labels: {'ambient-code.io/managed': 'true'}}},
    })
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/)
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/)
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date)
    expect(created.status?.phase).toBe('Active')
    expect(created.metadata?.labels).toEqual({
      'ambient-code.io/managed': 'true',
      'kubernetes.io/metadata.name': 'proj-1',
    })
    const read = await core.readNamespace({name: 'proj-1'})
    expect(read.metadata?.uid).toBe(created.metadata?.uid)
  })

  it('answers AlreadyExists with a full Status', async () => {
    await core.createNamespace({body: {metadata: {name: 'dup'}}})
    const {code, status} = await apiError(() => core.createNamespace({body: {metadata: {name: 'dup'}}}))
    expect(code).toBe(409)
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'namespaces "dup" already exists',
      reason: 'AlreadyExists',
      details: {name: 'dup', kind: 'namespaces'},
      code: 409,
    })
  })

  it('answers NotFound with a full Status', async () => {
    const {code, status} = await apiError(() => core.readNamespace({name: 'nope'}))
    expect(code).toBe(404)
    expect(status).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      message: 'namespaces "nope" not found',
      details: {name: 'nope', kind: 'namespaces'},
      code: 404,
    })
  })

  it('rejects a namespace name that is not an RFC 1123 label with 422 Invalid', async () => {
    const {code, status} = await apiError(() => core.createNamespace({body: {metadata: {name: 'Bad_Name'}}}))
    expect(code).toBe(422)
    expect(status.reason).toBe('Invalid')
    expect(status.details?.causes?.[0]?.field).toBe('metadata.name')
  })

  it('refuses namespaced writes into a namespace that does not exist', async () => {
    const {code, status} = await apiError(() => coord.createNamespacedLease({namespace: 'ghost', body: {metadata: {name: 'l'}, spec: {}}}))
    expect(code).toBe(404)
    expect(status.message).toBe('namespaces "ghost" not found')
  })

  it('deleting a namespace deletes what it holds', async () => {
    await core.createNamespace({body: {metadata: {name: 'doomed'}}})
    await coord.createNamespacedLease({namespace: 'doomed', body: {metadata: {name: 'l1'}, spec: {holderIdentity: 'a'}}})
    // Typed as V1Status by the generated client, but a real server returns the Namespace.
    const deleted = (await core.deleteNamespace({name: 'doomed'})) as unknown as V1Namespace
    expect(deleted.status?.phase).toBe('Terminating')
    expect(kube.get('leases', 'doomed', 'l1')).toBeUndefined()
    expect((await apiError(() => core.readNamespace({name: 'doomed'}))).code).toBe(404)
  })
})

describe('rolebindings', () => {
  const binding = (name: string, role: string): V1RoleBinding => ({
    metadata: {name, labels: {'ambient-code.io/managed': 'true'}},
    roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role},
    subjects: [{kind: 'Group', name: 'devs', apiGroup: 'rbac.authorization.k8s.io'}],
  })

  it('creates, reads, lists and deletes', async () => {
    const created = await rbac.createNamespacedRoleBinding({namespace: ns, body: binding('ambient-devs-edit', 'edit')})
    expect(created.roleRef.name).toBe('edit')
    const list = await rbac.listNamespacedRoleBinding({namespace: ns})
    expect(list.items.map((b) => b.metadata?.name)).toContain('ambient-devs-edit')
    const status = await rbac.deleteNamespacedRoleBinding({namespace: ns, name: 'ambient-devs-edit'})
    // RoleBindings do not return the deleted object: a Success Status.
    expect(status).toMatchObject({kind: 'Status', status: 'Success', details: {name: 'ambient-devs-edit', kind: 'rolebindings'}})
    expect((await apiError(() => rbac.readNamespacedRoleBinding({namespace: ns, name: 'ambient-devs-edit'}))).code).toBe(404)
  })

  it('roleRef is immutable: an update changing it is 422 Invalid', async () => {
    const created = await rbac.createNamespacedRoleBinding({namespace: ns, body: binding('ambient-devs-view', 'view')})
    created.roleRef.name = 'admin'
    const {code, status} = await apiError(() => rbac.replaceNamespacedRoleBinding({namespace: ns, name: 'ambient-devs-view', body: created}))
    expect(code).toBe(422)
    expect(status.reason).toBe('Invalid')
    expect(status.message).toContain('cannot change roleRef')
    expect(status.details).toMatchObject({name: 'ambient-devs-view', group: 'rbac.authorization.k8s.io', kind: 'RoleBinding'})
  })

  it('a strategic merge patch is accepted for built-ins (applied as a merge patch)', async () => {
    await rbac.createNamespacedRoleBinding({namespace: ns, body: binding('ambient-ops-edit', 'edit')})
    const patched = await rbac.patchNamespacedRoleBinding(
      {namespace: ns, name: 'ambient-ops-edit', body: {metadata: {labels: {extra: 'yes'}}}},
      strategicPatch,
    )
    expect(patched.metadata?.labels).toEqual({'ambient-code.io/managed': 'true', extra: 'yes'})
  })
})

describe('leases', () => {
  it('supports leader election: conditional replace, Conflict on a stale resourceVersion', async () => {
    const now = new Date()
    const lease = await coord.createNamespacedLease({
      namespace: ns,
      body: {metadata: {name: 'ambient-leader'}, spec: {holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: now, acquireTime: now}},
    })
    expect(lease.metadata?.generation).toBeUndefined()
    const renewed = await coord.replaceNamespacedLease({
      namespace: ns,
      name: 'ambient-leader',
      body: {...lease, spec: {...lease.spec, renewTime: new Date(now.getTime() + 1000)}},
    })
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(Number(lease.metadata?.resourceVersion))
    // Another candidate still holding the first resourceVersion loses.
    const {code, status} = await apiError(() =>
      coord.replaceNamespacedLease({namespace: ns, name: 'ambient-leader', body: {...lease, spec: {...lease.spec, holderIdentity: 'b'}}}),
    )
    expect(code).toBe(409)
    expect(status).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on leases.coordination.k8s.io "ambient-leader": the object has been modified; please apply your changes to the latest version and try again',
      details: {name: 'ambient-leader', group: 'coordination.k8s.io', kind: 'leases'},
    })
    // Built-ins allow an unconditional update (no resourceVersion).
    const {resourceVersion: _rv, ...metaWithoutRv} = renewed.metadata ?? {}
    const forced = await coord.replaceNamespacedLease({
      namespace: ns,
      name: 'ambient-leader',
      body: {...renewed, metadata: metaWithoutRv, spec: {...renewed.spec, holderIdentity: 'c'}},
    })
    expect(forced.spec?.holderIdentity).toBe('c')
  })

  it('a write that changes nothing keeps the resourceVersion', async () => {
    const lease = await coord.createNamespacedLease({namespace: ns, body: {metadata: {name: 'same'}, spec: {holderIdentity: 'x'}}})
    const again = await coord.replaceNamespacedLease({namespace: ns, name: 'same', body: lease})
    expect(again.metadata?.resourceVersion).toBe(lease.metadata?.resourceVersion)
  })

  it('PUT on a missing lease creates it (leases allow create-on-update)', async () => {
    const made = await coord.replaceNamespacedLease({namespace: ns, name: 'fresh', body: {metadata: {name: 'fresh'}, spec: {holderIdentity: 'z'}}})
    expect(made.metadata?.uid).toBeTruthy()
    expect(kube.get('leases', ns, 'fresh')?.spec).toEqual({holderIdentity: 'z'})
  })
})

describe('events', () => {
  it('core v1 events are created, listed and selected by reason and involved object', async () => {
    const involvedObject = {kind: 'AgenticSession', namespace: ns, name: 's1', apiVersion: 'vteam.ambient-code/v1alpha1'}
    await core.createNamespacedEvent({
      namespace: ns,
      body: {metadata: {generateName: 's1.'}, involvedObject, reason: 'Reconciled', message: 'ok', type: 'Normal', source: {component: 'ambient'}},
    })
    await core.createNamespacedEvent({
      namespace: ns,
      body: {metadata: {generateName: 's1.'}, involvedObject, reason: 'Failed', message: 'boom', type: 'Warning'},
    })
    const all = await core.listNamespacedEvent({namespace: ns})
    expect(all.items.map((e) => e.reason).sort()).toEqual(['Failed', 'Reconciled'])
    expect(all.items.every((e) => e.metadata.name?.startsWith('s1.') && e.metadata.name.length === 8)).toBe(true)
    const failed = await core.listNamespacedEvent({namespace: ns, fieldSelector: 'reason=Failed,involvedObject.name=s1'})
    expect(failed.items.map((e) => e.message)).toEqual(['boom'])
  })

  it('events.k8s.io/v1 is a view of the same events with renamed fields', async () => {
    const events = kube.kubeConfig().makeApiClient(EventsV1Api)
    const created = await events.createNamespacedEvent({
      namespace: ns,
      body: {
        metadata: {name: 'ev-v1'},
        eventTime: new Date(),
        reportingController: 'ambient.io/control-plane',
        reportingInstance: 'cp-0',
        action: 'Reconcile',
        reason: 'SessionStarted',
        note: 'started',
        type: 'Normal',
        regarding: {kind: 'AgenticSession', namespace: ns, name: 's2'},
      },
    })
    expect(created.note).toBe('started')
    const asCore = await core.readNamespacedEvent({namespace: ns, name: 'ev-v1'})
    expect(asCore.message).toBe('started')
    expect(asCore.involvedObject.name).toBe('s2')
    expect(asCore.reportingComponent).toBe('ambient.io/control-plane')
    // events.k8s.io/v1 requires the fields of the new API.
    const {code, status} = await apiError(() =>
      events.createNamespacedEvent({namespace: ns, body: {metadata: {name: 'ev-bad'}, eventTime: new Date(), reason: 'X'}}),
    )
    expect(code).toBe(422)
    expect(status.details?.causes?.map((c) => c.field)).toEqual(expect.arrayContaining(['reportingController', 'reportingInstance', 'action']))
  })
})

describe('discovery and KubernetesObjectApi', () => {
  it('serves /version', async () => {
    const v = await kube.kubeConfig().makeApiClient(VersionApi).getCode()
    expect(v.major).toBe('1')
  })

  it('KubernetesObjectApi finds resources through discovery and does CRUD on built-ins and CRs', async () => {
    const client = KubernetesObjectApi.makeApiClient(kube.kubeConfig())
    const lease: KubernetesObject = await client.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {name: 'obj-api', namespace: ns},
      spec: {holderIdentity: 'h'},
    })
    expect(lease.metadata?.uid).toBeTruthy()
    const session: KubernetesObject = await client.create({
      apiVersion: 'vteam.ambient-code/v1alpha1',
      kind: 'AgenticSession',
      metadata: {name: 'obj-api', namespace: ns},
      spec: {displayName: 'x'},
    })
    expect(session.metadata?.generation).toBe(1)
    const read = await client.read({apiVersion: 'vteam.ambient-code/v1alpha1', kind: 'AgenticSession', metadata: {name: 'obj-api', namespace: ns}})
    expect((read as unknown as {spec: {timeout: number}}).spec.timeout).toBe(300)
    const list = await client.list('vteam.ambient-code/v1alpha1', 'AgenticSession', ns)
    expect(list.items.map((i) => i.metadata?.name)).toContain('obj-api')
    // Its default patch type, strategic merge, is refused for custom resources, as on a cluster.
    const {code} = await apiError(() =>
      client.patch({
        apiVersion: 'vteam.ambient-code/v1alpha1',
        kind: 'AgenticSession',
        metadata: {name: 'obj-api', namespace: ns},
        spec: {displayName: 'y'},
      }),
    )
    expect(code).toBe(415)
    await client.delete({apiVersion: 'vteam.ambient-code/v1alpha1', kind: 'AgenticSession', metadata: {name: 'obj-api', namespace: ns}})
    expect(kube.get('agenticsessions', ns, 'obj-api')).toBeUndefined()
    // A merge patch on a built-in through the same client.
    const patched = await client.patch(
      {apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {name: 'obj-api', namespace: ns}, spec: {holderIdentity: 'i'}},
      undefined,
      undefined,
      undefined,
      undefined,
      'application/merge-patch+json',
    )
    expect((patched as unknown as {spec: {holderIdentity: string}}).spec.holderIdentity).toBe('i')
  })

  it('discovery lists the CRD group and its status subresource', async () => {
    const res = await fetch(`${kube.url}/apis/vteam.ambient-code/v1alpha1`, {headers: {authorization: `Bearer ${kube.token}`}})
    const body = (await res.json()) as {resources: {name: string; namespaced: boolean; shortNames?: string[]}[]}
    expect(body.resources.map((r) => r.name)).toEqual(['agenticsessions', 'agenticsessions/status'])
    expect(body.resources[0]).toMatchObject({namespaced: true, shortNames: ['as']})
    const groups = (await (await fetch(`${kube.url}/apis`, {headers: {authorization: `Bearer ${kube.token}`}})).json()) as {
      groups: {name: string}[]
    }
    expect(groups.groups.map((g) => g.name)).toEqual(
      expect.arrayContaining(['vteam.ambient-code', 'coordination.k8s.io', 'rbac.authorization.k8s.io', 'events.k8s.io']),
    )
  })

  it('rejects a request without the bearer token', async () => {
    const res = await fetch(`${kube.url}/api/v1/namespaces`)
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({kind: 'Status', reason: 'Unauthorized', code: 401})
  })

  it('merge patch via the generated API class', async () => {
    const patched = await core.patchNamespace({name: ns, body: {metadata: {annotations: {a: 'b'}}}}, mergePatch)
    expect(patched.metadata?.annotations).toEqual({a: 'b'})
  })
})
