// What the server knows about each resource's fields: their wire types (for validating JSON
// bodies and typing search literals), which fields each write path accepts, and what is
// required. Field names come from the shared domain lists so server and clients cannot drift.
import {
  PROJECT_SETTINGS_SPEC_FIELDS,
  PROJECT_SPEC_FIELDS,
  RESOURCE_KINDS,
  SESSION_DOUBLE_FIELDS,
  SESSION_INT_FIELDS,
  SESSION_SPEC_FIELDS,
  SESSION_STATUS_PATCH_FIELDS,
  SESSION_TIME_FIELDS,
  USER_SPEC_FIELDS,
  type ResourceTypes,
  type User,
} from '../api/types.js'

export type {User, UserSpec} from '../api/types.js'

export interface StoreTypes extends ResourceTypes {
  users: User
}
export type StoreResource = keyof StoreTypes
export const STORE_RESOURCES: readonly StoreResource[] = ['sessions', 'projects', 'project_settings', 'users']

export type FieldType = 'string' | 'int' | 'double' | 'time'

export interface ResourceSchema {
  resource: StoreResource
  kind: string
  listKind: string
  /** Every stored field (the "columns"): searchable, sortable and projectable. */
  fields: ReadonlyMap<string, FieldType>
  /** Fields a client sets on create; other declared fields in a create body are dropped. */
  specFields: ReadonlySet<string>
  /** Fields the server sets on create from the request's context (never from the body). */
  serverSetFields: ReadonlySet<string>
  /** Fields the main PATCH takes; any other key in a PATCH body is ignored. */
  patchFields: ReadonlySet<string>
  /** Spec fields that never change after create: an update must leave them as they are. */
  immutableFields: ReadonlySet<string>
  /** Fields that must be non-empty strings of at most 255 characters on create and when patched. */
  required: readonly string[]
  /** Fields kept in a secondary index for O(page) filtered lists and uniqueness checks. */
  indexed: readonly string[]
}

const META_FIELDS: [string, FieldType][] = [
  ['id', 'string'],
  ['created_at', 'time'],
  ['updated_at', 'time'],
]

function typed(names: readonly string[]): [string, FieldType][] {
  return names.map((name) => {
    if (SESSION_INT_FIELDS.has(name)) return [name, 'int']
    if (SESSION_DOUBLE_FIELDS.has(name)) return [name, 'double']
    if (SESSION_TIME_FIELDS.has(name)) return [name, 'time']
    return [name, 'string']
  })
}

const none: ReadonlySet<string> = new Set()

const sessions: ResourceSchema = {
  resource: 'sessions',
  ...RESOURCE_KINDS.sessions,
  fields: new Map([
    ...META_FIELDS,
    ...typed(SESSION_SPEC_FIELDS),
    ['created_by_user_id', 'string'],
    ...typed(SESSION_STATUS_PATCH_FIELDS),
    ['kube_cr_name', 'string'],
  ]),
  specFields: new Set(SESSION_SPEC_FIELDS),
  serverSetFields: new Set(['created_by_user_id']),
  // project_id is absent on purpose: the real server's SessionPatchRequest has no such field.
  patchFields: new Set(SESSION_SPEC_FIELDS.filter((f) => f !== 'project_id')),
  immutableFields: new Set(['project_id']),
  required: ['name'],
  indexed: ['project_id'],
}

const projects: ResourceSchema = {
  resource: 'projects',
  ...RESOURCE_KINDS.projects,
  fields: new Map([...META_FIELDS, ...typed(PROJECT_SPEC_FIELDS)]),
  specFields: new Set(PROJECT_SPEC_FIELDS),
  serverSetFields: none,
  patchFields: new Set(PROJECT_SPEC_FIELDS),
  immutableFields: none,
  required: ['name'],
  // Names are unique (409), also after a rename, when id and name differ.
  indexed: ['name'],
}

const projectSettings: ResourceSchema = {
  resource: 'project_settings',
  ...RESOURCE_KINDS.project_settings,
  fields: new Map([...META_FIELDS, ...typed(PROJECT_SETTINGS_SPEC_FIELDS)]),
  specFields: new Set(PROJECT_SETTINGS_SPEC_FIELDS),
  serverSetFields: none,
  patchFields: new Set(PROJECT_SETTINGS_SPEC_FIELDS),
  immutableFields: none,
  required: ['project_id'],
  indexed: ['project_id'],
}

const users: ResourceSchema = {
  resource: 'users',
  kind: 'User',
  listKind: 'UserList',
  fields: new Map([...META_FIELDS, ...typed(USER_SPEC_FIELDS)]),
  specFields: new Set(USER_SPEC_FIELDS),
  serverSetFields: none,
  patchFields: new Set(USER_SPEC_FIELDS),
  immutableFields: none,
  required: ['username', 'name'],
  indexed: ['username'],
}

export const SCHEMAS: Record<StoreResource, ResourceSchema> = {
  sessions,
  projects,
  project_settings: projectSettings,
  users,
}

export const STATUS_PATCH_FIELDS: ReadonlySet<string> = new Set(SESSION_STATUS_PATCH_FIELDS)

export function isStoreResource(name: string): name is StoreResource {
  return (STORE_RESOURCES as readonly string[]).includes(name)
}
