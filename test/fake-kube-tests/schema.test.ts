// The structural-schema quirks of a real API server the fake reproduces, beyond the basics in
// customresources.test.ts: defaults and pruning also on read (objects stored before a CRD
// change), nulls, the enum/minimum/type errors of the AgenticSession CRD with their exact
// Status, and the checks a server makes on a CRD's schema before accepting it.
import {CustomObjectsApi, Watch} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startFakeKube, type FakeKube, type KubeObject} from '../fake-kube/index.js'
import {readFileSync} from 'node:fs'
import * as yaml from 'js-yaml'
import {defaultCrdPath} from '../fake-kube/index.js'
import {clone, isObject} from '../fake-kube/json.js'
import {applyDefaults, decoded, parseSchema, prune} from '../fake-kube/schema.js'
import {apiError, mergePatch, ns, session, sessions, waitFor} from './helpers.js'

let kube: FakeKube
let custom: CustomObjectsApi
const crdUrl = () => `${kube.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`
const headers = () => ({authorization: `Bearer ${kube.token}`, 'content-type': 'application/json'})

beforeAll(async () => {
  kube = await startFakeKube({namespaces: [ns]})
  custom = kube.kubeConfig().makeApiClient(CustomObjectsApi)
})

afterAll(async () => {
  await kube.close()
})

async function create(name: string, spec: Record<string, unknown> = {}): Promise<KubeObject> {
  return (await custom.createNamespacedCustomObject({...sessions, namespace: ns, body: session(name, spec)})) as KubeObject
}

async function read(name: string): Promise<KubeObject> {
  return (await custom.getNamespacedCustomObject({...sessions, namespace: ns, name})) as KubeObject
}

async function patchStatus(name: string, status: Record<string, unknown>): Promise<KubeObject> {
  return (await custom.patchNamespacedCustomObjectStatus({...sessions, namespace: ns, name, body: {status}}, mergePatch)) as KubeObject
}

/** A throwaway cluster-scoped CRD `<plural>.example.io` with the given spec schema. */
function widgetCrd(plural: string, specSchema: Record<string, unknown>): Record<string, unknown> {
  const kind = plural[0].toUpperCase() + plural.slice(1, -1)
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {name: `${plural}.example.io`},
    spec: {
      group: 'example.io',
      scope: 'Cluster',
      names: {plural, singular: plural.slice(0, -1), kind},
      versions: [{name: 'v1', served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', properties: {spec: specSchema}}}}],
    },
  }
}

async function postCrd(crd: Record<string, unknown>): Promise<{status: number; body: Record<string, unknown>}> {
  const res = await fetch(crdUrl(), {method: 'POST', headers: headers(), body: JSON.stringify(crd)})
  return {status: res.status, body: (await res.json()) as Record<string, unknown>}
}

async function replaceCrd(name: string, mutate: (spec: Record<string, unknown>) => void): Promise<number> {
  const current = (await (await fetch(`${crdUrl()}/${name}`, {headers: headers()})).json()) as KubeObject
  if (!isObject(current.spec)) throw new Error('CRD without spec')
  mutate(current.spec)
  return (await fetch(`${crdUrl()}/${name}`, {method: 'PUT', headers: headers(), body: JSON.stringify(current)})).status
}

describe('defaults and pruning on read', () => {
  it('an object stored without the defaults reads with them, and the read writes nothing', async () => {
    const raw = kube.put(
      'agenticsessions',
      ns,
      'stored-raw',
      {...session('stored-raw', {repos: [{url: 'https://g/r'}], llmSettings: {}})},
      {raw: true},
    )
    const got = await read('stored-raw')
    expect(got.spec).toEqual({
      displayName: 'stored-raw',
      initialPrompt: 'hello',
      timeout: 300,
      repos: [{url: 'https://g/r', branch: 'main', autoPush: false}],
      llmSettings: {model: 'claude-3-7-sonnet-latest', temperature: 0.7, maxTokens: 4000},
    })
    expect(got.metadata.resourceVersion).toBe(raw.metadata.resourceVersion)
    const listed = (await custom.listNamespacedCustomObject({...sessions, namespace: ns})) as {items: KubeObject[]}
    expect(listed.items.find((i) => i.metadata.name === 'stored-raw')?.spec).toEqual(got.spec)
  })

  it('a default added to the CRD later shows on objects stored before it, in gets and watch events', async () => {
    expect((await postCrd(widgetCrd('gadgets', {type: 'object', properties: {size: {type: 'integer'}, color: {type: 'string'}}}))).status).toBe(201)
    const gadgets = {group: 'example.io', version: 'v1', plural: 'gadgets'}
    await custom.createClusterCustomObject({
      ...gadgets,
      body: {apiVersion: 'example.io/v1', kind: 'Gadget', metadata: {name: 'g1'}, spec: {color: 'red'}},
    })
    expect(
      await replaceCrd('gadgets.example.io', (spec) => {
        const versions = spec.versions as {schema: {openAPIV3Schema: {properties: {spec: {properties: Record<string, unknown>}}}}}[]
        versions[0].schema.openAPIV3Schema.properties.spec.properties.size = {type: 'integer', default: 3}
      }),
    ).toBe(200)
    const got = (await custom.getClusterCustomObject({...gadgets, name: 'g1'})) as KubeObject
    expect(got.spec).toEqual({color: 'red', size: 3})
    const events: KubeObject[] = []
    const controller = await new Watch(kube.kubeConfig()).watch(
      '/apis/example.io/v1/gadgets',
      {},
      (_type, obj: KubeObject) => events.push(obj),
      () => undefined,
    )
    try {
      await waitFor(() => events.length === 1, 'the synthetic ADDED event')
      expect(events[0].spec).toEqual({color: 'red', size: 3})
    } finally {
      controller.abort()
    }
  })

  it('a field removed from the CRD is pruned from objects stored before, on read', async () => {
    expect((await postCrd(widgetCrd('sprockets', {type: 'object', properties: {size: {type: 'integer'}, color: {type: 'string'}}}))).status).toBe(201)
    const sprockets = {group: 'example.io', version: 'v1', plural: 'sprockets'}
    await custom.createClusterCustomObject({
      ...sprockets,
      body: {apiVersion: 'example.io/v1', kind: 'Sprocket', metadata: {name: 's1'}, spec: {color: 'red', size: 2}},
    })
    await replaceCrd('sprockets.example.io', (spec) => {
      const versions = spec.versions as {schema: {openAPIV3Schema: {properties: {spec: {properties: Record<string, unknown>}}}}}[]
      delete versions[0].schema.openAPIV3Schema.properties.spec.properties.size
    })
    expect(((await custom.getClusterCustomObject({...sprockets, name: 's1'})) as KubeObject).spec).toEqual({color: 'red'})
  })
})

describe('the one-walk decoder of the read path', () => {
  it('gives what clone + prune + applyDefaults give, and leaves its input untouched', () => {
    const crd = yaml.load(readFileSync(defaultCrdPath, 'utf8')) as {spec: {versions: {schema: {openAPIV3Schema: unknown}}[]}}
    const schema = parseSchema(crd.spec.versions[0].schema.openAPIV3Schema)
    const samples: Record<string, unknown>[] = [
      {apiVersion: 'v', kind: 'K', metadata: {name: 'a', labels: {x: 'y'}}, junk: 1},
      {
        metadata: {},
        spec: {
          timeout: null,
          displayName: null,
          repos: [
            {url: 'u', extra: 1},
            {url: 'v', branch: null},
          ],
          llmSettings: {},
          project: 'p',
        },
      },
      {metadata: {}, spec: {environmentVariables: {A: '1', B: null}, activeWorkflow: {gitUrl: 'g'}, userContext: {groups: ['a'], other: 1}}},
      {
        metadata: {},
        status: {
          phase: null,
          reconciledRepos: [{url: 'u', anything: {deep: [1, {x: null}]}}],
          reconciledWorkflow: {free: {form: true}},
          conditions: [{type: 't', status: 'True', junk: 1}],
          unknown: 1,
        },
      },
      {metadata: {}, spec: {}, status: {}},
    ]
    for (const sample of samples) {
      const before = clone(sample)
      const expected = clone(sample)
      prune(expected, schema)
      applyDefaults(expected, schema)
      expect(decoded(sample, schema, true), JSON.stringify(sample)).toEqual(expected)
      expect(sample).toEqual(before)
    }
  })
})

describe('nulls', () => {
  it('a null for a field with a default gets the default; a null without one is dropped', async () => {
    const s = await create('nulls', {timeout: null, displayName: null, llmSettings: {model: null, temperature: 0.2}})
    expect(s.spec).toEqual({
      initialPrompt: 'hello',
      timeout: 300,
      llmSettings: {model: 'claude-3-7-sonnet-latest', temperature: 0.2, maxTokens: 4000},
    })
  })

  it('a merge patch with null removes a field, and the default comes back', async () => {
    await create('null-patch', {timeout: 60, llmSettings: {model: 'm'}})
    const patched = (await custom.patchNamespacedCustomObject(
      {...sessions, namespace: ns, name: 'null-patch', body: {spec: {timeout: null, llmSettings: null}}},
      mergePatch,
    )) as KubeObject
    expect(patched.spec).toEqual({displayName: 'null-patch', initialPrompt: 'hello', timeout: 300})
  })
})

describe('validation of the AgenticSession schema (422 Invalid)', () => {
  it('spec.inactivityTimeout below its minimum 0', async () => {
    expect((await create('idle-zero', {inactivityTimeout: 0})).spec).toMatchObject({inactivityTimeout: 0})
    const {code, status} = await apiError(() => create('idle-negative', {inactivityTimeout: -1}))
    expect(code).toBe(422)
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'AgenticSession.vteam.ambient-code "idle-negative" is invalid: spec.inactivityTimeout: Invalid value: -1: spec.inactivityTimeout in body should be greater than or equal to 0',
      reason: 'Invalid',
      details: {
        name: 'idle-negative',
        group: 'vteam.ambient-code',
        kind: 'AgenticSession',
        causes: [
          {
            reason: 'FieldValueInvalid',
            message: 'Invalid value: -1: spec.inactivityTimeout in body should be greater than or equal to 0',
            field: 'spec.inactivityTimeout',
          },
        ],
      },
      code: 422,
    })
  })

  it('integer fields refuse fractions; number fields take integers', async () => {
    const {code, status} = await apiError(() => create('tokens-fraction', {llmSettings: {maxTokens: 10.5}}))
    expect(code).toBe(422)
    expect(status.message).toBe(
      'AgenticSession.vteam.ambient-code "tokens-fraction" is invalid: spec.llmSettings.maxTokens: Invalid value: "number": spec.llmSettings.maxTokens in body must be of type integer: "number"',
    )
    expect((await create('temperature-int', {llmSettings: {temperature: 1}})).spec).toMatchObject({llmSettings: {temperature: 1}})
  })

  it('environmentVariables values must be strings', async () => {
    const {code, status} = await apiError(() => create('env-number', {environmentVariables: {A: 1}}))
    expect(code).toBe(422)
    expect(status.details?.causes).toEqual([
      {
        reason: 'FieldValueTypeInvalid',
        message: 'Invalid value: "integer": spec.environmentVariables.A in body must be of type string: "integer"',
        field: 'spec.environmentVariables.A',
      },
    ])
  })

  it('status.reconciledRepos[].status and status.reconciledWorkflow.status are enums; unknown fields there are kept', async () => {
    await create('status-enums')
    const ok = await patchStatus('status-enums', {
      reconciledRepos: [{url: 'u', status: 'Cloning', currentActiveBranch: 'main'}],
      reconciledWorkflow: {gitUrl: 'w', status: 'Active', appliedAt: '2026-01-01T00:00:00Z', extra: 1},
    })
    expect(ok.status).toMatchObject({
      reconciledRepos: [{url: 'u', status: 'Cloning', currentActiveBranch: 'main'}],
      reconciledWorkflow: {gitUrl: 'w', status: 'Active', appliedAt: '2026-01-01T00:00:00Z', extra: 1},
    })
    const repo = await apiError(() => patchStatus('status-enums', {reconciledRepos: [{url: 'u', status: 'Active'}]}))
    expect(repo.code).toBe(422)
    expect(repo.status.message).toBe(
      'AgenticSession.vteam.ambient-code "status-enums" is invalid: status.reconciledRepos[0].status: Unsupported value: "Active": supported values: "Cloning", "Ready", "Failed"',
    )
    const workflow = await apiError(() => patchStatus('status-enums', {reconciledWorkflow: {status: 'Ready'}}))
    expect(workflow.status.details?.causes).toEqual([
      {
        reason: 'FieldValueNotSupported',
        message: 'Unsupported value: "Ready": supported values: "Cloning", "Active", "Failed"',
        field: 'status.reconciledWorkflow.status',
      },
    ])
  })

  it('several errors are listed together in one message, in brackets', async () => {
    const {status} = await apiError(() => create('two-errors', {timeout: 'x', inactivityTimeout: -5}))
    // The real server's order follows Go map iteration: only the shape is pinned.
    expect(status.message).toMatch(/^AgenticSession\.vteam\.ambient-code "two-errors" is invalid: \[.*\]$/)
    expect(status.message).toContain('spec.timeout: Invalid value: "string": spec.timeout in body must be of type integer: "string"')
    expect(status.message).toContain('spec.inactivityTimeout: Invalid value: -5: spec.inactivityTimeout in body should be greater than or equal to 0')
    expect(status.details?.causes?.map((c) => c.field).sort()).toEqual(['spec.inactivityTimeout', 'spec.timeout'])
  })
})

describe('CRD schemas the server refuses', () => {
  it('a default that does not validate under its own node', async () => {
    const {status, body} = await postCrd(widgetCrd('cogs', {type: 'object', properties: {size: {type: 'integer', default: 'big'}}}))
    expect(status).toBe(422)
    expect(body.message).toBe(
      'CustomResourceDefinition.apiextensions.k8s.io "cogs.example.io" is invalid: spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].default: Invalid value: "string": spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].default in body must be of type integer: "string"',
    )
  })

  it('a default outside its enum, and a default with fields its node does not declare', async () => {
    const {body} = await postCrd(
      widgetCrd('bolts', {
        type: 'object',
        properties: {
          phase: {type: 'string', enum: ['A', 'B'], default: 'C'},
          opts: {type: 'object', properties: {x: {type: 'string'}}, default: {x: 'a', y: 'b'}},
        },
      }),
    )
    const causes = (body.details as {causes: {field: string; message: string}[]}).causes
    expect(causes).toHaveLength(2)
    expect(causes).toEqual(
      expect.arrayContaining([
        {
          reason: 'FieldValueNotSupported',
          field: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[phase].default',
          message: 'Unsupported value: "C": supported values: "A", "B"',
        },
        {
          reason: 'FieldValueInvalid',
          field: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[opts].default',
          message: 'Invalid value: {"x":"a","y":"b"}: must not have unknown fields',
        },
      ]),
    )
  })

  it('a node without a type, and an array without items (not structural)', async () => {
    const {status, body} = await postCrd(widgetCrd('nuts', {type: 'object', properties: {size: {description: 'no type'}, list: {type: 'array'}}}))
    expect(status).toBe(422)
    const causes = (body.details as {causes: {field: string; message: string}[]}).causes
    expect(causes).toHaveLength(2)
    expect(causes).toEqual(
      expect.arrayContaining([
        {
          reason: 'FieldValueRequired',
          field: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].type',
          message: 'Required value: must not be empty for specified object fields',
        },
        {
          reason: 'FieldValueRequired',
          field: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[list].items',
          message: 'Required value: must be specified',
        },
      ]),
    )
  })

  it('deploy/crd.yaml passes every one of these checks (it is loaded through the same API)', async () => {
    const loaded = await fetch(`${crdUrl()}/agenticsessions.vteam.ambient-code`, {headers: headers()})
    expect(loaded.status).toBe(200)
  })
})
