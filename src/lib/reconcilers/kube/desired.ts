// What Kubernetes should hold for each Ambient object, as pure functions: the reconcilers
// write exactly this and `ambient diff` shows the difference to it, so the two can never
// disagree. Mapping rules are the contract's (section 3); nothing here performs I/O.
import type {Project, ProjectSettings, Session} from '../../api/types.js'
import {
  AGENTIC_SESSION_API_VERSION,
  AGENTIC_SESSION_KIND,
  ANNOTATION_SESSION_METADATA_KEYS,
  LABEL_MANAGED,
  LABEL_MANAGED_BY,
  LABEL_PROJECT_ID,
  LABEL_PROJECT_SETTINGS_ID,
  LABEL_SESSION_ID,
  MANAGED_BY,
  type AgenticSession,
  type AgenticSessionRepo,
  type AgenticSessionSpec,
  type NamespaceObject,
  type RoleBindingObject,
} from '../../kube/types.js'
import {ANNOTATIONS_MAX_BYTES, checkDns1123Label, checkLabelValue, checkQualifiedName, sanitizeDns1123Label} from '../../kube/validation.js'
import {createHash} from 'node:crypto'
import {isRecord} from '../../util/is-record.js'
import {describe, jsonEqual, parseJsonField, parseObject, parseStringMap, type FieldProblem} from './json-fields.js'

export type FailureReason = 'InvalidName' | 'InvalidSpec'

/** Why an object cannot be written: reason for conditions/Events, message naming every bad field. */
export interface DesiredFailure {
  ok: false
  reason: FailureReason
  message: string
  fields: string[]
}

export type DesiredSession = {ok: true; namespace: string; name: string; object: AgenticSession} | DesiredFailure
export type DesiredNamespace = {ok: true; name: string; object: NamespaceObject} | DesiredFailure
export type DesiredRoleBindings = {ok: true; namespace: string; bindings: RoleBindingObject[]} | DesiredFailure

export interface DesiredSessionOptions {
  /**
   * The namespace of a project the caller knows (from the projects cache): lower-cased
   * project NAME, which is where the project's Namespace is. When it returns undefined the
   * contract's rule applies: the lower-cased project_id (equal when ids are names, as in
   * the first generation).
   */
  projectNamespace?: (projectId: string) => string | undefined
}

/** The labels every object kube mode owns carries. */
export function managedLabels(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const out: Record<string, string> = {[LABEL_MANAGED]: 'true', [LABEL_MANAGED_BY]: MANAGED_BY}
  for (const [k, v] of Object.entries(extra)) if (v) out[k] = v
  return out
}

/** The namespace a project's objects live in: its lower-cased name (contract 3). */
export function namespaceForProject(project: Pick<Project, 'name'>): string {
  return project.name.toLowerCase()
}

/** Where a session's CR lives, before validation. */
export function sessionLocation(session: Session, options: DesiredSessionOptions = {}): {namespace: string; name: string} {
  const name = (nonEmpty(session.kube_cr_name) ?? session.id).toLowerCase()
  const projectId = nonEmpty(session.project_id)
  const namespace = projectId ? (options.projectNamespace?.(projectId) ?? projectId.toLowerCase()) : (nonEmpty(session.kube_namespace) ?? 'default')
  return {namespace, name}
}

export function desiredAgenticSession(session: Session, options: DesiredSessionOptions = {}): DesiredSession {
  const nameProblems: FieldProblem[] = []
  const specProblems: FieldProblem[] = []
  const {namespace, name} = sessionLocation(session, options)

  const nameProblem = checkDns1123Label(name)
  if (nameProblem) {
    const field = nonEmpty(session.kube_cr_name) ? 'kube_cr_name' : 'id'
    nameProblems.push({field, message: `CR name ${JSON.stringify(name)} (from ${field}) ${nameProblem}`})
  }
  const nsProblem = checkDns1123Label(namespace)
  if (nsProblem) {
    const field = nonEmpty(session.project_id) ? 'project_id' : 'kube_namespace'
    nameProblems.push({field, message: `namespace ${JSON.stringify(namespace)} (from ${field}) ${nsProblem}`})
  }
  const idProblem = checkLabelValue(session.id)
  if (idProblem) nameProblems.push({field: 'id', message: `id ${JSON.stringify(session.id)} cannot be a label value: ${idProblem}`})
  const projectId = nonEmpty(session.project_id)
  if (projectId) {
    const p = checkLabelValue(projectId)
    if (p) nameProblems.push({field: 'project_id', message: `project_id ${JSON.stringify(projectId)} cannot be a label value: ${p}`})
  }

  const spec: AgenticSessionSpec = {}
  if (nonEmpty(session.name)) spec.displayName = session.name
  if (nonEmpty(session.prompt)) spec.initialPrompt = session.prompt
  if (session.timeout !== undefined && session.timeout !== null) {
    if (Number.isInteger(session.timeout)) spec.timeout = session.timeout
    else specProblems.push({field: 'timeout', message: `timeout: expected an integer, got ${describe(session.timeout)}`})
  }

  const repos = readRepos(session, name)
  if (!repos.ok) specProblems.push(repos.problem)
  else if (repos.value.length > 0) spec.repos = repos.value

  const llm: NonNullable<AgenticSessionSpec['llmSettings']> = {}
  if (nonEmpty(session.llm_model)) llm.model = session.llm_model
  if (session.llm_temperature !== undefined && session.llm_temperature !== null) {
    if (Number.isFinite(session.llm_temperature)) llm.temperature = session.llm_temperature
    else specProblems.push({field: 'llm_temperature', message: `llm_temperature: expected a number, got ${describe(session.llm_temperature)}`})
  }
  if (session.llm_max_tokens !== undefined && session.llm_max_tokens !== null) {
    if (Number.isInteger(session.llm_max_tokens)) llm.maxTokens = session.llm_max_tokens
    else specProblems.push({field: 'llm_max_tokens', message: `llm_max_tokens: expected an integer, got ${describe(session.llm_max_tokens)}`})
  }
  if (Object.keys(llm).length > 0) spec.llmSettings = llm
  if (nonEmpty(session.created_by_user_id)) spec.userContext = {userId: session.created_by_user_id}

  const env = parseStringMap('environment_variables', session.environment_variables)
  if (!env.ok) specProblems.push(env.problem)
  else if (env.value) {
    const empty = Object.keys(env.value).find((k) => k === '')
    if (empty !== undefined) specProblems.push({field: 'environment_variables', message: 'environment_variables: a variable name must not be empty'})
    else if (Object.keys(env.value).length > 0) spec.environmentVariables = env.value
  }

  // Not written (the CRD has no field for it), but bad data is reported rather than ignored.
  const overrides = parseObject('resource_overrides', session.resource_overrides)
  if (!overrides.ok) specProblems.push(overrides.problem)

  const labels = readLabels(session.labels)
  if (!labels.ok) specProblems.push(labels.problem)
  const annotations = readAnnotations(session.annotations)
  if (!annotations.ok) specProblems.push(annotations.problem)

  const problems = [...nameProblems, ...specProblems]
  if (problems.length > 0 || !labels.ok || !annotations.ok) {
    return failure(nameProblems.length > 0 ? 'InvalidName' : 'InvalidSpec', problems)
  }

  const managed = managedLabels({[LABEL_SESSION_ID]: session.id, [LABEL_PROJECT_ID]: projectId})
  const sessionLabelKeys = Object.keys(labels.value).filter((k) => !(k in managed))
  const sessionAnnotationKeys = Object.keys(annotations.value).filter((k) => k !== ANNOTATION_SESSION_METADATA_KEYS)
  const metaAnnotations: Record<string, string> = {}
  for (const k of sessionAnnotationKeys) metaAnnotations[k] = annotations.value[k] ?? ''
  if (sessionLabelKeys.length > 0 || sessionAnnotationKeys.length > 0) {
    metaAnnotations[ANNOTATION_SESSION_METADATA_KEYS] = JSON.stringify({labels: sessionLabelKeys.sort(), annotations: sessionAnnotationKeys.sort()})
  }
  const object: AgenticSession = {
    apiVersion: AGENTIC_SESSION_API_VERSION,
    kind: AGENTIC_SESSION_KIND,
    metadata: {name, namespace, labels: {...labels.value, ...managed}},
    spec,
  }
  if (Object.keys(metaAnnotations).length > 0) object.metadata.annotations = metaAnnotations
  return {ok: true, namespace, name, object}
}

function readRepos(session: Session, crName: string): {ok: true; value: AgenticSessionRepo[]} | {ok: false; problem: FieldProblem} {
  const parsed = parseJsonField('repos', session.repos)
  if (!parsed.ok) return parsed
  const raw = parsed.value ?? []
  if (!Array.isArray(raw))
    return {ok: false, problem: {field: 'repos', message: `repos: expected a JSON array of {url, branch?, autoPush?}, got ${describe(raw)}`}}
  const repos: AgenticSessionRepo[] = []
  for (const [i, item] of raw.entries()) {
    if (!isRecord(item) || typeof item.url !== 'string' || item.url.trim() === '') {
      return {ok: false, problem: {field: 'repos', message: `repos[${i}]: expected an object with a non-empty string url`}}
    }
    if (item.branch !== undefined && item.branch !== null && typeof item.branch !== 'string') {
      return {ok: false, problem: {field: 'repos', message: `repos[${i}].branch: expected a string, got ${describe(item.branch)}`}}
    }
    if (item.autoPush !== undefined && item.autoPush !== null && typeof item.autoPush !== 'boolean') {
      return {ok: false, problem: {field: 'repos', message: `repos[${i}].autoPush: expected a boolean, got ${describe(item.autoPush)}`}}
    }
    repos.push(
      repoEntry(
        item.url,
        typeof item.branch === 'string' ? item.branch : undefined,
        typeof item.autoPush === 'boolean' ? item.autoPush : undefined,
        crName,
      ),
    )
  }
  if (repos.length === 0 && nonEmpty(session.repo_url)) repos.push(repoEntry(session.repo_url as string, undefined, undefined, crName))
  return {ok: true, value: repos}
}

function repoEntry(url: string, branch: string | undefined, autoPush: boolean | undefined, crName: string): AgenticSessionRepo {
  const repo: AgenticSessionRepo = {url, branch: nonEmpty(branch) ?? `ambient/${crName}`}
  if (autoPush !== undefined) repo.autoPush = autoPush
  return repo
}

type MapResult = {ok: true; value: Record<string, string>} | {ok: false; problem: FieldProblem}

function readLabels(raw: string | undefined): MapResult {
  const parsed = parseStringMap('labels', raw)
  if (!parsed.ok) return parsed
  const value = parsed.value ?? {}
  for (const [k, v] of Object.entries(value)) {
    const keyProblem = checkQualifiedName(k)
    if (keyProblem)
      return {ok: false, problem: {field: 'labels', message: `labels: key ${JSON.stringify(k)} is not a valid label key: ${keyProblem}`}}
    const valueProblem = checkLabelValue(v)
    if (valueProblem)
      return {
        ok: false,
        problem: {field: 'labels', message: `labels: value ${JSON.stringify(v)} of ${JSON.stringify(k)} is not a valid label value: ${valueProblem}`},
      }
  }
  return {ok: true, value}
}

function readAnnotations(raw: string | undefined): MapResult {
  const parsed = parseStringMap('annotations', raw)
  if (!parsed.ok) return parsed
  const value = parsed.value ?? {}
  let size = 0
  for (const [k, v] of Object.entries(value)) {
    const keyProblem = checkQualifiedName(k)
    if (keyProblem)
      return {
        ok: false,
        problem: {field: 'annotations', message: `annotations: key ${JSON.stringify(k)} is not a valid annotation key: ${keyProblem}`},
      }
    size += Buffer.byteLength(k) + Buffer.byteLength(v)
  }
  if (size > ANNOTATIONS_MAX_BYTES) {
    return {ok: false, problem: {field: 'annotations', message: `annotations: total size ${size} bytes exceeds ${ANNOTATIONS_MAX_BYTES}`}}
  }
  return {ok: true, value}
}

export function desiredNamespace(project: Project): DesiredNamespace {
  const name = namespaceForProject(project)
  const problems: FieldProblem[] = []
  const nameProblem = checkDns1123Label(name)
  if (nameProblem) problems.push({field: 'name', message: `namespace ${JSON.stringify(name)} (from project name) ${nameProblem}`})
  const idProblem = checkLabelValue(project.id)
  if (idProblem) problems.push({field: 'id', message: `project id ${JSON.stringify(project.id)} cannot be a label value: ${idProblem}`})
  if (problems.length > 0) return failure('InvalidName', problems)
  return {
    ok: true,
    name,
    object: {apiVersion: 'v1', kind: 'Namespace', metadata: {name, labels: managedLabels({[LABEL_PROJECT_ID]: project.id})}},
  }
}

/**
 * `ambient-<group>-<role>` when that is already a valid name; otherwise a sanitised form with a
 * short hash of the exact pair, so two entries that sanitise alike never share a binding.
 */
export function roleBindingName(group: string, role: string): string {
  const raw = `ambient-${group}-${role}`
  if (!checkDns1123Label(raw)) return raw
  const hash = createHash('sha256').update(`${group}\u0000${role}`).digest('hex').slice(0, 8)
  const base = sanitizeDns1123Label(raw, 63 - hash.length - 1)
  return `${base}-${hash}`
}

export function desiredRoleBindings(settings: ProjectSettings, project: Project): DesiredRoleBindings {
  const ns = desiredNamespace(project)
  if (!ns.ok) return ns
  const problems: FieldProblem[] = []
  const settingsIdProblem = checkLabelValue(settings.id)
  if (settingsIdProblem)
    problems.push({field: 'id', message: `project settings id ${JSON.stringify(settings.id)} cannot be a label value: ${settingsIdProblem}`})
  if (problems.length > 0) return failure('InvalidName', problems)

  const parsed = parseJsonField('group_access', settings.group_access)
  if (!parsed.ok) return failure('InvalidSpec', [parsed.problem])
  const entries = parsed.value ?? []
  if (!Array.isArray(entries)) {
    return failure('InvalidSpec', [
      {field: 'group_access', message: `group_access: expected a JSON array of {group, role}, got ${describe(entries)}`},
    ])
  }
  const byName = new Map<string, RoleBindingObject>()
  for (const [i, entry] of entries.entries()) {
    if (!isRecord(entry) || typeof entry.group !== 'string' || typeof entry.role !== 'string' || entry.group === '' || entry.role === '') {
      return failure('InvalidSpec', [{field: 'group_access', message: `group_access[${i}]: expected {group, role} with non-empty strings`}])
    }
    if (entry.role.includes('/') || entry.role.includes('%') || entry.role === '.' || entry.role === '..') {
      return failure('InvalidSpec', [
        {field: 'group_access', message: `group_access[${i}].role: ${JSON.stringify(entry.role)} is not a valid ClusterRole name`},
      ])
    }
    const name = roleBindingName(entry.group, entry.role)
    byName.set(name, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {
        name,
        namespace: ns.name,
        labels: managedLabels({[LABEL_PROJECT_ID]: project.id, [LABEL_PROJECT_SETTINGS_ID]: settings.id}),
      },
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: entry.role},
      subjects: [{kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: entry.group}],
    })
  }
  return {ok: true, namespace: ns.name, bindings: [...byName.values()]}
}

/** What must happen to an existing RoleBinding: roleRef is immutable, so a change recreates. */
export function roleBindingAction(desired: RoleBindingObject, actual: RoleBindingObject): 'none' | 'patch-labels' | 'recreate' {
  const ref = actual.roleRef
  if (!ref || ref.name !== desired.roleRef.name || ref.kind !== desired.roleRef.kind || ref.apiGroup !== desired.roleRef.apiGroup) return 'recreate'
  const subjects = (actual.subjects ?? []).map((s) => ({kind: s.kind, name: s.name, apiGroup: s.apiGroup ?? '', namespace: s.namespace ?? ''}))
  const want = (desired.subjects ?? []).map((s) => ({kind: s.kind, name: s.name, apiGroup: s.apiGroup ?? '', namespace: s.namespace ?? ''}))
  // Subjects are mutable, but a binding that grants someone else is not ours to amend.
  if (!jsonEqual(subjects, want)) return 'recreate'
  return labelsMissing(desired.metadata.labels, actual.metadata.labels) ? 'patch-labels' : 'none'
}

/** True when some desired label is absent or different on the actual object. */
export function labelsMissing(desired: Record<string, string> | undefined, actual: Record<string, string> | undefined): boolean {
  return Object.entries(desired ?? {}).some(([k, v]) => actual?.[k] !== v)
}

function failure(reason: FailureReason, problems: FieldProblem[]): DesiredFailure {
  return {
    ok: false,
    reason,
    message: problems.map((p) => p.message).join('; '),
    fields: [...new Set(problems.map((p) => p.field))],
  }
}

function nonEmpty(value: string | undefined | null): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

// One import point for the reconcilers and `ambient diff`.
export {applyCrdDefaults, CRD_DEFAULTS, driftPatch, specDrift, trackedMetadataKeys, type Drift} from './drift.js'
export {parseConditions, statusPatchDiff, statusPatchNeeded, statusToApi, withCondition} from './status.js'
