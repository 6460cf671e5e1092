// The world the kube conformance tests run in: the fake Kubernetes API loaded with
// deploy/crd.yaml (reached through the real @kubernetes/client-node), the embedded Ambient API
// server creating sessions the way the real one does (kube_cr_name = id, LLM defaults), and
// kube mode's own reconcilers and caches, driven one reconcile at a time so every test can
// say exactly what was written.
import {CustomObjectsApi} from '@kubernetes/client-node'
import {RestClient} from '../../src/lib/api/rest.js'
import type {Project, ProjectSettings, Session} from '../../src/lib/api/types.js'
import {createKubeCaches, type KubeCaches} from '../../src/lib/kube/caches.js'
import {KubeClient} from '../../src/lib/kube/client.js'
import type {AgenticSession} from '../../src/lib/kube/types.js'
import {ProjectSettingsReconciler} from '../../src/lib/reconcilers/kube/project-settings.js'
import {ProjectReconciler} from '../../src/lib/reconcilers/kube/projects.js'
import {SessionReconciler} from '../../src/lib/reconcilers/kube/sessions.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {startFakeKube, type FakeKube, type RequestRecord} from '../fake-kube/index.js'
import {until} from '../helpers/wait.js'

export const TOKEN = 'kube-conformance-token'
export const CONTROL_PLANE_NAMESPACE = 'ambient-code'
export const agenticSessions = {group: 'vteam.ambient-code', version: 'v1alpha1', plural: 'agenticsessions'} as const

export interface WorldOptions {
  /** The real server fills llm_model "sonnet", 0.7, 4000 on create; false: a server that does not. */
  llmDefaults?: boolean
}

export interface World {
  kube: FakeKube
  api: ApiServer
  rest: RestClient
  client: KubeClient
  /** CustomObjectsApi of the real client-node, for reading and writing CRs as any client would. */
  custom: CustomObjectsApi
  caches: KubeCaches
  /** Reconciles one session as the controller would, from the session the server holds now. */
  reconcileSession(id: string): Promise<void>
  /** Reconciles a session as given (e.g. with a kube_cr_name another server generation set). */
  reconcileSessionAs(session: Session): Promise<void>
  reconcileProject(project: Project | undefined, id?: string): Promise<void>
  reconcileSettings(settings: ProjectSettings | undefined, id?: string): Promise<void>
  /** Reconciles everything until one whole pass writes nothing (at most `rounds` passes). */
  converge(rounds?: number): Promise<void>
  /** Kubernetes writes (anything but get/list/watch) the fake saw since the last mark. */
  kubeWritesSince(mark: number): RequestRecord[]
  cr(namespace: string, name: string): AgenticSession | undefined
  close(): Promise<void>
}

const READS = new Set(['get', 'list', 'watch', 'nonresource'])

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const kube = await startFakeKube({namespaces: ['default', CONTROL_PLANE_NAMESPACE]})
  const api = await startApiServer({port: 0, grpcPort: 0, token: TOKEN, llmDefaults: options.llmDefaults ?? true})
  const rest = new RestClient({baseUrl: api.url, token: () => TOKEN})
  const client = new KubeClient({kubeConfig: kube.kubeConfig()})
  const custom = kube.kubeConfig().makeApiClient(CustomObjectsApi)
  const caches = createKubeCaches({client, backoff: {initialMs: 20, maxMs: 200}})
  const stop = new AbortController()
  for (const c of Object.values(caches)) void c.start(stop.signal)
  for (const c of Object.values(caches)) await c.waitForSync(stop.signal)

  const projectsById = new Map<string, Project>()
  const projectLookup = {get: (id: string) => projectsById.get(id), list: () => [...projectsById.values()]}
  const sessions = new SessionReconciler({
    kube: client,
    cache: caches.agenticSessions,
    status: rest,
    projects: projectLookup,
    controlPlaneNamespace: CONTROL_PLANE_NAMESPACE,
  })
  const projects = new ProjectReconciler({kube: client, cache: caches.namespaces, controlPlaneNamespace: CONTROL_PLANE_NAMESPACE})
  const settings = new ProjectSettingsReconciler({
    kube: client,
    cache: caches.roleBindings,
    projects: projectLookup,
    controlPlaneNamespace: CONTROL_PLANE_NAMESPACE,
  })

  const world: World = {
    kube,
    api,
    rest,
    client,
    custom,
    caches,
    async reconcileSession(id) {
      const object = await rest.get('sessions', id).catch(() => undefined)
      await sessions.reconcile({key: id, id, object}, stop.signal)
    },
    async reconcileSessionAs(session) {
      await sessions.reconcile({key: session.id, id: session.id, object: session}, stop.signal)
    },
    async reconcileProject(project, id = project?.id ?? '') {
      if (project) projectsById.set(project.id, project)
      else projectsById.delete(id)
      await projects.reconcile({key: id, id, object: project}, stop.signal)
      if (project) await until('the namespace in the cache', () => caches.namespaces.get('', project.name.toLowerCase()))
    },
    async reconcileSettings(object, id = object?.id ?? '') {
      await settings.reconcile({key: id, id, object}, stop.signal)
    },
    async converge(rounds = 5) {
      for (let round = 0; round < rounds; round++) {
        const kubeMark = kube.requests.length
        const before = await rest.listAll('sessions')
        for (const p of await rest.listAll('projects')) await world.reconcileProject(p)
        for (const s of await rest.listAll('project_settings')) await world.reconcileSettings(s)
        for (const s of before) await world.reconcileSession(s.id)
        const after = await rest.listAll('sessions')
        if (world.kubeWritesSince(kubeMark).length === 0 && sameVersions(before, after)) return
      }
      throw new Error(`not converged after ${rounds} reconcile passes`)
    },
    kubeWritesSince: (mark) => kube.requests.slice(mark).filter((r) => !READS.has(r.verb)),
    cr: (namespace, name) => kube.get('agenticsessions', namespace, name) as AgenticSession | undefined,
    async close() {
      stop.abort()
      client.close()
      await api.close()
      await kube.close()
    },
  }
  return world
}

/** Same sessions with the same updated_at: the API server saw no write. */
export function sameVersions(a: readonly Session[], b: readonly Session[]): boolean {
  const key = (list: readonly Session[]) =>
    list
      .map((s) => `${s.id}@${s.updated_at}`)
      .sort()
      .join()
  return key(a) === key(b)
}
