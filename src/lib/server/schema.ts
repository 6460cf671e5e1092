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
  type ObjectMeta,
  type ResourceTypes,
} from '../api/types.js'

/** Minimal users resource (contract section 1 lists it; the control plane only reads it). */
export interface UserSpec {
  username: string
  name?: string
  email?: string
}
export interface User extends ObjectMeta, UserSpec {}

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
  /** Fields a create body may carry. */
  createFields: ReadonlySet<string>
  /** Fields the main PATCH may carry. */
  patchFields: ReadonlySet<string>
  /** Fields that must be present and non-empty on create, and non-empty when patched. */
  required: readonly string[]
  /** Fields kept in a secondary index for O(page) filtered lists. */
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

const SESSION_CREATE_FIELDS = [...SESSION_SPEC_FIELDS, 'created_by_user_id']

const sessions: ResourceSchema = {
  resource: 'sessions',
  ...RESOURCE_KINDS.sessions,
  fields: new Map([
    ...META_FIELDS,
    ...typed(SESSION_CREATE_FIELDS),
    ...typed(SESSION_STATUS_PATCH_FIELDS),
    ['kube_cr_name', 'string'],
  ]),
  createFields: new Set(SESSION_CREATE_FIELDS),
  patchFields: new Set(SESSION_SPEC_FIELDS),
  required: ['name'],
  indexed: ['project_id'],
}

const projects: ResourceSchema = {
  resource: 'projects',
  ...RESOURCE_KINDS.projects,
  fields: new Map([...META_FIELDS, ...typed(PROJECT_SPEC_FIELDS)]),
  createFields: new Set(PROJECT_SPEC_FIELDS),
  patchFields: new Set(PROJECT_SPEC_FIELDS),
  required: ['name'],
  indexed: [],
}

const projectSettings: ResourceSchema = {
  resource: 'project_settings',
  ...RESOURCE_KINDS.project_settings,
  fields: new Map([...META_FIELDS, ...typed(PROJECT_SETTINGS_SPEC_FIELDS)]),
  createFields: new Set(PROJECT_SETTINGS_SPEC_FIELDS),
  patchFields: new Set(PROJECT_SETTINGS_SPEC_FIELDS),
  required: ['project_id'],
  indexed: ['project_id'],
}

const USER_FIELDS = ['username', 'name', 'email'] as const satisfies readonly (keyof UserSpec)[]

const users: ResourceSchema = {
  resource: 'users',
  kind: 'User',
  listKind: 'UserList',
  fields: new Map([...META_FIELDS, ...typed(USER_FIELDS)]),
  createFields: new Set(USER_FIELDS),
  patchFields: new Set(USER_FIELDS),
  required: ['username'],
  indexed: [],
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
