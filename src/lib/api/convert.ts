// Domain objects <-> generated protobuf messages. The generated messages keep the contract's
// snake_case names, so only the metadata block and the timestamps need translating; every
// other field is listed explicitly so the type checker notices a field that is not carried.
import type {ObjectReference} from '../../gen/ambient/v1/common.js'
import {EventType} from '../../gen/ambient/v1/common.js'
import type {Project as PbProject} from '../../gen/ambient/v1/projects.js'
import type {ProjectSettings as PbProjectSettings} from '../../gen/ambient/v1/project_settings.js'
import type {Session as PbSession, UpdateSessionStatusRequest} from '../../gen/ambient/v1/sessions.js'
import type {User as PbUser} from '../../gen/ambient/v1/users.js'
import type {Timestamp} from '../../gen/google/protobuf/timestamp.js'
import {formatRfc3339, parseRfc3339} from './time.js'
import type {ObjectMeta, Project, ProjectSettings, Session, SessionStatusPatch, User, WatchEventType} from './types.js'

const EPOCH = '1970-01-01T00:00:00.000000Z'

function tsOut(value: string | undefined): Timestamp | undefined {
  return value === undefined ? undefined : parseRfc3339(value)
}

function tsIn(value: Timestamp | undefined): string | undefined {
  return value === undefined ? undefined : formatRfc3339(value)
}

export function metaToProto(meta: ObjectMeta): ObjectReference {
  return {
    id: meta.id,
    created_at: parseRfc3339(meta.created_at),
    updated_at: parseRfc3339(meta.updated_at),
    kind: meta.kind,
    href: meta.href,
  }
}

export function metaFromProto(ref: ObjectReference | undefined): ObjectMeta {
  return {
    id: ref?.id ?? '',
    kind: ref?.kind ?? '',
    href: ref?.href ?? '',
    created_at: tsIn(ref?.created_at) ?? EPOCH,
    updated_at: tsIn(ref?.updated_at) ?? EPOCH,
  }
}

// The *FromProto functions below run for every watch event: each builds one object literal
// (metadata and the required field) and assigns the optional fields only when defined, in the
// message's order, so domain objects never carry explicit undefineds. No spread, and no
// delete, which would leave every cached object in slow dictionary mode.

export function sessionToProto(s: Session): PbSession {
  return {
    metadata: metaToProto(s),
    name: s.name,
    repo_url: s.repo_url,
    prompt: s.prompt,
    created_by_user_id: s.created_by_user_id,
    assigned_user_id: s.assigned_user_id,
    workflow_id: s.workflow_id,
    repos: s.repos,
    timeout: s.timeout,
    llm_model: s.llm_model,
    llm_temperature: s.llm_temperature,
    llm_max_tokens: s.llm_max_tokens,
    parent_session_id: s.parent_session_id,
    bot_account_name: s.bot_account_name,
    resource_overrides: s.resource_overrides,
    environment_variables: s.environment_variables,
    labels: s.labels,
    annotations: s.annotations,
    project_id: s.project_id,
    phase: s.phase,
    start_time: tsOut(s.start_time),
    completion_time: tsOut(s.completion_time),
    sdk_session_id: s.sdk_session_id,
    sdk_restart_count: s.sdk_restart_count,
    conditions: s.conditions,
    reconciled_repos: s.reconciled_repos,
    reconciled_workflow: s.reconciled_workflow,
    kube_cr_name: s.kube_cr_name,
    kube_cr_uid: s.kube_cr_uid,
    kube_namespace: s.kube_namespace,
  }
}

export function sessionFromProto(p: PbSession): Session {
  const m = p.metadata
  const out: Session = {
    id: m?.id ?? '',
    kind: m?.kind ?? '',
    href: m?.href ?? '',
    created_at: tsIn(m?.created_at) ?? EPOCH,
    updated_at: tsIn(m?.updated_at) ?? EPOCH,
    name: p.name,
  }
  if (p.repo_url !== undefined) out.repo_url = p.repo_url
  if (p.prompt !== undefined) out.prompt = p.prompt
  if (p.created_by_user_id !== undefined) out.created_by_user_id = p.created_by_user_id
  if (p.assigned_user_id !== undefined) out.assigned_user_id = p.assigned_user_id
  if (p.workflow_id !== undefined) out.workflow_id = p.workflow_id
  if (p.repos !== undefined) out.repos = p.repos
  if (p.timeout !== undefined) out.timeout = p.timeout
  if (p.llm_model !== undefined) out.llm_model = p.llm_model
  if (p.llm_temperature !== undefined) out.llm_temperature = p.llm_temperature
  if (p.llm_max_tokens !== undefined) out.llm_max_tokens = p.llm_max_tokens
  if (p.parent_session_id !== undefined) out.parent_session_id = p.parent_session_id
  if (p.bot_account_name !== undefined) out.bot_account_name = p.bot_account_name
  if (p.resource_overrides !== undefined) out.resource_overrides = p.resource_overrides
  if (p.environment_variables !== undefined) out.environment_variables = p.environment_variables
  if (p.labels !== undefined) out.labels = p.labels
  if (p.annotations !== undefined) out.annotations = p.annotations
  if (p.project_id !== undefined) out.project_id = p.project_id
  if (p.phase !== undefined) out.phase = p.phase
  if (p.start_time !== undefined) out.start_time = formatRfc3339(p.start_time)
  if (p.completion_time !== undefined) out.completion_time = formatRfc3339(p.completion_time)
  if (p.sdk_session_id !== undefined) out.sdk_session_id = p.sdk_session_id
  if (p.sdk_restart_count !== undefined) out.sdk_restart_count = p.sdk_restart_count
  if (p.conditions !== undefined) out.conditions = p.conditions
  if (p.reconciled_repos !== undefined) out.reconciled_repos = p.reconciled_repos
  if (p.reconciled_workflow !== undefined) out.reconciled_workflow = p.reconciled_workflow
  if (p.kube_cr_name !== undefined) out.kube_cr_name = p.kube_cr_name
  if (p.kube_cr_uid !== undefined) out.kube_cr_uid = p.kube_cr_uid
  if (p.kube_namespace !== undefined) out.kube_namespace = p.kube_namespace
  return out
}

export function statusPatchToProto(id: string, patch: SessionStatusPatch): UpdateSessionStatusRequest {
  return {
    id,
    phase: patch.phase,
    start_time: tsOut(patch.start_time),
    completion_time: tsOut(patch.completion_time),
    sdk_session_id: patch.sdk_session_id,
    sdk_restart_count: patch.sdk_restart_count,
    conditions: patch.conditions,
    reconciled_repos: patch.reconciled_repos,
    reconciled_workflow: patch.reconciled_workflow,
    kube_cr_uid: patch.kube_cr_uid,
    kube_namespace: patch.kube_namespace,
  }
}

export function statusPatchFromProto(req: UpdateSessionStatusRequest): SessionStatusPatch {
  const out: SessionStatusPatch = {}
  if (req.phase !== undefined) out.phase = req.phase
  if (req.start_time !== undefined) out.start_time = formatRfc3339(req.start_time)
  if (req.completion_time !== undefined) out.completion_time = formatRfc3339(req.completion_time)
  if (req.sdk_session_id !== undefined) out.sdk_session_id = req.sdk_session_id
  if (req.sdk_restart_count !== undefined) out.sdk_restart_count = req.sdk_restart_count
  if (req.conditions !== undefined) out.conditions = req.conditions
  if (req.reconciled_repos !== undefined) out.reconciled_repos = req.reconciled_repos
  if (req.reconciled_workflow !== undefined) out.reconciled_workflow = req.reconciled_workflow
  if (req.kube_cr_uid !== undefined) out.kube_cr_uid = req.kube_cr_uid
  if (req.kube_namespace !== undefined) out.kube_namespace = req.kube_namespace
  return out
}

export function projectToProto(p: Project): PbProject {
  return {
    metadata: metaToProto(p),
    name: p.name,
    display_name: p.display_name,
    description: p.description,
    labels: p.labels,
    annotations: p.annotations,
    status: p.status,
  }
}

export function projectFromProto(p: PbProject): Project {
  const m = p.metadata
  const out: Project = {
    id: m?.id ?? '',
    kind: m?.kind ?? '',
    href: m?.href ?? '',
    created_at: tsIn(m?.created_at) ?? EPOCH,
    updated_at: tsIn(m?.updated_at) ?? EPOCH,
    name: p.name,
  }
  if (p.display_name !== undefined) out.display_name = p.display_name
  if (p.description !== undefined) out.description = p.description
  if (p.labels !== undefined) out.labels = p.labels
  if (p.annotations !== undefined) out.annotations = p.annotations
  if (p.status !== undefined) out.status = p.status
  return out
}

export function projectSettingsToProto(p: ProjectSettings): PbProjectSettings {
  return {
    metadata: metaToProto(p),
    project_id: p.project_id,
    group_access: p.group_access,
    repositories: p.repositories,
  }
}

export function projectSettingsFromProto(p: PbProjectSettings): ProjectSettings {
  const m = p.metadata
  const out: ProjectSettings = {
    id: m?.id ?? '',
    kind: m?.kind ?? '',
    href: m?.href ?? '',
    created_at: tsIn(m?.created_at) ?? EPOCH,
    updated_at: tsIn(m?.updated_at) ?? EPOCH,
    project_id: p.project_id,
  }
  if (p.group_access !== undefined) out.group_access = p.group_access
  if (p.repositories !== undefined) out.repositories = p.repositories
  return out
}

export function userToProto(u: User): PbUser {
  return {metadata: metaToProto(u), username: u.username, name: u.name, email: u.email}
}

export function userFromProto(p: PbUser): User {
  const out: User = {...metaFromProto(p.metadata), username: p.username, name: p.name}
  if (p.email !== undefined) out.email = p.email
  return out
}

export function eventTypeToProto(type: WatchEventType): EventType {
  switch (type) {
    case 'CREATED':
      return EventType.EVENT_TYPE_CREATED
    case 'UPDATED':
      return EventType.EVENT_TYPE_UPDATED
    case 'DELETED':
      return EventType.EVENT_TYPE_DELETED
  }
}

/** Undefined for UNSPECIFIED/unknown values, which a client must skip rather than guess. */
export function eventTypeFromProto(type: EventType): WatchEventType | undefined {
  switch (type) {
    case EventType.EVENT_TYPE_CREATED:
      return 'CREATED'
    case EventType.EVENT_TYPE_UPDATED:
      return 'UPDATED'
    case EventType.EVENT_TYPE_DELETED:
      return 'DELETED'
    default:
      return undefined
  }
}
