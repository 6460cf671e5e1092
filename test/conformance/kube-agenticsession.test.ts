// Contract section 3, as a Kubernetes API server serving deploy/crd.yaml behaves: the real
// @kubernetes/client-node against the fake API server (which refuses a CRD a cluster would
// refuse, and prunes, defaults and validates custom resources the way kube-apiserver does).
import {ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AgenticSession} from '../../src/lib/kube/types.js'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {agenticSessions} from './kube-world.js'

const NS = 'team-a'
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
let kube: FakeKube
let custom: CustomObjectsApi

beforeAll(async () => {
  kube = await startFakeKube({namespaces: ['default', NS]})
  custom = kube.kubeConfig().makeApiClient(CustomObjectsApi)
})

afterAll(async () => {
  await kube?.close()
})

let seq = 0
async function create(spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<AgenticSession> {
  const body = {apiVersion: 'vteam.ambient-code/v1alpha1', kind: 'AgenticSession', metadata: {name: `s${++seq}`, namespace: NS}, spec, ...extra}
  return (await custom.createNamespacedCustomObject({...agenticSessions, namespace: NS, body})) as AgenticSession
}

async function patch(name: string, body: unknown): Promise<AgenticSession> {
  return (await custom.patchNamespacedCustomObject({...agenticSessions, namespace: NS, name, body}, mergePatch)) as AgenticSession
}

async function patchStatus(name: string, status: Record<string, unknown>): Promise<AgenticSession> {
  return (await custom.patchNamespacedCustomObjectStatus({...agenticSessions, namespace: NS, name, body: {status}}, mergePatch)) as AgenticSession
}

/** The status code and Status `reason` of a refused call. */
async function refused(fn: () => Promise<unknown>): Promise<{code: number; reason: string; message: string; fields: string[]}> {
  try {
    await fn()
  } catch (err) {
    if (!(err instanceof ApiException)) throw err
    const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as {
      reason: string
      message: string
      details?: {causes?: {field: string}[]}
    }
    return {code: err.code, reason: body.reason, message: body.message, fields: (body.details?.causes ?? []).map((c) => c.field)}
  }
  throw new Error('expected the API server to refuse the call')
}

function nameOf(o: AgenticSession): string {
  return o.metadata.name ?? ''
}

describe('3 the AgenticSession resource', () => {
  it('3 AgenticSession is served as vteam.ambient-code/v1alpha1 agenticsessions, kind AgenticSession, namespaced', async () => {
    const list = await custom.getAPIResources({group: 'vteam.ambient-code', version: 'v1alpha1'})
    expect(list.groupVersion).toBe('vteam.ambient-code/v1alpha1')
    expect(list.resources.find((r) => r.name === 'agenticsessions')).toMatchObject({
      kind: 'AgenticSession',
      namespaced: true,
      singularName: 'agenticsession',
    })
  })

  it('3 AgenticSession has the short name as', async () => {
    const list = await custom.getAPIResources({group: 'vteam.ambient-code', version: 'v1alpha1'})
    expect(list.resources.find((r) => r.name === 'agenticsessions')?.shortNames).toEqual(['as'])
  })

  it('3 AgenticSession has the status subresource: writes to the main resource leave status alone', async () => {
    const s = await create({displayName: 'x'}, {status: {phase: 'Running'}})
    expect(s.status).toBeUndefined()
    await patchStatus(nameOf(s), {phase: 'Creating'})
    const patched = await patch(nameOf(s), {spec: {displayName: 'y'}, status: {phase: 'Failed'}})
    expect(patched.status).toMatchObject({phase: 'Creating'})
    expect(patched.spec).toMatchObject({displayName: 'y'})
  })

  it('3 AgenticSession status is written only through /status, which changes nothing else', async () => {
    const s = await create({displayName: 'x'})
    const written = (await custom.patchNamespacedCustomObjectStatus(
      {...agenticSessions, namespace: NS, name: nameOf(s), body: {spec: {displayName: 'hijack'}, status: {phase: 'Running'}}},
      mergePatch,
    )) as AgenticSession
    expect(written.status).toMatchObject({phase: 'Running'})
    expect(written.spec).toEqual(s.spec)
  })

  it('3 AgenticSession spec edits bump metadata.generation; status and metadata writes do not', async () => {
    const s = await create({displayName: 'x'})
    expect(s.metadata.generation).toBe(1)
    expect((await patchStatus(nameOf(s), {phase: 'Running'})).metadata.generation).toBe(1)
    expect((await patch(nameOf(s), {metadata: {labels: {a: 'b'}}})).metadata.generation).toBe(1)
    expect((await patch(nameOf(s), {spec: {initialPrompt: 'again'}})).metadata.generation).toBe(2)
  })

  it('3 AgenticSession structural schema silently drops spec fields it does not declare (the first generation project, botAccount, resourceOverrides)', async () => {
    const s = await create({displayName: 'x', project: 'p', botAccount: {name: 'bot'}, resourceOverrides: {cpu: '2'}, somethingElse: 1})
    expect(s.spec).toEqual({displayName: 'x', timeout: 300})
    expect((await custom.getNamespacedCustomObject({...agenticSessions, namespace: NS, name: nameOf(s)})) as AgenticSession).toMatchObject({
      spec: {displayName: 'x', timeout: 300},
    })
  })
})

describe('3 AgenticSession spec', () => {
  it.each([
    ['displayName', 'the session name'],
    ['initialPrompt', 'the prompt'],
    ['timeout', 45],
    ['repos', [{url: 'https://g/a', branch: 'dev', autoPush: true}]],
    ['llmSettings', {model: 'sonnet', temperature: 0.2, maxTokens: 10}],
    ['userContext', {userId: 'u1', displayName: 'User One', groups: ['devs', 'qa']}],
    ['environmentVariables', {A: '1', B: 'two'}],
    ['inactivityTimeout', 0],
    ['activeWorkflow', {gitUrl: 'https://g/w', branch: 'wf', path: 'flows/x'}],
  ])('3 AgenticSession spec.%s is declared (kept as written)', async (field, value) => {
    const s = await create({[field]: value})
    expect(s.spec?.[field as keyof typeof s.spec]).toEqual(value)
  })

  it('3 AgenticSession spec.timeout defaults to 300', async () => {
    expect((await create({})).spec).toEqual({timeout: 300})
  })

  it('3 AgenticSession spec.repos[].branch defaults to "main"', async () => {
    expect((await create({repos: [{url: 'https://g/a'}]})).spec?.repos).toEqual([{url: 'https://g/a', branch: 'main', autoPush: false}])
  })

  it('3 AgenticSession spec.repos[].autoPush defaults to false', async () => {
    expect((await create({repos: [{url: 'https://g/a', branch: 'b'}]})).spec?.repos).toEqual([{url: 'https://g/a', branch: 'b', autoPush: false}])
  })

  it('3 AgenticSession spec.llmSettings.model defaults to "claude-3-7-sonnet-latest"', async () => {
    expect((await create({llmSettings: {temperature: 0.1, maxTokens: 1}})).spec?.llmSettings).toEqual({
      model: 'claude-3-7-sonnet-latest',
      temperature: 0.1,
      maxTokens: 1,
    })
  })

  it('3 AgenticSession spec.llmSettings.temperature defaults to 0.7', async () => {
    expect((await create({llmSettings: {model: 'm', maxTokens: 1}})).spec?.llmSettings).toEqual({model: 'm', temperature: 0.7, maxTokens: 1})
  })

  it('3 AgenticSession spec.llmSettings.maxTokens defaults to 4000', async () => {
    expect((await create({llmSettings: {model: 'm', temperature: 0.1}})).spec?.llmSettings).toEqual({model: 'm', temperature: 0.1, maxTokens: 4000})
  })

  it('3 AgenticSession spec.activeWorkflow.branch defaults to "main"', async () => {
    expect((await create({activeWorkflow: {gitUrl: 'https://g/w'}})).spec?.activeWorkflow).toEqual({gitUrl: 'https://g/w', branch: 'main'})
  })

  it('3 AgenticSession spec.environmentVariables is a map of string to string', async () => {
    const bad = await refused(() => create({environmentVariables: {A: 1}}))
    expect(bad).toMatchObject({code: 422, reason: 'Invalid', fields: ['spec.environmentVariables.A']})
  })

  it('3 AgenticSession spec.inactivityTimeout is an integer, minimum 0', async () => {
    const negative = await refused(() => create({inactivityTimeout: -1}))
    expect(negative).toMatchObject({code: 422, reason: 'Invalid', fields: ['spec.inactivityTimeout']})
    expect(negative.message).toContain('spec.inactivityTimeout in body should be greater than or equal to 0')
    const fraction = await refused(() => create({inactivityTimeout: 1.5}))
    expect(fraction).toMatchObject({code: 422, fields: ['spec.inactivityTimeout']})
  })

  it('3 AgenticSession spec.timeout is an integer', async () => {
    expect(await refused(() => create({timeout: 'long'}))).toMatchObject({code: 422, fields: ['spec.timeout']})
  })
})

describe('3 AgenticSession status', () => {
  it('3 AgenticSession status.phase is one of the seven phases', async () => {
    const s = await create({})
    for (const phase of ['Pending', 'Creating', 'Running', 'Stopping', 'Stopped', 'Completed', 'Failed']) {
      expect((await patchStatus(nameOf(s), {phase})).status?.phase).toBe(phase)
    }
    const bad = await refused(() => patchStatus(nameOf(s), {phase: 'Paused'}))
    expect(bad).toMatchObject({code: 422, reason: 'Invalid', fields: ['status.phase']})
    expect(bad.message).toContain(
      'Unsupported value: "Paused": supported values: "Pending", "Creating", "Running", "Stopping", "Stopped", "Completed", "Failed"',
    )
  })

  it('3 AgenticSession status.phase defaults to Pending', async () => {
    const s = await create({})
    expect((await patchStatus(nameOf(s), {sdkSessionId: 'sdk'})).status).toEqual({phase: 'Pending', sdkSessionId: 'sdk'})
  })

  it('3 AgenticSession status.reconciledRepos[].status is Cloning | Ready | Failed', async () => {
    const s = await create({})
    for (const status of ['Cloning', 'Ready', 'Failed']) {
      expect((await patchStatus(nameOf(s), {reconciledRepos: [{url: 'u', status}]})).status?.reconciledRepos).toEqual([{url: 'u', status}])
    }
    expect(await refused(() => patchStatus(nameOf(s), {reconciledRepos: [{url: 'u', status: 'Active'}]}))).toMatchObject({
      code: 422,
      fields: ['status.reconciledRepos[0].status'],
    })
  })

  it('3 AgenticSession status.reconciledWorkflow.status is Cloning | Active | Failed', async () => {
    const s = await create({})
    for (const status of ['Cloning', 'Active', 'Failed']) {
      expect((await patchStatus(nameOf(s), {reconciledWorkflow: {gitUrl: 'g', status}})).status?.reconciledWorkflow).toEqual({gitUrl: 'g', status})
    }
    expect(await refused(() => patchStatus(nameOf(s), {reconciledWorkflow: {status: 'Ready'}}))).toMatchObject({
      code: 422,
      fields: ['status.reconciledWorkflow.status'],
    })
  })

  it('3 AgenticSession status.stoppedReason is user | inactivity', async () => {
    const s = await create({})
    for (const stoppedReason of ['user', 'inactivity'])
      expect((await patchStatus(nameOf(s), {stoppedReason})).status?.stoppedReason).toBe(stoppedReason)
    expect(await refused(() => patchStatus(nameOf(s), {stoppedReason: 'timeout'}))).toMatchObject({code: 422, fields: ['status.stoppedReason']})
  })

  it('3 AgenticSession status holds observedGeneration, startTime, completionTime, lastActivityTime, sdkSessionId, sdkRestartCount', async () => {
    const s = await create({})
    const status = {
      observedGeneration: 1,
      phase: 'Completed',
      startTime: '2026-01-02T03:04:05Z',
      completionTime: '2026-01-02T04:04:05Z',
      lastActivityTime: '2026-01-02T04:00:00Z',
      sdkSessionId: 'sdk-1',
      sdkRestartCount: 2,
    }
    expect((await patchStatus(nameOf(s), status)).status).toEqual(status)
  })

  it('3 AgenticSession status.conditions[] hold type, status, reason, message, lastTransitionTime, observedGeneration', async () => {
    const s = await create({})
    const condition = {
      type: 'Ready',
      status: 'True',
      reason: 'PodRunning',
      message: 'up',
      lastTransitionTime: '2026-01-02T03:04:05Z',
      observedGeneration: 1,
    }
    expect((await patchStatus(nameOf(s), {conditions: [{...condition, extra: 'pruned'}]})).status?.conditions).toEqual([condition])
  })
})
