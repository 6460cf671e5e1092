// ProjectSettings.group_access vs RoleBindings: missing bindings are created, a binding whose
// roleRef or subjects changed is replaced (roleRef is immutable: delete + create), managed
// bindings these settings no longer want are deleted. Bindings of deleted settings are kept by
// design (contract 3), so they are never drift.
import type {Project, ProjectSettings} from '../api/types.js'
import {LABEL_PROJECT_SETTINGS_ID, objectKey, type RoleBindingObject} from '../kube/types.js'
import {jsonEqual} from '../reconcilers/kube/json-fields.js'
import {desiredRoleBindings, roleBindingAction} from '../reconcilers/kube/desired.js'
import {field, leafFields} from './fields.js'
import type {DiffEntry, DiffField} from './types.js'

export interface ProjectSettingsDiffInput {
  projectSettings: readonly ProjectSettings[]
  projects: readonly Project[]
  /** Every RoleBinding carrying the managed label. */
  roleBindings: readonly RoleBindingObject[]
}

export function diffProjectSettings(input: ProjectSettingsDiffInput): DiffEntry[] {
  const entries: DiffEntry[] = []
  const projects = new Map(input.projects.map((p) => [p.id, p]))
  const byKey = new Map(input.roleBindings.map((rb) => [objectKey(rb.metadata), rb]))
  const bySettings = new Map<string, RoleBindingObject[]>()
  for (const rb of input.roleBindings) {
    const id = rb.metadata.labels?.[LABEL_PROJECT_SETTINGS_ID]
    if (id) bySettings.set(id, [...(bySettings.get(id) ?? []), rb])
  }

  for (const settings of input.projectSettings) {
    const base = {resource: 'project_settings' as const, id: settings.id, kind: 'RoleBinding' as const}
    const project = projects.get(settings.project_id)
    if (!project) {
      // The reconciler waits (and retries) until the project appears.
      entries.push({...base, action: 'invalid', fields: [], reason: 'ProjectMissing', message: `project ${settings.project_id} does not exist`})
      continue
    }
    const desired = desiredRoleBindings(settings, project)
    if (!desired.ok) {
      entries.push({...base, action: 'invalid', namespace: project.name.toLowerCase(), fields: [], reason: desired.reason, message: desired.message})
      continue
    }
    const wanted = new Set<string>()
    for (const binding of desired.bindings) {
      const key = objectKey(binding.metadata)
      wanted.add(key)
      const where = {namespace: desired.namespace, name: binding.metadata.name}
      const actual = byKey.get(key)
      if (!actual) {
        entries.push({...base, ...where, action: 'create', fields: leafFields(bindingDoc(binding), 'desired')})
        continue
      }
      const action = roleBindingAction(binding, actual)
      if (action === 'recreate') {
        entries.push({
          ...base,
          ...where,
          action: 'update',
          replace: true,
          fields: replacedFields(binding, actual),
          reason: 'Replace',
          message: 'roleRef is immutable, so the binding is deleted and created again',
        })
      } else if (action === 'patch-labels') {
        const labels = binding.metadata.labels ?? {}
        const fields = Object.entries(labels)
          .filter(([k, v]) => actual.metadata.labels?.[k] !== v)
          .map(([k, v]) => field(['metadata', 'labels', k], v, actual.metadata.labels?.[k]))
        entries.push({...base, ...where, action: 'update', fields})
      }
    }
    for (const actual of bySettings.get(settings.id) ?? []) {
      if (wanted.has(objectKey(actual.metadata))) continue
      entries.push({
        ...base,
        action: 'delete',
        namespace: actual.metadata.namespace,
        name: actual.metadata.name,
        fields: leafFields(bindingDoc(actual), 'actual'),
        reason: 'NotInGroupAccess',
        message: 'group_access of these settings no longer asks for this binding',
      })
    }
  }
  return entries
}

function bindingDoc(rb: RoleBindingObject): Record<string, unknown> {
  return {metadata: {labels: rb.metadata.labels}, roleRef: rb.roleRef, subjects: rb.subjects}
}

function replacedFields(desired: RoleBindingObject, actual: RoleBindingObject): DiffField[] {
  const fields: DiffField[] = []
  const d = desired.roleRef
  const a: Partial<RoleBindingObject['roleRef']> = actual.roleRef ?? {}
  for (const k of ['apiGroup', 'kind', 'name'] as const) if (d[k] !== a[k]) fields.push(field(['roleRef', k], d[k], a[k]))
  const norm = (rb: RoleBindingObject) =>
    (rb.subjects ?? []).map((s) => ({kind: s.kind, name: s.name, apiGroup: s.apiGroup ?? '', namespace: s.namespace ?? ''}))
  if (!jsonEqual(norm(desired), norm(actual))) fields.push(field(['subjects'], desired.subjects, actual.subjects))
  return fields
}
