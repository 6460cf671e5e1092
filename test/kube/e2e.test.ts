// Kube mode end to end: the embedded Ambient API server (REST + gRPC watch) -> informers ->
// controllers running the kube reconcilers -> the fake Kubernetes API server through the real
// client-node, all under the Manager. Counts what each side really received.
import {Registry} from 'prom-client'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {GrpcClient} from '../../src/lib/api/grpc.js'
import {RestClient} from '../../src/lib/api/rest.js'
import {createSources} from '../../src/lib/api/sources.js'
import type {ObjectMeta, Project, ProjectSettings, Session, SessionStatusPatch} from '../../src/lib/api/types.js'
import {Controller} from '../../src/lib/controller/controller.js'
import {informerCache, Manager} from '../../src/lib/controller/manager.js'
import {Informer} from '../../src/lib/informer/index.js'
import {permissionKey} from '../../src/lib/kube/requests.js'
import type {AgenticSession} from '../../src/lib/kube/types.js'
import {createKubeMode, type KubeMode} from '../../src/lib/reconcilers/kube/mode.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {until} from './helpers.js'
import {grantedPermissions} from './rbac.js'

const token = 'e2e-token'
const PROJECTS = 5
const SESSIONS = 200

let kube: FakeKube
let api: ApiServer
let rest: RestClient
let grpc: GrpcClient
let mode: KubeMode
let controllers: {sessions: Controller<Session>; projects: Controller<Project>; project_settings: Controller<ProjectSettings>}
let running: Promise<void>
const stop = new AbortController()
/** Status writes per session id, as the control plane sent them. */
const statusWrites = new Map<string, SessionStatusPatch[]>()
const projects: Project[] = []
const registry = new Registry()

beforeAll(async () => {
  kube = await startFakeKube({namespaces: ['default', 'ambient-code']})
  api = await startApiServer({port: 0, grpcPort: 0, token})
  rest = new RestClient({baseUrl: api.url, token: () => token})
  grpc = new GrpcClient({address: api.grpcAddress, tls: false, token: () => token})
  const sources = createSources({rest, grpc, watch: 'stream'})
  const informers = {
    sessions: new Informer<Session>({source: sources.sessions}),
    projects: new Informer<Project>({source: sources.projects}),
    project_settings: new Informer<ProjectSettings>({source: sources.project_settings}),
  }
  // The real REST client, counted: what the control plane wrote to the API server.
  const status = {
    patchStatus(id: string, patch: SessionStatusPatch, options?: {signal?: AbortSignal}) {
      statusWrites.set(id, [...(statusWrites.get(id) ?? []), patch])
      return rest.patchStatus(id, patch, options)
    },
  }
  mode = createKubeMode({
    namespace: 'ambient-code',
    kubeConfig: kube.kubeConfig(),
    rest: status,
    informers,
    registry,
    cacheBackoff: {initialMs: 20, maxMs: 500},
  })
  // Short resyncs, so unchanged objects are reconciled again during the test (and must cost nothing).
  const resync = {attentionMs: 1500, stableMs: 1500, tickMs: 250}
  controllers = {
    sessions: new Controller<Session>({name: 'sessions', informer: informers.sessions, reconciler: mode.reconcilers.sessions, workers: 4, resync}),
    projects: new Controller<Project>({name: 'projects', informer: informers.projects, reconciler: mode.reconcilers.projects, resync}),
    project_settings: new Controller<ProjectSettings>({
      name: 'project_settings',
      informer: informers.project_settings,
      reconciler: mode.reconcilers.project_settings,
      resync,
    }),
  }
  mode.connect({sessions: (id) => controllers.sessions.enqueue(id), project_settings: (id) => controllers.project_settings.enqueue(id)})
  const manager = new Manager({gracePeriodMs: 10_000})
  for (const informer of Object.values(informers)) manager.addCache(informerCache(informer as Informer<ObjectMeta>))
  for (const cache of mode.caches) manager.addCache(cache)
  for (const r of mode.runnables) manager.add(r)
  for (const [name, c] of Object.entries(controllers)) manager.addLeaderOnly({name: `controller/${name}`, start: (signal) => c.start(signal)})
  running = manager.start(stop.signal)
})

afterAll(async () => {
  stop.abort()
  await running?.catch(() => undefined)
  await mode?.stop()
  grpc?.close()
  await api?.close()
  await kube?.close()
})

function cr(namespace: string, name: string): AgenticSession | undefined {
  return kube.get('agenticsessions', namespace, name) as AgenticSession | undefined
}

function allCrs(): AgenticSession[] {
  return kube.list('agenticsessions') as unknown as AgenticSession[]
}

/** Kubernetes writes so far (anything but reads and watches). */
function kubeWrites(): number {
  return kube.requests.filter((r) => !['get', 'list', 'watch', 'nonresource'].includes(r.verb) && r.resource !== 'events').length
}

function totalStatusWrites(): number {
  return [...statusWrites.values()].reduce((n, w) => n + w.length, 0)
}

function idle(): boolean {
  return Object.values(controllers).every((c) => {
    const s = c.stats()
    return s.running && s.queueDepth === 0 && s.inFlight === 0
  })
}

/** Waits until every controller has made `passes` more passes and is idle: a full resync round. */
async function resyncRound(): Promise<void> {
  const before = controllers.sessions.stats().succeeded
  await until('a resync round', () => controllers.sessions.stats().succeeded >= before + SESSIONS && idle(), 30_000)
}

describe('kube mode end to end', () => {
  it(`turns ${SESSIONS} sessions across ${PROJECTS} projects into CRs in the right namespaces`, async () => {
    for (let p = 0; p < PROJECTS; p++) projects.push(await rest.create('projects', {name: `team-${p}`}))
    const created: Session[] = []
    for (let i = 0; i < SESSIONS; i++) {
      const project = projects[i % PROJECTS]
      created.push(
        await rest.create('sessions', {
          name: `session ${i}`,
          project_id: project.id,
          prompt: `prompt ${i}`,
          timeout: 600 + i,
          repos: i % 2 ? JSON.stringify([{url: `https://g/r${i}`, branch: 'dev'}]) : undefined,
          labels: JSON.stringify({batch: 'e2e', index: String(i)}),
          environment_variables: JSON.stringify({INDEX: String(i)}),
        }),
      )
    }
    await until(`${SESSIONS} CRs`, () => allCrs().length === SESSIONS, 60_000)
    for (const [i, s] of created.entries()) {
      const namespace = `team-${i % PROJECTS}`
      const object = cr(namespace, s.id.toLowerCase())
      expect(object, `CR of session ${i} in ${namespace}`).toBeDefined()
      expect(object?.spec).toMatchObject({
        displayName: `session ${i}`,
        initialPrompt: `prompt ${i}`,
        timeout: 600 + i,
        environmentVariables: {INDEX: String(i)},
      })
      if (i % 2) expect(object?.spec?.repos).toEqual([{url: `https://g/r${i}`, branch: 'dev', autoPush: false}])
      expect(object?.metadata.labels).toMatchObject({
        batch: 'e2e',
        index: String(i),
        'ambient-code.io/session-id': s.id,
        'ambient-code.io/project-id': projects[i % PROJECTS].id,
      })
    }
    for (let p = 0; p < PROJECTS; p++)
      expect(kube.get('namespaces', '', `team-${p}`)?.metadata.labels?.['ambient-code.io/project-id']).toBe(projects[p].id)
    // Every session learns its CR, with one status write each; nothing created twice.
    await until('kube_cr_uid on every session', async () => (await rest.listAll('sessions')).every((s) => s.kube_cr_uid))
    // The new-session path: one CR create and one status write per session, no patches (a create
    // may be retried while its project's namespace does not exist yet: 404, nothing written).
    expect(kube.count({verb: 'create', resource: 'agenticsessions', code: 201})).toBe(SESSIONS)
    expect(kube.count({verb: 'create', resource: 'agenticsessions'}) - kube.count({verb: 'create', resource: 'agenticsessions', code: 404})).toBe(
      SESSIONS,
    )
    expect(kube.count({verb: 'patch', resource: 'agenticsessions'})).toBe(0)
    expect(created.map((s) => statusWrites.get(s.id)?.length ?? 0).filter((n) => n !== 1)).toEqual([])
  })

  it('stays quiet while nothing changes: a full resync of everything costs no writes', async () => {
    await until('idle', idle)
    const writes = kubeWrites()
    const status = totalStatusWrites()
    await resyncRound()
    await resyncRound()
    expect(kubeWrites()).toBe(writes)
    expect(totalStatusWrites()).toBe(status)
  })

  it('updates the CR when a session is edited', async () => {
    const [session] = await rest.list('sessions', {size: 1}).then((l) => l.items)
    const name = session.id.toLowerCase()
    const ns = session.kube_namespace ?? ''
    const patchesBefore = kube.count({verb: 'patch', resource: 'agenticsessions', name})
    await rest.patch('sessions', session.id, {prompt: 'edited prompt', llm_model: 'claude-x'})
    await until('CR edited', () => cr(ns, name)?.spec?.initialPrompt === 'edited prompt' && cr(ns, name)?.spec?.llmSettings?.model === 'claude-x')
    await until('idle', idle)
    expect(kube.count({verb: 'patch', resource: 'agenticsessions', name}) - patchesBefore).toBe(1)
  })

  it('copies a CR status change to the API server once, then goes quiet', async () => {
    const [, session] = await rest.list('sessions', {size: 2}).then((l) => l.items)
    const name = session.id.toLowerCase()
    const ns = session.kube_namespace ?? ''
    const before = statusWrites.get(session.id)?.length ?? 0
    kube.update('agenticsessions', ns, name, (o) => {
      o.status = {
        phase: 'Running',
        startTime: '2026-06-01T08:00:00Z',
        sdkSessionId: 'sdk-e2e',
        conditions: [{type: 'Ready', status: 'True', reason: 'Up'}],
      }
    })
    await until('phase Running on the API server', async () => (await rest.get('sessions', session.id)).phase === 'Running')
    const after = await rest.get('sessions', session.id)
    expect(after).toMatchObject({sdk_session_id: 'sdk-e2e', start_time: '2026-06-01T08:00:00.000000Z'})
    expect(JSON.parse(after.conditions ?? '[]')).toEqual([{type: 'Ready', status: 'True', reason: 'Up'}])
    await resyncRound()
    expect((statusWrites.get(session.id)?.length ?? 0) - before).toBe(1)
  })

  it('deletes the CR of a deleted session', async () => {
    const [, , session] = await rest.list('sessions', {size: 3}).then((l) => l.items)
    const name = session.id.toLowerCase()
    const ns = session.kube_namespace ?? ''
    expect(cr(ns, name)).toBeDefined()
    await rest.delete('sessions', session.id)
    await until('CR deleted', () => !cr(ns, name))
    expect(allCrs()).toHaveLength(SESSIONS - 1)
  })

  it('rewrites RoleBindings when group access changes', async () => {
    const project = projects[0]
    const settings = await rest.create('project_settings', {
      project_id: project.id,
      group_access: '[{"group":"devs","role":"edit"},{"group":"qa","role":"view"}]',
    })
    const names = () =>
      kube
        .list('rolebindings.rbac.authorization.k8s.io', 'team-0')
        .map((o) => o.metadata.name)
        .sort()
    await until('bindings created', () => names().join() === 'ambient-devs-edit,ambient-qa-view')
    await rest.patch('project_settings', settings.id, {group_access: '[{"group":"devs","role":"admin"}]'})
    await until('bindings rewritten', () => names().join() === 'ambient-devs-admin')
    const rb = kube.get('rolebindings.rbac.authorization.k8s.io', 'team-0', 'ambient-devs-admin') as unknown as {roleRef: {name: string}}
    expect(rb.roleRef.name).toBe('admin')
  })

  it('never loses an update to injected 409 Conflicts', async () => {
    const sessions = (await rest.list('sessions', {size: 20, page: 2})).items
    kube.failNext({verb: 'patch', resource: 'agenticsessions', status: 409, times: 12})
    for (const s of sessions) await rest.patch('sessions', s.id, {prompt: `after conflict ${s.id}`})
    await until(
      'every edit landed',
      () => sessions.every((s) => cr(s.kube_namespace ?? '', s.id.toLowerCase())?.spec?.initialPrompt === `after conflict ${s.id}`),
      30_000,
    )
    expect(kube.count({verb: 'patch', resource: 'agenticsessions', code: 409})).toBe(12)
  })

  it('gives malformed sessions a condition and an Event while the others reconcile', async () => {
    const project = projects[1]
    const bad = [
      await rest.create('sessions', {name: 'bad repos', project_id: project.id, repos: '[{"url":'}),
      await rest.create('sessions', {name: 'bad labels', project_id: project.id, labels: '{"no spaces allowed": "x"}'}),
      await rest.create('sessions', {name: 'bad env', project_id: project.id, environment_variables: '[1,2]'}),
    ]
    const good = await rest.create('sessions', {name: 'good', project_id: project.id})
    await until('good CR', () => cr('team-1', good.id.toLowerCase()))
    for (const [s, field] of [
      [bad[0], 'repos'],
      [bad[1], 'labels'],
      [bad[2], 'environment_variables'],
    ] as const) {
      const current = await until(`condition on ${s.name}`, async () => {
        const got = await rest.get('sessions', s.id)
        return got.phase === 'Failed' && got
      })
      const conditions = JSON.parse(current.conditions ?? '[]') as {type: string; status: string; reason: string; message: string}[]
      expect(conditions).toEqual([
        expect.objectContaining({type: 'Reconciled', status: 'False', reason: 'InvalidSpec', message: expect.stringContaining(field)}),
      ])
      expect(cr('team-1', s.id.toLowerCase())).toBeUndefined()
    }
    await until('Events for the malformed sessions', () => {
      const events = kube.list('events.events.k8s.io', 'ambient-code')
      return bad.every((s) => events.some((e) => (e.regarding as {name?: string}).name === s.id && e.reason === 'InvalidSpec'))
    })
    await resyncRound()
    for (const s of bad) expect(statusWrites.get(s.id)).toHaveLength(1)
  })

  it('sent Kubernetes only requests deploy/rbac.yaml grants', () => {
    const sent = mode.client.counter.permissions().map((p) => permissionKey(p))
    expect(sent.length).toBeGreaterThan(8)
    const granted = grantedPermissions()
    expect(sent.filter((p) => !granted.has(p))).toEqual([])
  })

  it('exports request counts and calls per reconcile as metrics', async () => {
    const text = await registry.metrics()
    expect(text).toContain(
      `ambient_kube_requests_total{verb="create",resource="agenticsessions.vteam.ambient-code"} ${kube.count({verb: 'create', resource: 'agenticsessions'})}`,
    )
    const calls = ((await registry.getSingleMetric('ambient_kube_reconcile_calls')?.get())?.values ?? []) as {
      metricName?: string
      value: number
      labels: Record<string, string | number | undefined>
    }[]
    const count = calls.find(
      (v) => v.metricName === 'ambient_kube_reconcile_calls_count' && v.labels.resource === 'sessions' && v.labels.target === 'kube',
    )
    // Thousands of passes (resyncs included) for a few hundred writes: most reconciles cost nothing.
    const zero = calls.find(
      (v) =>
        v.metricName === 'ambient_kube_reconcile_calls_bucket' && v.labels.resource === 'sessions' && v.labels.target === 'kube' && v.labels.le === 0,
    )
    expect(count?.value ?? 0).toBeGreaterThan(3 * SESSIONS)
    expect(zero?.value ?? 0).toBeGreaterThan(2 * SESSIONS)
  })
})
