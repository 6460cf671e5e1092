// The domain objects of the Ambient API, shared by the REST client, the gRPC client and
// the embedded server. Field names are the wire names of the contract (snake_case), so a
// REST body and a domain object are the same shape and nothing is renamed on the way.

/** Bookkeeping fields every resource carries (contract 1.2). Timestamps are RFC 3339, microseconds. */
export interface ObjectMeta {
  id: string
  kind: string
  href: string
  created_at: string
  updated_at: string
}

export const SESSION_PHASES = ['Pending', 'Creating', 'Running', 'Stopping', 'Stopped', 'Completed', 'Failed'] as const
export type SessionPhase = (typeof SESSION_PHASES)[number]
export const TERMINAL_PHASES: ReadonlySet<string> = new Set<SessionPhase>(['Stopped', 'Completed', 'Failed'])
/** POST /sessions/{id}/start is allowed from these phases ('' = never started). */
export const STARTABLE_PHASES: ReadonlySet<string> = new Set(['', 'Stopped', 'Failed', 'Completed'])
/** POST /sessions/{id}/stop is allowed from these phases. */
export const STOPPABLE_PHASES: ReadonlySet<string> = new Set(['Running', 'Creating', 'Pending'])

/** Writable fields of a Session (contract 1.3). JSON documents travel as strings. */
export interface SessionSpec {
  name: string
  repo_url?: string
  prompt?: string
  assigned_user_id?: string
  workflow_id?: string
  repos?: string
  timeout?: number
  llm_model?: string
  llm_temperature?: number
  llm_max_tokens?: number
  parent_session_id?: string
  bot_account_name?: string
  resource_overrides?: string
  environment_variables?: string
  labels?: string
  annotations?: string
  project_id?: string
}

/** Fields the status sub-resource accepts (PATCH /sessions/{id}/status). */
export interface SessionStatusPatch {
  phase?: string
  start_time?: string
  completion_time?: string
  sdk_session_id?: string
  sdk_restart_count?: number
  conditions?: string
  reconciled_repos?: string
  reconciled_workflow?: string
  kube_cr_uid?: string
  kube_namespace?: string
}

export interface SessionStatus extends SessionStatusPatch {
  /**
   * Read-only everywhere. The real server sets it to the id on create, so every session has
   * one; it says nothing about ownership. A session belongs to Kubernetes once `kube_cr_uid`
   * is set (the kube control plane writes it back after creating the CR).
   */
  kube_cr_name?: string
}

export interface Session extends ObjectMeta, SessionSpec, SessionStatus {
  created_by_user_id?: string
}

export interface ProjectSpec {
  name: string
  display_name?: string
  description?: string
  labels?: string
  annotations?: string
  status?: string
}

export interface Project extends ObjectMeta, ProjectSpec {}

export interface ProjectSettingsSpec {
  project_id: string
  group_access?: string
  repositories?: string
}

export interface ProjectSettings extends ObjectMeta, ProjectSettingsSpec {}

/** A user (contract section 2, UserService; REST `/users`). `name` is required like `username`. */
export interface UserSpec {
  username: string
  name: string
  email?: string
}

export interface User extends ObjectMeta, UserSpec {}

/** The three resources the control plane follows, keyed by their REST/gRPC resource name. */
export interface ResourceTypes {
  sessions: Session
  projects: Project
  project_settings: ProjectSettings
}
export type ResourceName = keyof ResourceTypes
export const RESOURCE_NAMES: readonly ResourceName[] = ['sessions', 'projects', 'project_settings']

/** `kind` of each resource's objects and of its list envelope. */
export const RESOURCE_KINDS: Record<ResourceName, {kind: string; listKind: string}> = {
  sessions: {kind: 'Session', listKind: 'SessionList'},
  projects: {kind: 'Project', listKind: 'ProjectList'},
  project_settings: {kind: 'ProjectSettings', listKind: 'ProjectSettingsList'},
}

/** Field-name lists, kept next to the types so validation and tests walk the same names. */
export const SESSION_SPEC_FIELDS = [
  'name',
  'repo_url',
  'prompt',
  'assigned_user_id',
  'workflow_id',
  'repos',
  'timeout',
  'llm_model',
  'llm_temperature',
  'llm_max_tokens',
  'parent_session_id',
  'bot_account_name',
  'resource_overrides',
  'environment_variables',
  'labels',
  'annotations',
  'project_id',
] as const satisfies readonly (keyof SessionSpec)[]

export const SESSION_STATUS_PATCH_FIELDS = [
  'phase',
  'start_time',
  'completion_time',
  'sdk_session_id',
  'sdk_restart_count',
  'conditions',
  'reconciled_repos',
  'reconciled_workflow',
  'kube_cr_uid',
  'kube_namespace',
] as const satisfies readonly (keyof SessionStatusPatch)[]

export const SESSION_INT_FIELDS: ReadonlySet<string> = new Set(['timeout', 'llm_max_tokens', 'sdk_restart_count'])
export const SESSION_DOUBLE_FIELDS: ReadonlySet<string> = new Set(['llm_temperature'])
export const SESSION_TIME_FIELDS: ReadonlySet<string> = new Set(['start_time', 'completion_time'])

export const PROJECT_SPEC_FIELDS = [
  'name',
  'display_name',
  'description',
  'labels',
  'annotations',
  'status',
] as const satisfies readonly (keyof ProjectSpec)[]

export const PROJECT_SETTINGS_SPEC_FIELDS = ['project_id', 'group_access', 'repositories'] as const satisfies readonly (keyof ProjectSettingsSpec)[]

export const USER_SPEC_FIELDS = ['username', 'name', 'email'] as const satisfies readonly (keyof UserSpec)[]

/** List envelope (contract 1.1). */
export interface ListResponse<T> {
  kind: string
  page: number
  size: number
  total: number
  items: T[]
}

export interface ListOptions {
  page?: number
  size?: number
  search?: string
  orderBy?: string
  fields?: string
  /** Sessions only. */
  project_id?: string
}

/**
 * Error body (contract 1.5). Every field is a string: `id` is the server's numeric error id,
 * `code` is that id with the server's prefix ("ambient-api-server-7"). Older servers sent a
 * number; clients must accept both.
 */
export interface ApiErrorBody {
  id: string
  kind: 'Error'
  href: string
  code: string
  reason: string
  operation_id: string
}

/** A condition as carried in the `conditions` JSON string. */
export interface Condition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  reason?: string
  message?: string
  lastTransitionTime?: string
}

/** One entry of the `repos` JSON string. */
export interface RepoSpec {
  url: string
  branch?: string
  autoPush?: boolean
}

/** One entry of ProjectSettings' `group_access` JSON string. */
export interface GroupAccess {
  group: string
  role: string
}

/** Watch event types as the domain sees them (the gRPC enum mapped by the client). */
export type WatchEventType = 'CREATED' | 'UPDATED' | 'DELETED'

/** A watch event of one resource: DELETED carries only the id (contract 2). */
export type WatchEvent<T extends ObjectMeta> = {type: 'CREATED' | 'UPDATED'; id: string; object: T} | {type: 'DELETED'; id: string}
