// Read both sides, then compare: the whole of `ambient diff` minus flags and printing, so the
// command, tests and the benchmark run the same path.
import type {RestClient} from '../api/rest.js'
import type {KubeClient} from '../kube/client.js'
import type {RunnerRegistry} from '../process/registry.js'
import type {StopRequests} from '../reconcilers/local/stop-requests.js'
import {readDesired, readKubeActual, readLocalRunners, readStopRequests} from './fetch.js'
import {diffKube, projectScope} from './kube.js'
import {diffLocal} from './local.js'
import type {DiffEntry, DiffResource} from './types.js'

export interface KubeDiffOptions {
  rest: Pick<RestClient, 'listAll' | 'baseUrl' | 'basePath'>
  kube: KubeClient
  resources: readonly DiffResource[]
  project?: string
  signal?: AbortSignal
}

export async function computeKubeDiff(options: KubeDiffOptions): Promise<DiffEntry[]> {
  const [desired, actual] = await Promise.all([
    readDesired({rest: options.rest, resources: options.resources, project: options.project, signal: options.signal}),
    readKubeActual({client: options.kube, resources: options.resources}),
  ])
  return diffKube({desired, actual, resources: options.resources, project: options.project})
}

export interface LocalDiffOptions {
  rest: Pick<RestClient, 'listAll' | 'baseUrl' | 'basePath'>
  registry: Pick<RunnerRegistry, 'list' | 'isAlive' | 'dir'>
  stopRequests?: Pick<StopRequests, 'read'>
  project?: string
  signal?: AbortSignal
}

/** Local mode compares sessions only; every session is read, so a runner's missing session is seen. */
export async function computeLocalDiff(options: LocalDiffOptions): Promise<DiffEntry[]> {
  const [desired, runners] = await Promise.all([
    readDesired({rest: options.rest, resources: ['sessions'], signal: options.signal}),
    readLocalRunners({registry: options.registry}),
  ])
  const live = new Set(runners.filter((r) => r.alive).map((r) => r.sessionId))
  const lost = desired.sessions.filter((s) => !s.kube_cr_uid && (s.phase === 'Creating' || s.phase === 'Running') && !live.has(s.id)).map((s) => s.id)
  const stopRequested = options.stopRequests ? await readStopRequests(options.stopRequests, lost) : undefined
  const projectIds = options.project === undefined ? undefined : projectScope(desired.projects, options.project)
  return diffLocal({sessions: desired.sessions, runners, stopRequested, projectIds})
}
