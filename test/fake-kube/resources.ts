// What the fake serves: one ResourceDef per (group, version, resource), carrying the per-type
// rules a real API server's registry strategies implement.
import {deepEqual, getPath, isObject, type KubeObject} from './json.js'
import {crdSchemaErrors} from './crd-validation.js'
import type {Schema} from './schema.js'
import {fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired, type FieldError} from './status.js'

export interface ResourceDef {
  group: string
  version: string
  plural: string
  singular: string
  kind: string
  listKind: string
  namespaced: boolean
  shortNames: string[]
  /** Every view of the same objects (served versions; core vs events.k8s.io events) shares it. */
  storageKey: string
  /** Custom-resource rules: typed list items, no unconditional update, no strategic merge patch. */
  custom: boolean
  /** The server maintains metadata.generation (CRs and CRDs; not namespaces, events, leases...). */
  generation: boolean
  statusSubresource: boolean
  allowCreateOnUpdate: boolean
  allowUnconditionalUpdate: boolean
  /** DELETE answers with the object (else with a Success Status). */
  returnDeletedObject: boolean
  nameRule: 'subdomain' | 'label' | 'path'
  /** Structural schema (CRDs): prune, default, validate. */
  schema?: Schema
  /** Top-level fields a typed decoder knows (built-ins); anything else is dropped. */
  knownFields?: string[]
  /** fieldSelector labels beyond metadata.name/metadata.namespace, mapped to storage paths. */
  selectableFields: Record<string, string>
  /** View -> storage form (events.k8s.io events are stored as core events). */
  toStorage(obj: KubeObject): KubeObject
  /** Storage -> view form. */
  fromStorage(obj: KubeObject): KubeObject
  prepareForCreate?(obj: KubeObject): void
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void
  validate?(obj: KubeObject, old: KubeObject | undefined): FieldError[]
}

export function apiVersionOf(def: ResourceDef): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`
}

/** `plural` for the core group, else `plural.group`: the key used by the direct store API. */
export function resourceKeyOf(def: ResourceDef): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`
}

function withTypeMeta(def: ResourceDef) {
  return (obj: KubeObject): KubeObject => ({...obj, apiVersion: apiVersionOf(def), kind: def.kind})
}

type Base = Omit<ResourceDef, 'toStorage' | 'fromStorage'> & Partial<Pick<ResourceDef, 'toStorage' | 'fromStorage'>>

export function makeDef(base: Base): ResourceDef {
  const def = base as ResourceDef
  def.toStorage ??= withTypeMeta(def)
  def.fromStorage ??= withTypeMeta(def)
  return def
}

const builtin = {
  custom: false,
  generation: false,
  statusSubresource: false,
  allowCreateOnUpdate: true,
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  shortNames: [] as string[],
  selectableFields: {} as Record<string, string>,
}

export function namespacesDef(): ResourceDef {
  return makeDef({
    ...builtin,
    group: '',
    version: 'v1',
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    namespaced: false,
    shortNames: ['ns'],
    storageKey: 'namespaces',
    statusSubresource: true,
    allowCreateOnUpdate: false,
    returnDeletedObject: true,
    nameRule: 'label',
    knownFields: ['spec', 'status'],
    selectableFields: {'status.phase': 'status.phase'},
    prepareForCreate(obj) {
      const spec = isObject(obj.spec) ? obj.spec : {}
      spec.finalizers ??= ['kubernetes']
      obj.spec = spec
      obj.status = {phase: 'Active'}
      ensureNameLabel(obj)
    },
    prepareForUpdate(obj) {
      ensureNameLabel(obj)
    },
  })
}

// Since Kubernetes 1.21 every namespace carries this immutable label.
function ensureNameLabel(obj: KubeObject): void {
  obj.metadata.labels = {...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name ?? ''}
}

const coreEventFields = [
  'involvedObject',
  'reason',
  'message',
  'source',
  'firstTimestamp',
  'lastTimestamp',
  'count',
  'type',
  'eventTime',
  'series',
  'action',
  'related',
  'reportingComponent',
  'reportingInstance',
]

const eventSelectable: Record<string, string> = {
  'involvedObject.kind': 'involvedObject.kind',
  'involvedObject.namespace': 'involvedObject.namespace',
  'involvedObject.name': 'involvedObject.name',
  'involvedObject.uid': 'involvedObject.uid',
  'involvedObject.apiVersion': 'involvedObject.apiVersion',
  'involvedObject.resourceVersion': 'involvedObject.resourceVersion',
  'involvedObject.fieldPath': 'involvedObject.fieldPath',
  'regarding.kind': 'involvedObject.kind',
  'regarding.namespace': 'involvedObject.namespace',
  'regarding.name': 'involvedObject.name',
  'regarding.uid': 'involvedObject.uid',
  reason: 'reason',
  reportingComponent: 'reportingComponent',
  reportingController: 'reportingComponent',
  source: 'source.component',
  type: 'type',
}

function validateCoreEvent(obj: KubeObject): FieldError[] {
  const errors: FieldError[] = []
  const involvedNs = getPath(obj, 'involvedObject.namespace')
  if (typeof involvedNs === 'string' && involvedNs !== '' && involvedNs !== obj.metadata.namespace) {
    errors.push(fieldInvalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'))
  }
  const type = obj.type
  if (type !== undefined && type !== 'Normal' && type !== 'Warning' && obj.eventTime !== undefined) {
    errors.push(fieldNotSupported('type', type, ['Normal', 'Warning']))
  }
  return errors
}

export function coreEventsDef(): ResourceDef {
  return makeDef({
    ...builtin,
    group: '',
    version: 'v1',
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    listKind: 'EventList',
    namespaced: true,
    shortNames: ['ev'],
    storageKey: 'events',
    nameRule: 'subdomain',
    knownFields: coreEventFields,
    selectableFields: eventSelectable,
    validate: validateCoreEvent,
  })
}

// events.k8s.io/v1 is another view of the same stored events, with renamed fields.
const renames: [string, string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
]

function rename(obj: KubeObject, pairs: [string, string][], apiVersion: string): KubeObject {
  const out: KubeObject = {...obj, apiVersion, kind: 'Event'}
  for (const [from, to] of pairs) {
    delete out[from]
    if (obj[from] !== undefined) out[to] = obj[from]
  }
  return out
}

export function eventsV1Def(): ResourceDef {
  const knownFields = [
    'eventTime',
    'series',
    'reportingController',
    'reportingInstance',
    'action',
    'reason',
    'regarding',
    'related',
    'note',
    'type',
    'deprecatedSource',
    'deprecatedFirstTimestamp',
    'deprecatedLastTimestamp',
    'deprecatedCount',
  ]
  return makeDef({
    ...builtin,
    group: 'events.k8s.io',
    version: 'v1',
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    listKind: 'EventList',
    namespaced: true,
    shortNames: ['ev'],
    storageKey: 'events',
    nameRule: 'subdomain',
    knownFields,
    selectableFields: eventSelectable,
    toStorage: (obj) =>
      rename(
        obj,
        renames.map(([a, b]) => [b, a]),
        'v1',
      ),
    fromStorage: (obj) => rename(obj, renames, 'events.k8s.io/v1'),
    validate(obj, old) {
      // Validated in storage (core) form; events written through events.k8s.io/v1 must be complete.
      if (old !== undefined) return validateCoreEvent(obj)
      const errors: FieldError[] = []
      if (obj.eventTime === undefined) errors.push(fieldRequired('eventTime'))
      if (!obj.reportingComponent) errors.push(fieldRequired('reportingController'))
      if (!obj.reportingInstance) errors.push(fieldRequired('reportingInstance'))
      if (!obj.action) errors.push(fieldRequired('action'))
      if (!obj.reason) errors.push(fieldRequired('reason'))
      if (obj.type !== 'Normal' && obj.type !== 'Warning') {
        errors.push(fieldNotSupported('type', obj.type ?? '', ['Normal', 'Warning']))
      }
      return [...errors, ...validateCoreEvent(obj)]
    },
  })
}

export function roleBindingsDef(): ResourceDef {
  return makeDef({
    ...builtin,
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'rolebindings',
    singular: 'rolebinding',
    kind: 'RoleBinding',
    listKind: 'RoleBindingList',
    namespaced: true,
    storageKey: 'rolebindings.rbac.authorization.k8s.io',
    nameRule: 'path',
    knownFields: ['subjects', 'roleRef'],
    validate(obj, old) {
      const errors: FieldError[] = []
      const ref = obj.roleRef
      if (!isObject(ref)) return [fieldRequired('roleRef')]
      if (ref.apiGroup !== 'rbac.authorization.k8s.io') {
        errors.push(fieldNotSupported('roleRef.apiGroup', ref.apiGroup ?? '', ['rbac.authorization.k8s.io']))
      }
      if (ref.kind !== 'Role' && ref.kind !== 'ClusterRole') {
        errors.push(fieldNotSupported('roleRef.kind', ref.kind ?? '', ['Role', 'ClusterRole']))
      }
      if (typeof ref.name !== 'string' || ref.name === '') errors.push(fieldRequired('roleRef.name'))
      const subjects = Array.isArray(obj.subjects) ? obj.subjects : []
      subjects.forEach((s, i) => {
        const kind = isObject(s) ? s.kind : undefined
        if (kind !== 'User' && kind !== 'Group' && kind !== 'ServiceAccount') {
          errors.push(fieldNotSupported(`subjects[${i}].kind`, kind ?? '', ['ServiceAccount', 'User', 'Group']))
        }
        if (!isObject(s) || typeof s.name !== 'string' || s.name === '') errors.push(fieldRequired(`subjects[${i}].name`))
      })
      if (old !== undefined && !deepEqual(old.roleRef, obj.roleRef)) {
        errors.push(fieldInvalid('roleRef', obj.roleRef, 'cannot change roleRef'))
      }
      return errors
    },
  })
}

export function leasesDef(): ResourceDef {
  return makeDef({
    ...builtin,
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    singular: 'lease',
    kind: 'Lease',
    listKind: 'LeaseList',
    namespaced: true,
    storageKey: 'leases.coordination.k8s.io',
    nameRule: 'subdomain',
    knownFields: ['spec'],
    validate(obj) {
      const d = getPath(obj, 'spec.leaseDurationSeconds')
      if (d !== undefined && (typeof d !== 'number' || d <= 0)) {
        return [fieldInvalid('spec.leaseDurationSeconds', d, 'must be greater than 0')]
      }
      return []
    },
  })
}

export function crdDef(): ResourceDef {
  return makeDef({
    ...builtin,
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition',
    listKind: 'CustomResourceDefinitionList',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    storageKey: 'customresourcedefinitions.apiextensions.k8s.io',
    generation: true,
    statusSubresource: true,
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: false,
    returnDeletedObject: true,
    nameRule: 'subdomain',
    knownFields: ['spec', 'status'],
    prepareForCreate(obj) {
      const spec = isObject(obj.spec) ? obj.spec : {}
      const versions = Array.isArray(spec.versions) ? spec.versions.filter(isObject) : []
      const storage = versions.find((v) => v.storage === true)?.name
      // Real servers set these asynchronously (NamesAccepted, Established); here they are immediate.
      obj.status = {
        acceptedNames: spec.names,
        storedVersions: storage === undefined ? [] : [storage],
        conditions: [
          {type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found'},
          {type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted'},
        ],
      }
    },
    validate(obj, old) {
      const spec = isObject(obj.spec) ? obj.spec : {}
      const names = isObject(spec.names) ? spec.names : {}
      const errors: FieldError[] = []
      const expected = `${String(names.plural)}.${String(spec.group)}`
      if (obj.metadata.name !== expected) {
        errors.push(fieldInvalid('metadata.name', obj.metadata.name, `must be spec.names.plural+"."+spec.group`))
      }
      if (old !== undefined && isObject(old.spec) && old.spec.scope !== spec.scope) {
        errors.push(fieldForbidden('spec.scope', 'field is immutable'))
      }
      return [...errors, ...crdSchemaErrors(spec)]
    },
  })
}

export function builtinDefs(): ResourceDef[] {
  return [namespacesDef(), coreEventsDef(), eventsV1Def(), roleBindingsDef(), leasesDef(), crdDef()]
}
