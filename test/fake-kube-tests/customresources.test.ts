// AgenticSession through CustomObjectsApi: CRD defaults and pruning, generation rules, the
// status subresource, optimistic concurrency, patch types, validation and finalizers.
import {CustomObjectsApi} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startFakeKube, type FakeKube, type KubeObject} from '../fake-kube/index.js'
import {apiError, jsonPatch, mergePatch, ns, session, sessions, strategicPatch} from './helpers.js'

let kube: FakeKube
let custom: CustomObjectsApi

beforeAll(async () => {
  kube = await startFakeKube({namespaces: [ns]})
  custom = kube.kubeConfig().makeApiClient(CustomObjectsApi)
})

afterAll(async () => {
  await kube.close()
})

async function create(name: string, spec: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<KubeObject> {
  return (await custom.createNamespacedCustomObject({...sessions, namespace: ns, body: {...session(name, spec), ...extra}})) as KubeObject
}

async function read(name: string): Promise<KubeObject> {
  return (await custom.getNamespacedCustomObject({...sessions, namespace: ns, name})) as KubeObject
}

describe('create', () => {
  it('sets uid, creationTimestamp, resourceVersion and generation 1', async () => {
    const s = await create('meta')
    expect(s.apiVersion).toBe('vteam.ambient-code/v1alpha1')
    expect(s.kind).toBe('AgenticSession')
    expect(s.metadata.uid).toMatch(/^[0-9a-f-]{36}$/)
    expect(s.metadata.creationTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    expect(s.metadata.resourceVersion).toMatch(/^\d+$/)
    expect(s.metadata.generation).toBe(1)
  })

  it('applies CRD defaults, including inside array items', async () => {
    const s = await create('defaults', {repos: [{url: 'https://g/a'}, {url: 'https://g/b', branch: 'dev', autoPush: true}]})
    expect(s.spec).toEqual({
      displayName: 'defaults',
      initialPrompt: 'hello',
      timeout: 300,
      repos: [
        {url: 'https://g/a', branch: 'main', autoPush: false},
        {url: 'https://g/b', branch: 'dev', autoPush: true},
      ],
    })
  })

  it('prunes fields the CRD does not declare (project, botAccount, resourceOverrides, stray top-level)', async () => {
    const s = await create(
      'pruned',
      {
        project: 'p1',
        botAccount: {name: 'bot'},
        resourceOverrides: {cpu: '2'},
        llmSettings: {model: 'claude', temperature: 0.5, maxTokens: 1000, topK: 3},
        environmentVariables: {A: '1', B: '2'},
        activeWorkflow: {gitUrl: 'https://g/w', branch: 'main', path: 'wf', extra: true},
      },
      {junk: 1},
    )
    expect(s.junk).toBeUndefined()
    expect(s.spec).toEqual({
      displayName: 'pruned',
      initialPrompt: 'hello',
      timeout: 300,
      llmSettings: {model: 'claude', temperature: 0.5, maxTokens: 1000},
      environmentVariables: {A: '1', B: '2'},
      activeWorkflow: {gitUrl: 'https://g/w', branch: 'main', path: 'wf'},
    })
    expect((await read('pruned')).spec).toEqual(s.spec)
  })

  it('drops status sent with a create (status subresource)', async () => {
    const s = await create('no-status', {}, {status: {phase: 'Running'}})
    expect(s.status).toBeUndefined()
  })

  it('AlreadyExists is a 409 Status naming group and resource', async () => {
    await create('twice')
    const {code, status} = await apiError(() => create('twice'))
    expect(code).toBe(409)
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'agenticsessions.vteam.ambient-code "twice" already exists',
      reason: 'AlreadyExists',
      details: {name: 'twice', group: 'vteam.ambient-code', kind: 'agenticsessions'},
      code: 409,
    })
  })

  it('generateName makes a unique name', async () => {
    const a = (await custom.createNamespacedCustomObject({
      ...sessions,
      namespace: ns,
      body: {...session(''), metadata: {generateName: 'gen-', namespace: ns}},
    })) as KubeObject
    expect(a.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/)
  })

  it('rejects invalid names and enum values with 422 Invalid', async () => {
    const bad = await apiError(() => create('Not_A_Name'))
    expect(bad.code).toBe(422)
    expect(bad.status.reason).toBe('Invalid')
    const missingUrl = await apiError(() => create('no-url', {repos: [{branch: 'x'}]}))
    expect(missingUrl.code).toBe(422)
    expect(missingUrl.status.message).toBe('AgenticSession.vteam.ambient-code "no-url" is invalid: spec.repos[0].url: Required value')
    expect(missingUrl.status.details).toMatchObject({
      name: 'no-url',
      group: 'vteam.ambient-code',
      kind: 'AgenticSession',
      causes: [{reason: 'FieldValueRequired', message: 'Required value', field: 'spec.repos[0].url'}],
    })
    const wrongType = await apiError(() => create('bad-timeout', {timeout: 'long'}))
    expect(wrongType.code).toBe(422)
    expect(wrongType.status.details?.causes?.[0]).toMatchObject({reason: 'FieldValueTypeInvalid', field: 'spec.timeout'})
  })

  it('requires apiVersion and kind in the body', async () => {
    const {code, status} = await apiError(() =>
      custom.createNamespacedCustomObject({...sessions, namespace: ns, body: {metadata: {name: 'x'}, spec: {}}}),
    )
    expect(code).toBe(400)
    expect(status.reason).toBe('BadRequest')
  })
})

describe('get and delete', () => {
  it('NotFound is a 404 Status naming group and resource', async () => {
    const {code, status} = await apiError(() => read('missing'))
    expect(code).toBe(404)
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'agenticsessions.vteam.ambient-code "missing" not found',
      reason: 'NotFound',
      details: {name: 'missing', group: 'vteam.ambient-code', kind: 'agenticsessions'},
      code: 404,
    })
  })

  it('delete returns the object, then the object is gone', async () => {
    const s = await create('to-delete')
    const deleted = (await custom.deleteNamespacedCustomObject({...sessions, namespace: ns, name: 'to-delete'})) as KubeObject
    expect(deleted.metadata.uid).toBe(s.metadata.uid)
    expect((await apiError(() => read('to-delete'))).code).toBe(404)
    expect((await apiError(() => custom.deleteNamespacedCustomObject({...sessions, namespace: ns, name: 'to-delete'}))).status.reason).toBe(
      'NotFound',
    )
  })

  it('delete preconditions on uid and resourceVersion', async () => {
    const s = await create('precond')
    const {code, status} = await apiError(() =>
      custom.deleteNamespacedCustomObject({...sessions, namespace: ns, name: 'precond', body: {preconditions: {uid: 'other'}}}),
    )
    expect(code).toBe(409)
    expect(status.message).toContain('Precondition failed: UID in precondition: other')
    await custom.deleteNamespacedCustomObject({
      ...sessions,
      namespace: ns,
      name: 'precond',
      body: {preconditions: {uid: s.metadata.uid, resourceVersion: s.metadata.resourceVersion}},
    })
    expect(kube.get('agenticsessions', ns, 'precond')).toBeUndefined()
  })

  it('finalizers hold a deleted object until the last one is removed', async () => {
    await create('finalized', {}, {})
    await custom.patchNamespacedCustomObject(
      {...sessions, namespace: ns, name: 'finalized', body: {metadata: {finalizers: ['ambient-code.io/cleanup']}}},
      mergePatch,
    )
    const marked = (await custom.deleteNamespacedCustomObject({...sessions, namespace: ns, name: 'finalized'})) as KubeObject
    expect(marked.metadata.deletionTimestamp).toBeTruthy()
    expect(marked.metadata.generation).toBe(2)
    expect((await read('finalized')).metadata.deletionTimestamp).toBe(marked.metadata.deletionTimestamp)
    await custom.patchNamespacedCustomObject({...sessions, namespace: ns, name: 'finalized', body: {metadata: {finalizers: null}}}, mergePatch)
    expect((await apiError(() => read('finalized'))).code).toBe(404)
  })
})

describe('update (PUT)', () => {
  it('a stale resourceVersion is a 409 Conflict Status', async () => {
    const s = await create('conflict')
    await custom.replaceNamespacedCustomObject({
      ...sessions,
      namespace: ns,
      name: 'conflict',
      body: {...s, spec: {...(s.spec as object), displayName: 'v2'}},
    })
    const {code, status} = await apiError(() =>
      custom.replaceNamespacedCustomObject({
        ...sessions,
        namespace: ns,
        name: 'conflict',
        body: {...s, spec: {...(s.spec as object), displayName: 'v3'}},
      }),
    )
    expect(code).toBe(409)
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Operation cannot be fulfilled on agenticsessions.vteam.ambient-code "conflict": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: {name: 'conflict', group: 'vteam.ambient-code', kind: 'agenticsessions'},
      code: 409,
    })
  })

  it('custom resources refuse an update without resourceVersion (no unconditional update)', async () => {
    const s = await create('uncond')
    const {resourceVersion: _rv, ...meta} = s.metadata
    const {code, status} = await apiError(() =>
      custom.replaceNamespacedCustomObject({...sessions, namespace: ns, name: 'uncond', body: {...s, metadata: meta}}),
    )
    expect(code).toBe(422)
    expect(status.message).toBe(
      'agenticsessions.vteam.ambient-code "uncond" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
    )
  })

  it('PUT on a missing custom resource is 404 (no create-on-update)', async () => {
    const {code} = await apiError(() => custom.replaceNamespacedCustomObject({...sessions, namespace: ns, name: 'ghost', body: session('ghost')}))
    expect(code).toBe(404)
  })

  it('the name in the body must match the URL', async () => {
    const s = await create('named')
    const {code, status} = await apiError(() =>
      custom.replaceNamespacedCustomObject({...sessions, namespace: ns, name: 'named', body: {...s, metadata: {...s.metadata, name: 'other'}}}),
    )
    expect(code).toBe(400)
    expect(status.message).toBe('the name of the object (other) does not match the name on the URL (named)')
  })
})

describe('generation', () => {
  it('spec changes bump generation; metadata and status changes do not', async () => {
    let s = await create('gen')
    expect(s.metadata.generation).toBe(1)
    s = (await custom.patchNamespacedCustomObject(
      {...sessions, namespace: ns, name: 'gen', body: {metadata: {labels: {a: 'b'}, annotations: {x: 'y'}}}},
      mergePatch,
    )) as KubeObject
    expect(s.metadata.generation).toBe(1)
    const rvAfterLabels = s.metadata.resourceVersion
    s = (await custom.patchNamespacedCustomObjectStatus(
      {...sessions, namespace: ns, name: 'gen', body: {status: {phase: 'Running'}}},
      mergePatch,
    )) as KubeObject
    expect(s.metadata.generation).toBe(1)
    expect(Number(s.metadata.resourceVersion)).toBeGreaterThan(Number(rvAfterLabels))
    s = (await custom.patchNamespacedCustomObject({...sessions, namespace: ns, name: 'gen', body: {spec: {timeout: 600}}}, mergePatch)) as KubeObject
    expect(s.metadata.generation).toBe(2)
    s = (await custom.replaceNamespacedCustomObject({
      ...sessions,
      namespace: ns,
      name: 'gen',
      body: {...s, spec: {...(s.spec as object), initialPrompt: 'again'}},
    })) as KubeObject
    expect(s.metadata.generation).toBe(3)
  })

  it('a patch that changes nothing writes nothing (same resourceVersion)', async () => {
    const s = await create('noop')
    const same = (await custom.patchNamespacedCustomObject(
      {...sessions, namespace: ns, name: 'noop', body: {spec: {displayName: 'noop'}}},
      mergePatch,
    )) as KubeObject
    expect(same.metadata.resourceVersion).toBe(s.metadata.resourceVersion)
  })
})

describe('status subresource', () => {
  it('writes to the main resource ignore status', async () => {
    const s = await create('iso-main')
    await custom.patchNamespacedCustomObjectStatus({...sessions, namespace: ns, name: 'iso-main', body: {status: {phase: 'Running'}}}, mergePatch)
    const patched = (await custom.patchNamespacedCustomObject(
      {...sessions, namespace: ns, name: 'iso-main', body: {spec: {displayName: 'renamed'}, status: {phase: 'Failed'}}},
      mergePatch,
    )) as KubeObject
    expect(patched.status).toEqual({phase: 'Running'})
    expect(patched.spec).toMatchObject({displayName: 'renamed'})
    const current = await read('iso-main')
    const replaced = (await custom.replaceNamespacedCustomObject({
      ...sessions,
      namespace: ns,
      name: 'iso-main',
      body: {...current, status: {phase: 'Completed'}},
    })) as KubeObject
    expect(replaced.status).toEqual({phase: 'Running'})
    expect(s.metadata.uid).toBe(replaced.metadata.uid)
  })

  it('writes to /status ignore everything but status, and still check resourceVersion', async () => {
    const s = await create('iso-status')
    const updated = (await custom.replaceNamespacedCustomObjectStatus({
      ...sessions,
      namespace: ns,
      name: 'iso-status',
      body: {
        ...s,
        metadata: {...s.metadata, labels: {sneaky: 'yes'}},
        spec: {displayName: 'hijack'},
        status: {phase: 'Creating', sdkRestartCount: 0},
      },
    })) as KubeObject
    expect(updated.status).toEqual({phase: 'Creating', sdkRestartCount: 0})
    expect(updated.spec).toEqual(s.spec)
    expect(updated.metadata.labels).toBeUndefined()
    expect(updated.metadata.generation).toBe(1)
    const {code, status} = await apiError(() =>
      custom.replaceNamespacedCustomObjectStatus({...sessions, namespace: ns, name: 'iso-status', body: {...s, status: {phase: 'Failed'}}}),
    )
    expect(code).toBe(409)
    expect(status.reason).toBe('Conflict')
  })

  it('status is defaulted, pruned and validated', async () => {
    await create('status-schema')
    const s = (await custom.patchNamespacedCustomObjectStatus(
      {
        ...sessions,
        namespace: ns,
        name: 'status-schema',
        body: {
          status: {
            startTime: '2025-01-02T03:04:05Z',
            unknownField: 1,
            reconciledRepos: [{url: 'u', status: 'Ready', extraInfo: {a: 1}}],
            reconciledWorkflow: {anything: {goes: true}},
            conditions: [{type: 'Ready', status: 'True', reason: 'Ok', bogus: 1}],
          },
        },
      },
      mergePatch,
    )) as KubeObject
    expect(s.status).toEqual({
      phase: 'Pending',
      startTime: '2025-01-02T03:04:05Z',
      reconciledRepos: [{url: 'u', status: 'Ready', extraInfo: {a: 1}}],
      reconciledWorkflow: {anything: {goes: true}},
      conditions: [{type: 'Ready', status: 'True', reason: 'Ok'}],
    })
    const badPhase = await apiError(() =>
      custom.patchNamespacedCustomObjectStatus({...sessions, namespace: ns, name: 'status-schema', body: {status: {phase: 'Exploded'}}}, mergePatch),
    )
    expect(badPhase.code).toBe(422)
    expect(badPhase.status.details?.causes?.[0]).toMatchObject({reason: 'FieldValueNotSupported', field: 'status.phase'})
    expect(badPhase.status.message).toContain('Unsupported value: "Exploded": supported values: "Pending", "Creating"')
    const badReason = await apiError(() =>
      custom.patchNamespacedCustomObjectStatus(
        {...sessions, namespace: ns, name: 'status-schema', body: {status: {stoppedReason: 'bored'}}},
        mergePatch,
      ),
    )
    expect(badReason.code).toBe(422)
    const badTime = await apiError(() =>
      custom.patchNamespacedCustomObjectStatus(
        {...sessions, namespace: ns, name: 'status-schema', body: {status: {completionTime: 'yesterday'}}},
        mergePatch,
      ),
    )
    expect(badTime.code).toBe(422)
  })
})

describe('patch types', () => {
  it('JSON patch (the generated client default) with test/replace/add/remove', async () => {
    await create('jp', {repos: [{url: 'a'}]})
    const s = (await custom.patchNamespacedCustomObject(
      {
        ...sessions,
        namespace: ns,
        name: 'jp',
        body: [
          {op: 'test', path: '/spec/timeout', value: 300},
          {op: 'replace', path: '/spec/timeout', value: 30},
          {op: 'add', path: '/spec/repos/-', value: {url: 'b'}},
          {op: 'remove', path: '/spec/initialPrompt'},
          {op: 'add', path: '/metadata/labels', value: {'ambient-code.io/session-id': 'abc'}},
        ],
      },
      jsonPatch,
    )) as KubeObject
    expect(s.spec).toEqual({
      displayName: 'jp',
      timeout: 30,
      repos: [
        {url: 'a', branch: 'main', autoPush: false},
        {url: 'b', branch: 'main', autoPush: false},
      ],
    })
    expect(s.metadata.labels).toEqual({'ambient-code.io/session-id': 'abc'})
    const failed = await apiError(() =>
      custom.patchNamespacedCustomObject({...sessions, namespace: ns, name: 'jp', body: [{op: 'test', path: '/spec/timeout', value: 1}]}, jsonPatch),
    )
    expect(failed.code).toBe(422)
  })

  it('merge patch with a resourceVersion is an optimistic-lock write', async () => {
    const s = await create('mp-lock')
    await custom.patchNamespacedCustomObject({...sessions, namespace: ns, name: 'mp-lock', body: {spec: {timeout: 1}}}, mergePatch)
    const {code} = await apiError(() =>
      custom.patchNamespacedCustomObject(
        {...sessions, namespace: ns, name: 'mp-lock', body: {metadata: {resourceVersion: s.metadata.resourceVersion}, spec: {timeout: 2}}},
        mergePatch,
      ),
    )
    expect(code).toBe(409)
  })

  it('strategic merge patch is 415 for custom resources', async () => {
    await create('smp')
    const {code, status} = await apiError(() =>
      custom.patchNamespacedCustomObject({...sessions, namespace: ns, name: 'smp', body: {spec: {timeout: 1}}}, strategicPatch),
    )
    expect(code).toBe(415)
    expect(status.reason).toBe('UnsupportedMediaType')
  })

  it('patching a missing object is 404', async () => {
    const {code} = await apiError(() =>
      custom.patchNamespacedCustomObject({...sessions, namespace: ns, name: 'nobody', body: {spec: {timeout: 1}}}, mergePatch),
    )
    expect(code).toBe(404)
  })

  it('server-side apply creates, then merges (fieldManager required)', async () => {
    const url = `${kube.url}/apis/vteam.ambient-code/v1alpha1/namespaces/${ns}/agenticsessions/applied`
    const headers = {authorization: `Bearer ${kube.token}`, 'content-type': 'application/apply-patch+yaml'}
    const body = JSON.stringify(session('applied', {timeout: 5}))
    expect((await fetch(url, {method: 'PATCH', headers, body})).status).toBe(422)
    const created = await fetch(`${url}?fieldManager=ambient`, {method: 'PATCH', headers, body})
    expect(created.status).toBe(201)
    const yamlBody = 'apiVersion: vteam.ambient-code/v1alpha1\nkind: AgenticSession\nmetadata:\n  name: applied\nspec:\n  timeout: 6\n'
    const merged = await fetch(`${url}?fieldManager=ambient`, {method: 'PATCH', headers, body: yamlBody})
    expect(merged.status).toBe(200)
    expect(((await merged.json()) as KubeObject).spec).toMatchObject({displayName: 'applied', timeout: 6})
  })
})

describe('dry run', () => {
  it('dryRun=All validates without storing', async () => {
    const res = await custom.createNamespacedCustomObject({...sessions, namespace: ns, body: session('dry'), dryRun: 'All'})
    expect((res as KubeObject).spec).toMatchObject({timeout: 300})
    expect(kube.get('agenticsessions', ns, 'dry')).toBeUndefined()
  })
})

describe('CRDs through the API', () => {
  it('serves the loaded CRD and a CRD created at run time', async () => {
    const base = `${kube.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`
    const auth = {authorization: `Bearer ${kube.token}`, 'content-type': 'application/json'}
    const loaded = (await (await fetch(`${base}/agenticsessions.vteam.ambient-code`, {headers: auth})).json()) as KubeObject
    expect(loaded.status).toMatchObject({acceptedNames: {kind: 'AgenticSession'}, storedVersions: ['v1alpha1']})
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: {name: 'widgets.example.io'},
      spec: {
        group: 'example.io',
        scope: 'Cluster',
        names: {plural: 'widgets', singular: 'widget', kind: 'Widget'},
        versions: [
          {name: 'v1', served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', properties: {spec: {type: 'object', x_: 1}}}}},
        ],
      },
    }
    expect((await fetch(base, {method: 'POST', headers: auth, body: JSON.stringify(crd)})).status).toBe(201)
    const made = (await custom.createClusterCustomObject({
      group: 'example.io',
      version: 'v1',
      plural: 'widgets',
      body: {apiVersion: 'example.io/v1', kind: 'Widget', metadata: {name: 'w1'}, spec: {a: 1}},
    })) as KubeObject
    // spec declares no properties and does not preserve unknown fields: everything in it is pruned.
    expect(made.spec).toEqual({})
    expect((await fetch(`${base}/widgets.example.io`, {method: 'DELETE', headers: auth})).status).toBe(200)
    const gone = await fetch(`${kube.url}/apis/example.io/v1/widgets`, {headers: auth})
    expect(gone.status).toBe(404)
  })
})
