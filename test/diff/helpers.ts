// Test fixtures for `ambient diff`: the Kubernetes objects a converged control plane would have
// written (built with the same desired-state functions, written through the real client), with
// CR status already copied back to the API server; and small process/port helpers.
import net from 'node:net'
import type {AddressInfo} from 'node:net'
import type {RestClient} from '../../src/lib/api/rest.js'
import type {Project, Session} from '../../src/lib/api/types.js'
import type {KubeClient} from '../../src/lib/kube/client.js'
import type {AgenticSession, AgenticSessionStatus} from '../../src/lib/kube/types.js'
import {
  desiredAgenticSession,
  desiredNamespace,
  desiredRoleBindings,
  namespaceForProject,
  statusPatchDiff,
  statusToApi,
} from '../../src/lib/reconcilers/kube/desired.js'
import type {DiffLine} from '../../src/lib/diff/types.js'

export interface ConvergeOptions {
  rest: RestClient
  kube: KubeClient
  /** The status the CR's operator reports for a session (none: the CR keeps its defaults). */
  status?: (session: Session) => AgenticSessionStatus | undefined
}

/**
 * Writes what kube mode would have written for everything on the API server, then copies each
 * CR's status back, the way a converged `ambient run --mode kube` leaves things.
 */
export async function writeConverged(options: ConvergeOptions): Promise<Map<string, AgenticSession>> {
  const {rest, kube} = options
  const [sessions, projects, settings] = await Promise.all([rest.listAll('sessions'), rest.listAll('projects'), rest.listAll('project_settings')])
  const byId = new Map(projects.map((p) => [p.id, p]))
  for (const project of projects) {
    const ns = desiredNamespace(project)
    if (!ns.ok) throw new Error(`fixture project ${project.id}: ${ns.message}`)
    await kube.namespaces.create(ns.object)
  }
  for (const s of settings) {
    const project = byId.get(s.project_id)
    if (!project) throw new Error(`fixture settings ${s.id}: no project`)
    const desired = desiredRoleBindings(s, project)
    if (!desired.ok) throw new Error(`fixture settings ${s.id}: ${desired.message}`)
    for (const binding of desired.bindings) await kube.roleBindings.create(binding)
  }
  const crs = new Map<string, AgenticSession>()
  for (const session of sessions) {
    const desired = desiredAgenticSession(session, {projectNamespace: (id) => projectNamespace(byId, id)})
    if (!desired.ok) throw new Error(`fixture session ${session.id}: ${desired.message}`)
    let cr = await kube.agenticSessions.create(desired.object)
    const status = options.status?.(session)
    if (status) cr = await kube.agenticSessions.patchStatus(desired.namespace, desired.name, {status})
    const patch = statusPatchDiff(session, statusToApi(cr.status, cr))
    if (Object.keys(patch).length > 0) await rest.patchStatus(session.id, patch)
    crs.set(session.id, cr)
  }
  return crs
}

function projectNamespace(projects: Map<string, Project>, id: string): string | undefined {
  const p = projects.get(id)
  return p ? namespaceForProject(p) : undefined
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** NDJSON stdout of `ambient diff --json`, parsed line by line. */
export function ndjson(stdout: string): DiffLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as DiffLine)
}

/** `action Kind namespace/name` per line, sorted: compared as a whole so each change counts once. */
export function summaryKeys(lines: readonly DiffLine[]): string[] {
  return lines.map((l) => `${l.action} ${l.kind} ${l.namespace ? `${l.namespace}/` : ''}${l.name ?? l.id ?? ''}`).sort()
}

export {until} from '../helpers/wait.js'
