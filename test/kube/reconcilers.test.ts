// The kube reconcilers driven one reconcile at a time against real parts: the embedded Ambient
// API server (REST), the fake Kubernetes API server through client-node, the real caches.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Project, ProjectSettings} from '../../src/lib/api/types.js'
import {RestClient} from '../../src/lib/api/rest.js'
import {createKubeCaches, type KubeCaches} from '../../src/lib/kube/caches.js'
import {KubeClient} from '../../src/lib/kube/client.js'
import {EventRecorder} from '../../src/lib/kube/events.js'
import {permissionKey, withCallScope} from '../../src/lib/kube/requests.js'
import type {AgenticSession, RoleBindingObject} from '../../src/lib/kube/types.js'
import {ProjectSettingsReconciler} from '../../src/lib/reconcilers/kube/project-settings.js'
import {ProjectReconciler} from '../../src/lib/reconcilers/kube/projects.js'
import {SessionReconciler} from '../../src/lib/reconcilers/kube/sessions.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {until} from './helpers.js'
import {grantedPermissions} from './rbac.js'

const token = 'test-token'
let kube: FakeKube
let api: ApiServer
let rest: RestClient
let client: KubeClient
let caches: KubeCaches
let recorder: EventRecorder
let sessions: SessionReconciler
let projects: ProjectReconciler
let settingsReconciler: ProjectSettingsReconciler
const projectById = new Map<string, Project>()
const stop = new AbortController()
const signal = stop.signal

beforeAll(async () => {
  kube = await startFakeKube({namespaces: ['default', 'ambient-code']})
  api = await startApiServer({port: 0, grpcPort: 0, token})
  rest = new RestClient({baseUrl: api.url, token: () => token})
  client = new KubeClient({kubeConfig: kube.kubeConfig()})
  caches = createKubeCaches({client, backoff: {initialMs: 20, maxMs: 200}})
  for (const c of Object.values(caches)) void c.start(signal)
  for (const c of Object.values(caches)) await c.waitForSync(signal)
  recorder = new EventRecorder({events: client.events, instance: 'test'})
  const projectLookup = {get: (id: string) => projectById.get(id), list: () => [...projectById.values()]}
  sessions = new SessionReconciler({
    kube: client,
    cache: caches.agenticSessions,
    status: rest,
    projects: projectLookup,
    recorder,
    controlPlaneNamespace: 'ambient-code',
  })
  projects = new ProjectReconciler({kube: client, cache: caches.namespaces, recorder, controlPlaneNamespace: 'ambient-code'})
  settingsReconciler = new ProjectSettingsReconciler({
    kube: client,
    cache: caches.roleBindings,
    projects: projectLookup,
    recorder,
    controlPlaneNamespace: 'ambient-code',
  })
})

afterAll(async () => {
  stop.abort()
  await recorder?.drain()
  client?.close()
  await api?.close()
  await kube?.close()
})

async function reconcileSession(id: string) {
  const object = await rest.get('sessions', id).catch(() => undefined)
  const {scope} = await withCallScope(async () => sessions.reconcile({key: id, id, object}, signal))
  return scope
}

async function reconcileProject(project: Project) {
  const {scope} = await withCallScope(async () => projects.reconcile({key: project.id, id: project.id, object: project}, signal))
  return scope
}

async function reconcileSettings(settings: ProjectSettings) {
  const {scope} = await withCallScope(async () => settingsReconciler.reconcile({key: settings.id, id: settings.id, object: settings}, signal))
  return scope
}

/** Calls other than Event writes (those are asynchronous and may land after the scope). */
function nonEvents(scope: {kubeCalls: string[]}): string[] {
  return scope.kubeCalls.filter((c) => !c.includes(' events.'))
}

function crOf(namespace: string, name: string): AgenticSession | undefined {
  return kube.get('agenticsessions', namespace, name) as AgenticSession | undefined
}

async function newProject(name: string): Promise<Project> {
  const project = await rest.create('projects', {name})
  projectById.set(project.id, project)
  await reconcileProject(project)
  await until('namespace in cache', () => caches.namespaces.get('', name.toLowerCase()))
  return project
}

describe('ProjectReconciler', () => {
  it('creates the namespace with the managed labels, then does nothing on a resync', async () => {
    const project = await rest.create('projects', {name: 'payments'})
    const first = await reconcileProject(project)
    expect(first.kubeCalls).toEqual(['create namespaces'])
    expect(kube.get('namespaces', '', 'payments')?.metadata.labels).toMatchObject({
      'ambient-code.io/managed': 'true',
      'ambient-code.io/project-id': project.id,
      'ambient-code.io/managed-by': 'ambient-control-plane',
    })
    expect((await reconcileProject(project)).kube).toBe(0)
    await until('cache', () => caches.namespaces.get('', 'payments'))
    expect((await reconcileProject(project)).kube).toBe(0)
    // A deleted project keeps its namespace.
    await projects.reconcile({key: project.id, id: project.id, object: undefined}, signal)
    expect(kube.get('namespaces', '', 'payments')).toBeDefined()
  })

  it('adopts an existing namespace and restores labels someone removed', async () => {
    kube.put('namespaces', '', 'legacy', {metadata: {name: 'legacy', labels: {team: 'x'}}})
    const project = await rest.create('projects', {name: 'legacy'})
    const scope = await reconcileProject(project)
    expect(scope.kubeCalls).toEqual(['create namespaces', 'get namespaces', 'patch namespaces'])
    expect(kube.get('namespaces', '', 'legacy')?.metadata.labels).toMatchObject({team: 'x', 'ambient-code.io/project-id': project.id})
    await until('cache', () => caches.namespaces.get('', 'legacy'))
    kube.update('namespaces', '', 'legacy', (ns) => {
      delete ns.metadata.labels?.['ambient-code.io/managed-by']
    })
    await until('cache saw the edit', () => !caches.namespaces.get('', 'legacy')?.metadata.labels?.['ambient-code.io/managed-by'])
    expect((await reconcileProject(project)).kubeCalls).toEqual(['patch namespaces'])
  })

  it('reports an invalid project name once, without throwing', async () => {
    // The real server refuses such a name; data from an older server generation can still carry one.
    const project = {...(await rest.create('projects', {name: 'not-a-namespace'})), name: 'Not A Namespace'}
    expect(nonEvents(await reconcileProject(project))).toEqual([])
    await recorder.drain()
    const events = kube.list('events.events.k8s.io', 'ambient-code').filter((e) => (e.regarding as {name?: string}).name === project.id)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({reason: 'InvalidName', type: 'Warning'})
    await reconcileProject(project)
    await recorder.drain()
    expect(kube.list('events.events.k8s.io', 'ambient-code').filter((e) => (e.regarding as {name?: string}).name === project.id)).toHaveLength(1)
  })
})

describe('SessionReconciler', () => {
  it('creates the CR in the project namespace with 2 calls, and the echo costs none', async () => {
    const project = await newProject('research')
    const session = await rest.create('sessions', {name: 'first', project_id: project.id, prompt: 'hello', repos: '[{"url":"https://g/r"}]'})
    const scope = await reconcileSession(session.id)
    expect(scope.kubeCalls).toEqual(['create agenticsessions.vteam.ambient-code'])
    expect(scope.api).toBe(1)
    const name = session.id.toLowerCase()
    const cr = crOf('research', name)
    expect(cr?.spec).toMatchObject({
      displayName: 'first',
      initialPrompt: 'hello',
      repos: [{url: 'https://g/r', branch: `ambient/${name}`, autoPush: false}],
      timeout: 300,
    })
    expect(cr?.metadata.labels).toMatchObject({'ambient-code.io/session-id': session.id, 'ambient-code.io/project-id': project.id})
    const after = await rest.get('sessions', session.id)
    expect(after).toMatchObject({kube_cr_uid: cr?.metadata.uid, kube_namespace: 'research'})
    // The UPDATED event of our own status write, before and after the CR reaches the cache.
    const echo = await reconcileSession(session.id)
    expect(echo.kube + echo.api).toBe(0)
    await until('CR in cache', () => caches.agenticSessions.get('research', name)?.metadata.resourceVersion === cr?.metadata.resourceVersion)
    const resync = await reconcileSession(session.id)
    expect(resync.kube + resync.api).toBe(0)
  })

  it('updates the CR on a session edit, copies CR status back once, then goes quiet', async () => {
    const project = await newProject('edits')
    const session = await rest.create('sessions', {name: 'edit-me', project_id: project.id, labels: '{"team":"a"}'})
    await reconcileSession(session.id)
    const name = session.id.toLowerCase()
    await rest.patch('sessions', session.id, {prompt: 'new prompt', labels: '{"tier":"gold"}', timeout: 60})
    const edit = await reconcileSession(session.id)
    expect(edit.kubeCalls).toEqual(['patch agenticsessions.vteam.ambient-code'])
    expect(edit.api).toBe(0)
    const cr = crOf('edits', name)
    expect(cr?.spec).toMatchObject({initialPrompt: 'new prompt', timeout: 60})
    expect(cr?.metadata.labels?.tier).toBe('gold')
    expect(cr?.metadata.labels?.team).toBeUndefined()

    kube.update('agenticsessions', 'edits', name, (o) => {
      o.status = {
        phase: 'Running',
        startTime: '2026-05-01T10:00:00Z',
        sdkSessionId: 'sdk-1',
        conditions: [{type: 'Ready', status: 'True', reason: 'PodRunning', lastTransitionTime: '2026-05-01T10:00:00Z'}],
      }
    })
    await until('status in cache', () => caches.agenticSessions.get('edits', name)?.status?.phase === 'Running')
    const copy = await reconcileSession(session.id)
    expect(copy).toMatchObject({kube: 0, api: 1})
    expect(await rest.get('sessions', session.id)).toMatchObject({
      phase: 'Running',
      sdk_session_id: 'sdk-1',
      start_time: '2026-05-01T10:00:00.000000Z',
    })
    const quiet = await reconcileSession(session.id)
    expect(quiet.kube + quiet.api).toBe(0)
  })

  it('never loses an update to injected 409s', async () => {
    const project = await newProject('conflicts')
    const session = await rest.create('sessions', {name: 'c', project_id: project.id})
    await reconcileSession(session.id)
    const name = session.id.toLowerCase()
    await until('CR in cache', () => caches.agenticSessions.get('conflicts', name))
    await rest.patch('sessions', session.id, {prompt: 'after conflicts'})
    kube.failNext({verb: 'patch', resource: 'agenticsessions', status: 409, times: 3})
    const scope = await reconcileSession(session.id)
    expect(crOf('conflicts', name)?.spec?.initialPrompt).toBe('after conflicts')
    expect(scope.kubeCalls.filter((c) => c.startsWith('patch'))).toHaveLength(4)
    expect(scope.kubeCalls.filter((c) => c.startsWith('get'))).toHaveLength(3)
  })

  it('treats AlreadyExists as an update and refuses a CR of another session', async () => {
    const project = await newProject('races')
    const session = await rest.create('sessions', {name: 'raced', project_id: project.id, prompt: 'mine'})
    const name = session.id.toLowerCase()
    // Another writer created it first (not yet in our cache).
    kube.put('agenticsessions', 'races', name, {
      metadata: {name, namespace: 'races', labels: {'ambient-code.io/session-id': session.id}},
      spec: {displayName: 'old'},
    })
    const scope = await reconcileSession(session.id)
    expect(scope.kubeCalls.slice(0, 3)).toEqual([
      'create agenticsessions.vteam.ambient-code',
      'get agenticsessions.vteam.ambient-code',
      'patch agenticsessions.vteam.ambient-code',
    ])
    expect(crOf('races', name)?.spec).toMatchObject({displayName: 'raced', initialPrompt: 'mine'})
    expect(crOf('races', name)?.metadata.labels?.['ambient-code.io/managed']).toBe('true')

    // A CR of that name that belongs to a different session is never taken over.
    const other = await rest.create('sessions', {name: 'squatter', project_id: project.id})
    const taken = other.id.toLowerCase()
    kube.put('agenticsessions', 'races', taken, {
      metadata: {name: taken, namespace: 'races', labels: {'ambient-code.io/session-id': 'someone-else'}},
      spec: {displayName: 'theirs'},
    })
    const refused = await reconcileSession(other.id)
    expect(nonEvents(refused)).toEqual(['create agenticsessions.vteam.ambient-code', 'get agenticsessions.vteam.ambient-code'])
    expect(crOf('races', taken)?.spec?.displayName).toBe('theirs')
    const conds = JSON.parse((await rest.get('sessions', other.id)).conditions ?? '[]') as {reason?: string}[]
    expect(conds.map((c) => c.reason)).toEqual(['NameConflict'])
  })

  it('gives a malformed session a condition and an Event, marks it Failed, and stays quiet', async () => {
    const project = await newProject('broken')
    const session = await rest.create('sessions', {name: 'bad', project_id: project.id, repos: '[{"url": '})
    const scope = await reconcileSession(session.id)
    expect(nonEvents(scope)).toEqual([])
    expect(scope.api).toBe(1)
    const after = await rest.get('sessions', session.id)
    expect(after.phase).toBe('Failed')
    const conditions = JSON.parse(after.conditions ?? '[]') as {type: string; status: string; reason: string; message: string}[]
    expect(conditions).toEqual([
      expect.objectContaining({type: 'Reconciled', status: 'False', reason: 'InvalidSpec', message: expect.stringContaining('repos')}),
    ])
    await recorder.drain()
    const events = kube.list('events.events.k8s.io', 'ambient-code').filter((e) => (e.regarding as {name?: string}).name === session.id)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({type: 'Warning', reason: 'InvalidSpec', regarding: {kind: 'Session'}})
    const echo = await reconcileSession(session.id)
    expect(echo.kube + echo.api).toBe(0)

    // Fixed and started again: the CR is created and our verdict is gone.
    await rest.patch('sessions', session.id, {repos: '[]'})
    await rest.start(session.id)
    await reconcileSession(session.id)
    const fixed = await rest.get('sessions', session.id)
    expect(crOf('broken', session.id.toLowerCase())).toBeDefined()
    expect(JSON.parse(fixed.conditions ?? '[]')).toEqual([])
  })

  it('forwards a stop to the CR status, and copies the final phase back', async () => {
    const project = await newProject('stops')
    const session = await rest.create('sessions', {name: 's', project_id: project.id})
    await reconcileSession(session.id)
    const name = session.id.toLowerCase()
    kube.update('agenticsessions', 'stops', name, (o) => {
      o.status = {phase: 'Running'}
    })
    await until('Running in cache', () => caches.agenticSessions.get('stops', name)?.status?.phase === 'Running')
    await reconcileSession(session.id)
    await rest.stop(session.id)
    const scope = await reconcileSession(session.id)
    expect(scope.kubeCalls).toContain('patch agenticsessions.vteam.ambient-code/status')
    expect(crOf('stops', name)?.status).toMatchObject({phase: 'Stopping', stoppedReason: 'user'})
    expect((await rest.get('sessions', session.id)).phase).toBe('Stopping')
    kube.update('agenticsessions', 'stops', name, (o) => {
      o.status = {...(o.status as object), phase: 'Stopped', completionTime: '2026-05-01T11:00:00Z'}
    })
    await until('Stopped in cache', () => caches.agenticSessions.get('stops', name)?.status?.phase === 'Stopped')
    await reconcileSession(session.id)
    expect(await rest.get('sessions', session.id)).toMatchObject({phase: 'Stopped', completion_time: '2026-05-01T11:00:00.000000Z'})

    // Started again after it stopped: the CR status goes back to Pending.
    await rest.start(session.id)
    await reconcileSession(session.id)
    expect(crOf('stops', name)?.status?.phase).toBe('Pending')
    expect((await rest.get('sessions', session.id)).phase).toBe('Pending')
  })

  it('keeps a session on its CR when the project is renamed (never moves a running session)', async () => {
    const project = await newProject('before')
    const session = await rest.create('sessions', {name: 'mover', project_id: project.id})
    await reconcileSession(session.id)
    const name = session.id.toLowerCase()
    await until('cached', () => caches.agenticSessions.get('before', name))
    projectById.set(project.id, await rest.patch('projects', project.id, {name: 'after'}))
    await rest.patch('sessions', session.id, {prompt: 'still here'})
    const scope = await reconcileSession(session.id)
    expect(nonEvents(scope)).toEqual(['patch agenticsessions.vteam.ambient-code'])
    expect(crOf('before', name)?.spec?.initialPrompt).toBe('still here')
    expect(crOf('after', name)).toBeUndefined()
  })

  it('deletes the CR of a deleted session (found by label), and only that one', async () => {
    const project = await newProject('deletes')
    const a = await rest.create('sessions', {name: 'a', project_id: project.id})
    const b = await rest.create('sessions', {name: 'b', project_id: project.id})
    await reconcileSession(a.id)
    await reconcileSession(b.id)
    await until(
      'both cached',
      () => caches.agenticSessions.byIndex('session-id', a.id).length && caches.agenticSessions.byIndex('session-id', b.id).length,
    )
    await rest.delete('sessions', a.id)
    const scope = await reconcileSession(a.id)
    expect(scope.kubeCalls).toEqual(['delete agenticsessions.vteam.ambient-code'])
    expect(crOf('deletes', a.id.toLowerCase())).toBeUndefined()
    expect(crOf('deletes', b.id.toLowerCase())).toBeDefined()
    expect((await reconcileSession(a.id)).kube).toBe(0)
  })
})

describe('ProjectSettingsReconciler', () => {
  it('creates, rewrites on a role change, and deletes RoleBindings', async () => {
    const project = await newProject('access')
    const settings = await rest.create('project_settings', {
      project_id: project.id,
      group_access: '[{"group":"devs","role":"edit"},{"group":"ops","role":"admin"}]',
    })
    const first = await reconcileSettings(settings)
    expect(first.kubeCalls).toEqual(['create rolebindings.rbac.authorization.k8s.io', 'create rolebindings.rbac.authorization.k8s.io'])
    const rb = kube.get('rolebindings.rbac.authorization.k8s.io', 'access', 'ambient-devs-edit') as unknown as RoleBindingObject
    expect(rb.roleRef).toEqual({apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit'})
    expect(rb.subjects).toEqual([{kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs'}])
    await until('cached', () => caches.roleBindings.list('access').length === 2)
    expect((await reconcileSettings(settings)).kube).toBe(0)

    const changed = await rest.patch('project_settings', settings.id, {group_access: '[{"group":"devs","role":"view"}]'})
    const second = await reconcileSettings(changed)
    expect(second.kubeCalls.sort()).toEqual([
      'create rolebindings.rbac.authorization.k8s.io',
      'delete rolebindings.rbac.authorization.k8s.io',
      'delete rolebindings.rbac.authorization.k8s.io',
    ])
    const names = kube.list('rolebindings.rbac.authorization.k8s.io', 'access').map((o) => o.metadata.name)
    expect(names).toEqual(['ambient-devs-view'])

    // Someone swaps the subject by hand: roleRef stays, but the binding is replaced.
    await until('cached', () => caches.roleBindings.get('access', 'ambient-devs-view'))
    kube.update('rolebindings.rbac.authorization.k8s.io', 'access', 'ambient-devs-view', (o) => {
      ;(o as unknown as RoleBindingObject).subjects = [{kind: 'User', name: 'mallory', apiGroup: 'rbac.authorization.k8s.io'}]
    })
    await until('cache saw it', () => caches.roleBindings.get('access', 'ambient-devs-view')?.subjects?.[0].name === 'mallory')
    expect((await reconcileSettings(changed)).kubeCalls).toEqual([
      'delete rolebindings.rbac.authorization.k8s.io',
      'create rolebindings.rbac.authorization.k8s.io',
    ])
    expect(
      (kube.get('rolebindings.rbac.authorization.k8s.io', 'access', 'ambient-devs-view') as unknown as RoleBindingObject).subjects?.[0].name,
    ).toBe('devs')

    // Deleted settings keep their bindings.
    await settingsReconciler.reconcile({key: settings.id, id: settings.id, object: undefined}, signal)
    expect(kube.list('rolebindings.rbac.authorization.k8s.io', 'access')).toHaveLength(1)
  })

  it('waits for an unknown project, and reports malformed group_access', async () => {
    const orphan = {id: 'nope', kind: 'ProjectSettings', href: '', created_at: '', updated_at: '', project_id: 'missing'} as ProjectSettings
    expect(await settingsReconciler.reconcile({key: 'nope', id: 'nope', object: orphan}, signal)).toEqual({requeueAfterMs: 5000})
    const project = await newProject('malformed')
    const settings = await rest.create('project_settings', {project_id: project.id, group_access: '{"group":"x"}'})
    expect(nonEvents(await reconcileSettings(settings))).toEqual([])
    await recorder.drain()
    expect(kube.list('events.events.k8s.io', 'ambient-code').some((e) => (e.regarding as {name?: string}).name === settings.id)).toBe(true)
  })
})

describe('RBAC coverage', () => {
  it('sent only requests deploy/rbac.yaml grants', async () => {
    await recorder.drain()
    const sent = client.counter.permissions().map((p) => permissionKey(p))
    expect(sent.length).toBeGreaterThan(5)
    const granted = grantedPermissions()
    expect(sent.filter((p) => !granted.has(p))).toEqual([])
  })
})
