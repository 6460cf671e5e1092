// Kube mode as a whole: the three diffs over one snapshot of desired and actual state, scoped
// to one project when asked, in a stable order.
import type {Project, ProjectSettings, Session} from '../api/types.js'
import type {AgenticSession, NamespaceObject, RoleBindingObject} from '../kube/types.js'
import {diffProjectSettings} from './project-settings.js'
import {diffProjects} from './projects.js'
import {diffSessions} from './sessions.js'
import {compareEntries, type DiffEntry, type DiffResource} from './types.js'

/** What the API server declares. `projects` is always every project (namespaces come from it). */
export interface KubeDesiredState {
  sessions: readonly Session[]
  projects: readonly Project[]
  projectSettings: readonly ProjectSettings[]
}

/** What Kubernetes holds: the objects carrying the managed label, one list per kind. */
export interface KubeActualState {
  agenticSessions: readonly AgenticSession[]
  namespaces: readonly NamespaceObject[]
  roleBindings: readonly RoleBindingObject[]
}

export interface KubeDiffInput {
  desired: KubeDesiredState
  actual: KubeActualState
  resources: readonly DiffResource[]
  /** `--project`: a project id or name; only that project's objects are compared. */
  project?: string
}

export function diffKube(input: KubeDiffInput): DiffEntry[] {
  const {desired, actual} = input
  const scope = input.project === undefined ? undefined : projectScope(desired.projects, input.project)
  const inScope = (projectId: string | undefined) => !scope || scope.has(projectId ?? '')
  const entries: DiffEntry[] = []
  if (input.resources.includes('sessions')) {
    entries.push(
      ...diffSessions({
        sessions: desired.sessions.filter((s) => inScope(s.project_id)),
        projects: desired.projects,
        agenticSessions: actual.agenticSessions,
        projectIds: scope,
      }),
    )
  }
  if (input.resources.includes('projects')) {
    entries.push(...diffProjects({projects: desired.projects.filter((p) => inScope(p.id)), namespaces: actual.namespaces}))
  }
  if (input.resources.includes('project_settings')) {
    entries.push(
      ...diffProjectSettings({
        projectSettings: desired.projectSettings.filter((s) => inScope(s.project_id)),
        projects: desired.projects,
        roleBindings: actual.roleBindings,
      }),
    )
  }
  return entries.sort(compareEntries)
}

/** The project ids `--project` stands for: the value itself, and the id of a project of that name. */
export function projectScope(projects: readonly Project[], project: string): Set<string> {
  const ids = new Set([project])
  for (const p of projects) if (p.name === project) ids.add(p.id)
  return ids
}
