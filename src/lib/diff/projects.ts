// Projects vs Namespaces: a missing namespace is created (or an unmanaged one of that name
// adopted), a managed one missing a label gets it. A namespace whose project was deleted is
// kept by design (contract 3), so it is never drift.
import type {Project} from '../api/types.js'
import {LABEL_PROJECT_ID, type NamespaceObject} from '../kube/types.js'
import {desiredNamespace, namespaceForProject} from '../reconcilers/kube/desired.js'
import {field, leafFields} from './fields.js'
import type {DiffEntry} from './types.js'

export interface ProjectsDiffInput {
  projects: readonly Project[]
  /** Every Namespace carrying the managed label. */
  namespaces: readonly NamespaceObject[]
}

export function diffProjects(input: ProjectsDiffInput): DiffEntry[] {
  const entries: DiffEntry[] = []
  const byName = new Map(input.namespaces.map((ns) => [ns.metadata.name ?? '', ns]))
  for (const project of input.projects) {
    const desired = desiredNamespace(project)
    const base = {resource: 'projects' as const, id: project.id, kind: 'Namespace' as const}
    if (!desired.ok) {
      entries.push({...base, action: 'invalid', name: namespaceForProject(project), fields: [], reason: desired.reason, message: desired.message})
      continue
    }
    const existing = byName.get(desired.name)
    const holder = existing?.metadata.labels?.[LABEL_PROJECT_ID]
    if (existing && holder && holder !== project.id) {
      entries.push({
        ...base,
        action: 'invalid',
        name: desired.name,
        fields: [],
        reason: 'NamespaceConflict',
        message: `namespace ${desired.name} already belongs to project ${holder}`,
      })
      continue
    }
    const labels = desired.object.metadata.labels ?? {}
    if (!existing) {
      entries.push({
        ...base,
        action: 'create',
        name: desired.name,
        fields: leafFields({metadata: {labels}}, 'desired'),
        message: 'created, or adopted when an unmanaged namespace of that name exists',
      })
      continue
    }
    // Only the labels kube mode sets are compared: Kubernetes adds its own (kubernetes.io/metadata.name).
    const fields = Object.entries(labels)
      .filter(([k, v]) => existing.metadata.labels?.[k] !== v)
      .map(([k, v]) => field(['metadata', 'labels', k], v, existing.metadata.labels?.[k]))
    if (fields.length > 0) entries.push({...base, action: 'update', name: desired.name, fields})
  }
  return entries
}
