// The reads behind `ambient diff`, and nothing else: every page of the API server's lists, one
// label-selected LIST per Kubernetes kind, the local runner registry. Never a write, never a
// GET per object.
import type {RestClient} from '../api/rest.js'
import type {Project, ProjectSettings, Session} from '../api/types.js'
import type {KubeClient} from '../kube/client.js'
import {MANAGED_SELECTOR, type AgenticSession, type NamespaceObject, type RoleBindingObject} from '../kube/types.js'
import type {RunnerRegistry} from '../process/registry.js'
import type {StopRequests} from '../reconcilers/local/stop-requests.js'
import {apiServerError, DiffSourceError, kubernetesError} from './errors.js'
import {projectScope, type KubeActualState, type KubeDesiredState} from './kube.js'
import type {LocalRunnerState} from './local.js'
import type {DiffResource} from './types.js'
import {errorMessage} from '../errors.js'

/** Items per list request: fewer round trips than the default 100 (a server with a lower cap pages by its own). */
export const DIFF_PAGE_SIZE = 500

export interface ReadDesiredOptions {
  rest: Pick<RestClient, 'listAll' | 'baseUrl' | 'basePath'>
  resources: readonly DiffResource[]
  /** Only this project's sessions and settings (id or name); every project is read regardless. */
  project?: string
  signal?: AbortSignal
  pageSize?: number
}

export async function readDesired(options: ReadDesiredOptions): Promise<KubeDesiredState> {
  const {rest, resources, signal} = options
  const pageSize = options.pageSize ?? DIFF_PAGE_SIZE
  const list = {pageSize, signal}
  try {
    const settings = resources.includes('project_settings') ? rest.listAll<ProjectSettings>('project_settings', list) : Promise.resolve([])
    let sessions: Promise<Session[]>
    let projects: Promise<Project[]>
    if (!resources.includes('sessions')) {
      projects = rest.listAll<Project>('projects', list)
      sessions = Promise.resolve([])
    } else if (options.project === undefined) {
      projects = rest.listAll<Project>('projects', list)
      sessions = rest.listAll<Session>('sessions', list)
    } else {
      // The server filters sessions by project_id; --project may name the project instead.
      const project = options.project
      projects = rest.listAll<Project>('projects', list)
      sessions = projects.then(async (all) => {
        const pages = await Promise.all([...projectScope(all, project)].map((id) => rest.listAll<Session>('sessions', {...list, project_id: id})))
        return dedupe(pages.flat())
      })
    }
    const [s, p, ps] = await Promise.all([sessions, projects, settings])
    return {sessions: s, projects: p, projectSettings: ps}
  } catch (err) {
    throw apiServerError(err, `${rest.baseUrl}${rest.basePath}`)
  }
}

export interface ReadKubeOptions {
  client: KubeClient
  resources: readonly DiffResource[]
}

/** One LIST per kind needed, selected by the managed label; kinds not needed stay empty. */
export async function readKubeActual(options: ReadKubeOptions): Promise<KubeActualState> {
  const {client, resources} = options
  const labelSelector = MANAGED_SELECTOR
  const none = Promise.resolve({items: []})
  try {
    const [agenticSessions, namespaces, roleBindings] = await Promise.all([
      resources.includes('sessions') ? client.agenticSessions.list({labelSelector}) : none,
      resources.includes('projects') ? client.namespaces.list({labelSelector}) : none,
      resources.includes('project_settings') ? client.roleBindings.list({labelSelector}) : none,
    ])
    return {
      agenticSessions: agenticSessions.items as AgenticSession[],
      namespaces: namespaces.items as NamespaceObject[],
      roleBindings: roleBindings.items as RoleBindingObject[],
    }
  } catch (err) {
    throw kubernetesError(err, client.config.getCurrentCluster()?.server ?? '(no server in kubeconfig)')
  }
}

export interface ReadLocalOptions {
  registry: Pick<RunnerRegistry, 'list' | 'isAlive' | 'dir'>
}

/** Every runner record with whether its process still runs. */
export async function readLocalRunners(options: ReadLocalOptions): Promise<LocalRunnerState[]> {
  const {registry} = options
  try {
    const records = await registry.list()
    return await Promise.all(records.map(async (r) => ({sessionId: r.sessionId, pid: r.pid, port: r.port, alive: await registry.isAlive(r)})))
  } catch (err) {
    throw new DiffSourceError('runner-registry', `cannot read the local runner registry ${registry.dir}: ${errorMessage(err)}`, {cause: err})
  }
}

/** Which of these sessions have a pending stop request (read only for the ones that matter). */
export async function readStopRequests(stopRequests: Pick<StopRequests, 'read'>, sessionIds: readonly string[]): Promise<Set<string>> {
  const found = await Promise.all(sessionIds.map(async (id) => ((await stopRequests.read(id).catch(() => undefined)) ? id : undefined)))
  return new Set(found.filter((id): id is string => id !== undefined))
}

function dedupe<T extends {id: string}>(items: T[]): T[] {
  const seen = new Set<string>()
  return items.filter((i) => {
    if (seen.has(i.id)) return false
    seen.add(i.id)
    return true
  })
}
