// Lists: label selectors (=, ==, !=, in, notin, exists, !exists), field selectors, cluster-wide
// lists of namespaced resources, limit/continue, and the shape of list responses.
import {CoordinationV1Api, CustomObjectsApi} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startFakeKube, type FakeKube, type KubeObject} from '../fake-kube/index.js'
import {apiError, ns, session, sessions} from './helpers.js'

let kube: FakeKube
let custom: CustomObjectsApi

interface List {
  apiVersion: string
  kind: string
  metadata: {resourceVersion: string; continue?: string; remainingItemCount?: number}
  items: KubeObject[]
}

const labelled: [string, Record<string, string>][] = [
  ['s-a', {tier: 'gold', team: 'x'}],
  ['s-b', {tier: 'silver', team: 'x'}],
  ['s-c', {tier: 'bronze'}],
  ['s-d', {}],
]

beforeAll(async () => {
  kube = await startFakeKube({namespaces: [ns, 'team-b']})
  custom = kube.kubeConfig().makeApiClient(CustomObjectsApi)
  for (const [name, labels] of labelled) {
    const body = session(name)
    body.metadata.labels = labels
    await custom.createNamespacedCustomObject({...sessions, namespace: ns, body})
  }
  const other = session('s-e')
  other.metadata.namespace = 'team-b'
  other.metadata.labels = {tier: 'gold'}
  await custom.createNamespacedCustomObject({...sessions, namespace: 'team-b', body: other})
})

afterAll(async () => {
  await kube.close()
})

async function names(query: {labelSelector?: string; fieldSelector?: string}): Promise<string[]> {
  const list = (await custom.listNamespacedCustomObject({...sessions, namespace: ns, ...query})) as List
  return list.items.map((i) => i.metadata.name ?? '')
}

describe('label selectors', () => {
  it.each([
    ['tier=gold', ['s-a']],
    ['tier==gold', ['s-a']],
    ['tier!=gold', ['s-b', 's-c', 's-d']],
    ['tier in (gold, silver)', ['s-a', 's-b']],
    ['tier notin (gold,silver)', ['s-c', 's-d']],
    ['team', ['s-a', 's-b']],
    ['!team', ['s-c', 's-d']],
    ['team=x,tier!=silver', ['s-a']],
    ['tier in (gold),!team', []],
  ])('%s', async (selector, expected) => {
    expect(await names({labelSelector: selector})).toEqual(expected)
  })

  it('a malformed selector is 400 BadRequest', async () => {
    const {code, status} = await apiError(() => names({labelSelector: 'tier in gold'}))
    expect(code).toBe(400)
    expect(status.reason).toBe('BadRequest')
  })
})

describe('field selectors', () => {
  it('metadata.name and metadata.namespace', async () => {
    expect(await names({fieldSelector: 'metadata.name=s-b'})).toEqual(['s-b'])
    expect(await names({fieldSelector: 'metadata.name!=s-b'})).toEqual(['s-a', 's-c', 's-d'])
    const all = (await custom.listClusterCustomObject({...sessions, fieldSelector: 'metadata.namespace=team-b'})) as List
    expect(all.items.map((i) => i.metadata.name)).toEqual(['s-e'])
  })

  it('other fields are refused for custom resources', async () => {
    const {code, status} = await apiError(() => names({fieldSelector: 'spec.displayName=s-a'}))
    expect(code).toBe(400)
    expect(status.message).toBe('"spec.displayName" is not a known field selector: only "metadata.name", "metadata.namespace"')
  })
})

describe('list responses', () => {
  it('a cluster-wide list spans namespaces, ordered by namespace then name', async () => {
    const list = (await custom.listClusterCustomObject({...sessions, labelSelector: 'tier=gold'})) as List
    expect(list.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual([`${ns}/s-a`, 'team-b/s-e'])
  })

  it('carries list kind and resourceVersion; CR items carry apiVersion/kind, built-in items do not', async () => {
    const list = (await custom.listNamespacedCustomObject({...sessions, namespace: ns})) as List
    expect(list.kind).toBe('AgenticSessionList')
    expect(list.apiVersion).toBe('vteam.ambient-code/v1alpha1')
    expect(list.metadata.resourceVersion).toBe(kube.resourceVersion())
    expect(list.items[0]).toMatchObject({apiVersion: 'vteam.ambient-code/v1alpha1', kind: 'AgenticSession'})
    await kube
      .kubeConfig()
      .makeApiClient(CoordinationV1Api)
      .createNamespacedLease({namespace: ns, body: {metadata: {name: 'l'}, spec: {}}})
    const raw = (await (
      await fetch(`${kube.url}/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, {headers: {authorization: `Bearer ${kube.token}`}})
    ).json()) as List
    expect(raw.kind).toBe('LeaseList')
    expect(raw.items[0].kind).toBeUndefined()
    expect(raw.items[0].apiVersion).toBeUndefined()
  })

  it('pages with limit and continue', async () => {
    const first = (await custom.listNamespacedCustomObject({...sessions, namespace: ns, limit: 3})) as List
    expect(first.items.map((i) => i.metadata.name)).toEqual(['s-a', 's-b', 's-c'])
    expect(first.metadata.remainingItemCount).toBe(1)
    expect(first.metadata.continue).toBeTruthy()
    const second = (await custom.listNamespacedCustomObject({...sessions, namespace: ns, limit: 3, _continue: first.metadata.continue})) as List
    expect(second.items.map((i) => i.metadata.name)).toEqual(['s-d'])
    expect(second.metadata.continue).toBeUndefined()
  })

  it('an expired continue token is 410 Expired', async () => {
    const first = (await custom.listNamespacedCustomObject({...sessions, namespace: ns, limit: 1})) as List
    kube.expireResourceVersions()
    const {code, status} = await apiError(() =>
      custom.listNamespacedCustomObject({...sessions, namespace: ns, limit: 1, _continue: first.metadata.continue}),
    )
    expect(code).toBe(410)
    expect(status.reason).toBe('Expired')
  })
})
