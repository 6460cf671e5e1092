// The vocabulary of `ambient diff`: one entry per object the reconcilers would act on, with
// the owned fields that differ. Pure data, shared by the diff functions, the renderers and
// the NDJSON output.

export const DIFF_RESOURCES = ['sessions', 'projects', 'project_settings'] as const
export type DiffResource = (typeof DIFF_RESOURCES)[number]

/**
 * create/update/delete: what the reconciler would do to the Kubernetes object (or runner);
 * status: a status write to the API server it would make; invalid: it cannot act at all.
 */
export type DiffAction = 'create' | 'update' | 'delete' | 'status' | 'invalid'

export type DiffKind = 'AgenticSession' | 'Namespace' | 'RoleBinding' | 'Session' | 'Runner'

export interface DiffField {
  /** Display path, e.g. `spec.timeout`, `metadata.labels["team"]`, or an API field (`phase`). */
  path: string
  /** Path segments, so renderers can rebuild the nested document. */
  segments: readonly string[]
  /** undefined: the field should be absent (desired) or is absent (actual). */
  desired: unknown
  actual: unknown
}

export interface DiffEntry {
  action: DiffAction
  resource: DiffResource
  /** The Ambient object's id (for an orphan CR: the id its label names). */
  id?: string
  kind: DiffKind
  namespace?: string
  name?: string
  fields: DiffField[]
  /** A short machine-readable cause (InvalidSpec, NameConflict, RunnerLost, ...). */
  reason?: string
  /** A sentence for people. */
  message?: string
  /** An update done as delete + create (a RoleBinding's roleRef is immutable). */
  replace?: boolean
}

/** The NDJSON line of one entry: absent values are `null` so every field keeps both keys. */
export interface DiffLine {
  action: DiffAction
  resource: DiffResource
  id?: string
  kind: DiffKind
  namespace?: string
  name?: string
  reason?: string
  message?: string
  replace?: boolean
  fields: {path: string; desired: unknown; actual: unknown}[]
}

export function toDiffLine(entry: DiffEntry): DiffLine {
  // Keys in the documented order: action, resource, id, kind, namespace, name, ..., fields.
  return {
    action: entry.action,
    resource: entry.resource,
    ...(entry.id !== undefined ? {id: entry.id} : {}),
    kind: entry.kind,
    ...(entry.namespace !== undefined ? {namespace: entry.namespace} : {}),
    ...(entry.name !== undefined ? {name: entry.name} : {}),
    ...(entry.reason !== undefined ? {reason: entry.reason} : {}),
    ...(entry.message !== undefined ? {message: entry.message} : {}),
    ...(entry.replace ? {replace: true} : {}),
    fields: entry.fields.map((f) => ({path: f.path, desired: f.desired ?? null, actual: f.actual ?? null})),
  }
}

const RESOURCE_ORDER: Record<DiffResource, number> = {sessions: 0, projects: 1, project_settings: 2}
const ACTION_ORDER: Record<DiffAction, number> = {invalid: 0, delete: 1, create: 2, update: 3, status: 4}

/** A stable order for output: resource, namespace, name, id, action. */
export function compareEntries(a: DiffEntry, b: DiffEntry): number {
  return (
    RESOURCE_ORDER[a.resource] - RESOURCE_ORDER[b.resource] ||
    cmp(a.namespace, b.namespace) ||
    cmp(a.name, b.name) ||
    cmp(a.id, b.id) ||
    ACTION_ORDER[a.action] - ACTION_ORDER[b.action]
  )
}

function cmp(a: string | undefined, b: string | undefined): number {
  const x = a ?? ''
  const y = b ?? ''
  return x < y ? -1 : x > y ? 1 : 0
}
