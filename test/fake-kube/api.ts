// The registry semantics of a real API server (genericregistry.Store plus each type's strategy):
// create/update/patch/delete/list rules, resourceVersion preconditions, generation, the status
// subresource, CRD pruning/defaulting/validation. Everything here is synchronous, so each
// request is atomic exactly like a single etcd transaction.
import {randomUUID} from 'node:crypto'
import * as yaml from 'js-yaml'
import {asKubeObject, clone, deepEqual, getPath, isObject, type KubeObject, type ObjectMeta} from './json.js'
import {applyJsonPatch, mergePatch, parseJsonPatch, PatchApplyError} from './patch.js'
import type {Registry} from './registry.js'
import {apiVersionOf, type ResourceDef} from './resources.js'
import {applyDefaults, prune, validate as validateSchema} from './schema.js'
import {matchFields, matchLabels, parseFieldSelector, parseLabelSelector, type FieldRequirement, type LabelRequirement} from './selectors.js'
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  expired,
  failure,
  fieldForbidden,
  fieldInvalid,
  fieldRequired,
  internalError,
  invalid,
  modifiedMessage,
  notFound,
  type FieldError,
  type Qualified,
} from './status.js'
import type {Store} from './store.js'

export interface ApiOptions {
  store: Store
  registry: Registry
  now: () => Date
  random: () => number
  /** Namespaced writes into a namespace that does not exist fail with 404, as on a cluster. */
  requireNamespaces: boolean
}

export interface Result {
  code: number
  body: unknown
}

export interface ListQuery {
  labelSelector?: string
  fieldSelector?: string
  limit?: string
  continue?: string
}

export interface Selectors {
  labels: LabelRequirement[]
  fields: FieldRequirement[]
}

export const PatchType = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const

const metaKeys = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
])

const subdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const labelRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const labelValueRe = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const nameCharsRe = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/

function resourceOf(def: ResourceDef): Qualified {
  return {group: def.group, name: def.plural}
}

function kindOf(def: ResourceDef): Qualified {
  return {group: def.group, name: def.kind}
}

function scrubMeta(meta: ObjectMeta): ObjectMeta {
  const out: ObjectMeta = {}
  for (const [k, v] of Object.entries(meta)) if (metaKeys.has(k) && v !== undefined && v !== null) out[k] = v
  return out
}

function nameErrors(def: ResourceDef, name: string): FieldError[] {
  if (def.nameRule === 'path') {
    if (name === '.' || name === '..' || name.includes('/') || name.includes('%')) {
      return [fieldInvalid('metadata.name', name, `may not be '.' or '..' and may not contain '/' or '%'`)]
    }
    return []
  }
  if (def.nameRule === 'label') {
    if (name.length > 63 || !labelRe.test(name)) {
      return [
        fieldInvalid(
          'metadata.name',
          name,
          `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
        ),
      ]
    }
    return []
  }
  if (name.length > 253 || !subdomainRe.test(name)) {
    return [
      fieldInvalid(
        'metadata.name',
        name,
        `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ),
    ]
  }
  return []
}

function labelErrors(meta: ObjectMeta): FieldError[] {
  const errors: FieldError[] = []
  if (meta.labels !== undefined && !isObject(meta.labels)) return [fieldInvalid('metadata.labels', meta.labels, 'must be a map')]
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    const slash = key.lastIndexOf('/')
    const prefix = slash >= 0 ? key.slice(0, slash) : ''
    const name = slash >= 0 ? key.slice(slash + 1) : key
    if ((slash >= 0 && (prefix.length > 253 || !subdomainRe.test(prefix))) || name.length > 63 || !nameCharsRe.test(name)) {
      errors.push(
        fieldInvalid(
          'metadata.labels',
          key,
          `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
        ),
      )
    }
    if (typeof value !== 'string' || value.length > 63 || !labelValueRe.test(value)) {
      errors.push(
        fieldInvalid(
          'metadata.labels',
          value,
          `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
        ),
      )
    }
  }
  return errors
}

function specChanged(def: ResourceDef, next: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject): Record<string, unknown> => {
    const {metadata: _m, ...rest} = o
    if (def.statusSubresource) delete rest.status
    return rest
  }
  return !deepEqual(strip(next), strip(old))
}

const generateChars = 'bcdfghjklmnpqrstvwxz2456789'

export class Api {
  constructor(private readonly opts: ApiOptions) {}

  private get store(): Store {
    return this.opts.store
  }

  timestamp(): string {
    return this.opts
      .now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')
  }

  private nsKey(def: ResourceDef, namespace: string | undefined): string {
    return def.namespaced ? (namespace ?? '') : ''
  }

  /** Pruning/defaulting as a real server's decoder does (view form). */
  private normalize(def: ResourceDef, obj: KubeObject): void {
    obj.metadata = scrubMeta(obj.metadata)
    if (def.schema) {
      prune(obj, def.schema)
      applyDefaults(obj, def.schema)
    } else if (def.knownFields) {
      for (const key of Object.keys(obj)) {
        if (key !== 'apiVersion' && key !== 'kind' && key !== 'metadata' && !def.knownFields.includes(key)) delete obj[key]
      }
    }
  }

  private decode(def: ResourceDef, body: unknown): KubeObject {
    const obj = asKubeObject(clone(body))
    if (!obj) throw badRequest(`the body of the request was not a JSON object`)
    const gv = apiVersionOf(def)
    if (def.custom) {
      if (!obj.kind) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`)
      if (!obj.apiVersion) throw badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(body)}'`)
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`)
    }
    if (obj.kind !== undefined && obj.kind !== def.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`)
    }
    obj.apiVersion = gv
    obj.kind = def.kind
    return obj
  }

  private setNamespace(def: ResourceDef, namespace: string | undefined, meta: ObjectMeta): void {
    if (!def.namespaced) {
      delete meta.namespace
      return
    }
    if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
    }
    meta.namespace = namespace
  }

  private requireNamespace(def: ResourceDef, namespace: string | undefined): void {
    if (!def.namespaced || !this.opts.requireNamespaces) return
    if (!this.store.get('namespaces', '', namespace ?? '')) throw notFound({group: '', name: 'namespaces'}, namespace ?? '')
  }

  private throwIfInvalid(def: ResourceDef, name: string, errors: FieldError[]): void {
    if (errors.length > 0) throw invalid(kindOf(def), name, errors)
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): Result {
    const stored = this.store.get(def.storageKey, this.nsKey(def, namespace), name)
    if (!stored) throw notFound(resourceOf(def), name)
    return {code: 200, body: def.fromStorage(stored)}
  }

  create(def: ResourceDef, namespace: string | undefined, body: unknown, dryRun = false): Result {
    const obj = this.decode(def, body)
    const meta = obj.metadata
    this.setNamespace(def, namespace, meta)
    if (meta.resourceVersion) throw internalError('resourceVersion should not be set on objects to be created')
    if (!meta.name) {
      if (!meta.generateName) {
        throw invalid(kindOf(def), '', [fieldRequired('metadata.name', 'name or generateName is required')])
      }
      let suffix = ''
      for (let i = 0; i < 5; i++) suffix += generateChars[Math.floor(this.opts.random() * generateChars.length)]
      meta.name = `${meta.generateName}${suffix}`
    }
    const name = meta.name
    this.requireNamespace(def, namespace)
    this.normalize(def, obj)
    const m = obj.metadata
    m.uid = randomUUID()
    m.creationTimestamp = this.timestamp()
    delete m.deletionTimestamp
    delete m.deletionGracePeriodSeconds
    delete m.selfLink
    if (def.generation) m.generation = 1
    else delete m.generation
    // A create cannot set status when it has its own subresource (CR strategy PrepareForCreate).
    if (def.custom && def.statusSubresource) delete obj.status
    const schemaErrors = def.schema ? validateSchema(obj, def.schema) : []
    const stored = def.toStorage(obj)
    def.prepareForCreate?.(stored)
    this.throwIfInvalid(def, name, [...nameErrors(def, name), ...labelErrors(m), ...schemaErrors, ...(def.validate?.(stored, undefined) ?? [])])
    if (this.store.get(def.storageKey, this.nsKey(def, namespace), name)) throw alreadyExists(resourceOf(def), name)
    if (dryRun) return {code: 201, body: def.fromStorage(stored)}
    return {code: 201, body: def.fromStorage(this.store.write(def.storageKey, stored))}
  }

  update(def: ResourceDef, namespace: string | undefined, name: string, body: unknown, opts: {subresource?: string; dryRun?: boolean} = {}): Result {
    const obj = this.decode(def, body)
    return this.applyUpdate(def, namespace, name, obj, {...opts, fromPatch: false})
  }

  private applyUpdate(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    incoming: KubeObject,
    opts: {subresource?: string; dryRun?: boolean; fromPatch: boolean},
  ): Result {
    const meta = incoming.metadata
    if (meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name ?? ''}) does not match the name on the URL (${name})`)
    }
    this.setNamespace(def, namespace, meta)
    const ns = this.nsKey(def, namespace)
    const oldStored = this.store.get(def.storageKey, ns, name)
    if (!oldStored) {
      if (!opts.subresource && !opts.fromPatch && def.allowCreateOnUpdate && !meta.resourceVersion) {
        return this.create(def, namespace, incoming, opts.dryRun)
      }
      throw notFound(resourceOf(def), name)
    }
    const oldView = def.fromStorage(oldStored)
    const oldMeta = oldView.metadata
    if (!meta.resourceVersion) {
      if (!def.allowUnconditionalUpdate) {
        throw invalid(resourceOf(def), name, [
          {type: 'FieldValueInvalid', field: 'metadata.resourceVersion', detail: 'Invalid value: 0x0: must be specified for an update'},
        ])
      }
    } else if (meta.resourceVersion !== oldMeta.resourceVersion) {
      throw conflict(resourceOf(def), name, modifiedMessage)
    }
    this.normalize(def, incoming)
    const errors: FieldError[] = []
    let next: KubeObject
    if (opts.subresource === 'status') {
      // The status subresource writes status and nothing else.
      next = clone(oldView)
      if (incoming.status !== undefined) next.status = incoming.status
      else delete next.status
    } else {
      next = incoming
      if (def.statusSubresource) {
        if (oldView.status !== undefined) next.status = clone(oldView.status)
        else delete next.status
      }
      const m = next.metadata
      if (m.uid !== undefined && m.uid !== oldMeta.uid) errors.push(fieldInvalid('metadata.uid', m.uid, 'field is immutable'))
      m.uid = oldMeta.uid
      m.creationTimestamp = oldMeta.creationTimestamp
      m.deletionTimestamp = oldMeta.deletionTimestamp
      m.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds
      m.generation = oldMeta.generation
      if (oldMeta.deletionTimestamp !== undefined) {
        const added = (m.finalizers ?? []).filter((f) => !(oldMeta.finalizers ?? []).includes(f))
        if (added.length > 0) errors.push(fieldForbidden('metadata.finalizers', 'no new finalizers can be added if the object is being deleted'))
      }
      next.metadata = scrubMeta(m)
      if (def.generation && specChanged(def, next, oldView)) next.metadata.generation = (oldMeta.generation ?? 0) + 1
    }
    next.metadata.resourceVersion = oldMeta.resourceVersion
    if (def.schema) errors.push(...validateSchema(next, def.schema))
    const stored = def.toStorage(next)
    def.prepareForUpdate?.(stored, oldStored)
    errors.push(...labelErrors(stored.metadata), ...(def.validate?.(stored, oldStored) ?? []))
    this.throwIfInvalid(def, name, errors)
    if (stored.metadata.deletionTimestamp !== undefined && (stored.metadata.finalizers ?? []).length === 0) {
      // The last finalizer is gone from an object being deleted: the update completes the delete.
      if (opts.dryRun) return {code: 200, body: def.fromStorage(stored)}
      const removed = this.store.remove(def.storageKey, ns, name, stored)
      return {code: 200, body: def.fromStorage(removed ?? stored)}
    }
    // A write that changes nothing is not written: no new resourceVersion, no watch event.
    if (deepEqual(stored, oldStored) || opts.dryRun) return {code: 200, body: def.fromStorage(stored)}
    return {code: 200, body: def.fromStorage(this.store.write(def.storageKey, stored))}
  }

  patch(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    contentType: string,
    raw: string,
    opts: {subresource?: string; dryRun?: boolean; fieldManager?: string},
  ): Result {
    const type = contentType.split(';')[0].trim().toLowerCase()
    const accepted: string[] = def.custom
      ? [PatchType.json, PatchType.merge, PatchType.apply]
      : [PatchType.json, PatchType.merge, PatchType.strategic, PatchType.apply]
    if (!accepted.includes(type)) {
      throw new ApiError(
        failure(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
        ),
      )
    }
    let document: unknown
    try {
      document = type === PatchType.apply ? yaml.load(raw) : JSON.parse(raw)
    } catch (err) {
      throw badRequest(`error decoding patch: ${err instanceof Error ? err.message : String(err)}`)
    }
    if (type === PatchType.apply) {
      if (!opts.fieldManager) {
        throw invalid({group: 'meta.k8s.io', name: 'PatchOptions'}, '', [fieldRequired('fieldManager', 'is required for apply patch')])
      }
      if (!isObject(document)) throw badRequest('apply patch must be an object')
    }
    const ns = this.nsKey(def, namespace)
    const oldStored = this.store.get(def.storageKey, ns, name)
    if (!oldStored) {
      // Server-side apply creates what does not exist; every other patch type needs an object.
      if (type === PatchType.apply && !opts.subresource) {
        const created = this.decode(def, document)
        if (created.metadata.name !== name) {
          throw badRequest(`the name of the object (${created.metadata.name ?? ''}) does not match the name on the URL (${name})`)
        }
        return this.create(def, namespace, created, opts.dryRun)
      }
      throw notFound(resourceOf(def), name)
    }
    const oldView = def.fromStorage(oldStored)
    let patched: unknown
    if (type === PatchType.json) {
      let ops: ReturnType<typeof parseJsonPatch>
      try {
        ops = parseJsonPatch(document)
      } catch (err) {
        throw badRequest(err instanceof Error ? err.message : String(err))
      }
      try {
        patched = applyJsonPatch(oldView, ops)
      } catch (err) {
        if (!(err instanceof PatchApplyError)) throw err
        throw new ApiError(
          failure(422, 'Invalid', 'the server rejected our request due to an error in our request', {
            causes: [{reason: 'UnexpectedServerResponse', message: err.message}],
          }),
        )
      }
    } else {
      if (!isObject(document)) throw badRequest('a merge patch must be a JSON object')
      // Approximation: strategic merge (built-ins) and apply are treated as JSON merge patches.
      patched = mergePatch(oldView, document)
    }
    const obj = this.decode(def, patched)
    if (!obj.metadata.resourceVersion) obj.metadata.resourceVersion = oldView.metadata.resourceVersion
    return this.applyUpdate(def, namespace, name, obj, {subresource: opts.subresource, dryRun: opts.dryRun, fromPatch: true})
  }

  delete(def: ResourceDef, namespace: string | undefined, name: string, options: unknown, dryRun = false): Result {
    const ns = this.nsKey(def, namespace)
    const oldStored = this.store.get(def.storageKey, ns, name)
    if (!oldStored) throw notFound(resourceOf(def), name)
    const pre = isObject(options) && isObject(options.preconditions) ? options.preconditions : {}
    const meta = oldStored.metadata
    if (typeof pre.uid === 'string' && pre.uid !== meta.uid) {
      throw conflict(resourceOf(def), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid ?? ''}`)
    }
    if (typeof pre.resourceVersion === 'string' && pre.resourceVersion !== meta.resourceVersion) {
      throw conflict(
        resourceOf(def),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion ?? ''}`,
      )
    }
    if (dryRun) return {code: 200, body: def.fromStorage(oldStored)}
    if (def.storageKey === 'namespaces') {
      // Simplification: the namespace controller's work (deleting the contents) happens at once.
      this.deleteNamespaceContents(name)
      oldStored.status = {...(isObject(oldStored.status) ? oldStored.status : {}), phase: 'Terminating'}
    }
    if ((meta.finalizers ?? []).length > 0) {
      // Finalizers hold the object: mark it, and the update removing the last one deletes it.
      if (meta.deletionTimestamp === undefined) {
        meta.deletionTimestamp = this.timestamp()
        meta.deletionGracePeriodSeconds = 0
        if (def.generation && meta.generation !== undefined) meta.generation += 1
        return {code: 200, body: def.fromStorage(this.store.write(def.storageKey, oldStored))}
      }
      return {code: 200, body: def.fromStorage(oldStored)}
    }
    if (def.storageKey === 'namespaces') meta.deletionTimestamp = this.timestamp()
    const removed = this.store.remove(def.storageKey, ns, name, oldStored) ?? oldStored
    if (def.returnDeletedObject) return {code: 200, body: def.fromStorage(removed)}
    const details: Record<string, string> = {name}
    if (def.group !== '') details.group = def.group
    details.kind = def.plural
    details.uid = meta.uid ?? ''
    return {code: 200, body: {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details}}
  }

  private deleteNamespaceContents(namespace: string): void {
    const keys = new Set(
      this.opts.registry
        .all()
        .filter((d) => d.namespaced)
        .map((d) => d.storageKey),
    )
    for (const key of keys) {
      for (const obj of this.store.list(key, namespace)) this.store.remove(key, namespace, obj.metadata.name ?? '')
    }
  }

  deleteCollection(def: ResourceDef, namespace: string | undefined, query: ListQuery, options: unknown, dryRun = false): Result {
    const list = this.list(def, namespace, {labelSelector: query.labelSelector, fieldSelector: query.fieldSelector})
    const items = isObject(list.body) && Array.isArray(list.body.items) ? list.body.items : []
    const deleted: unknown[] = []
    for (const item of items) {
      const name = isObject(item) && isObject(item.metadata) ? String(item.metadata.name) : ''
      const ns = isObject(item) && isObject(item.metadata) ? (item.metadata.namespace as string | undefined) : undefined
      const res = this.delete(def, ns ?? namespace, name, options, dryRun)
      deleted.push(res.body)
    }
    return {code: 200, body: {...(list.body as object), items: deleted}}
  }

  parseSelectors(def: ResourceDef, query: ListQuery): Selectors {
    const fields = parseFieldSelector(query.fieldSelector)
    for (const f of fields) {
      if (f.field === 'metadata.name' || f.field === 'metadata.namespace' || f.field in def.selectableFields) continue
      if (def.custom) throw badRequest(`"${f.field}" is not a known field selector: only "metadata.name", "metadata.namespace"`)
      throw badRequest(`field label not supported: ${f.field}`)
    }
    return {labels: parseLabelSelector(query.labelSelector), fields}
  }

  /** Whether a stored object passes the selectors (storage form). */
  matches(def: ResourceDef, sel: Selectors, obj: KubeObject): boolean {
    if (!matchLabels(sel.labels, obj.metadata.labels)) return false
    if (sel.fields.length === 0) return true
    const fields: Record<string, string> = {
      'metadata.name': obj.metadata.name ?? '',
      'metadata.namespace': obj.metadata.namespace ?? '',
    }
    for (const [label, path] of Object.entries(def.selectableFields)) {
      const v = getPath(obj, path)
      fields[label] = v === undefined || v === null ? '' : String(v)
    }
    return matchFields(sel.fields, fields)
  }

  /** View form for a list item: built-in lists carry no apiVersion/kind on their items. */
  listItem(def: ResourceDef, stored: KubeObject): KubeObject {
    const view = def.fromStorage(stored)
    if (!def.custom) {
      delete view.apiVersion
      delete view.kind
    }
    return view
  }

  list(def: ResourceDef, namespace: string | undefined, query: ListQuery): Result {
    const sel = this.parseSelectors(def, query)
    let start = ''
    if (query.continue) {
      let token: unknown
      try {
        token = JSON.parse(Buffer.from(query.continue, 'base64').toString('utf8'))
      } catch {
        throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)')
      }
      if (!isObject(token) || typeof token.start !== 'string' || typeof token.rv !== 'number') {
        throw badRequest('continue key is not valid')
      }
      if (token.rv < this.store.compactedRV()) {
        throw expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        )
      }
      start = token.start
    }
    const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`
    const all = this.store
      .list(def.storageKey, def.namespaced ? namespace : undefined)
      .filter((o) => this.matches(def, sel, o))
      .filter((o) => start === '' || keyOf(o) > start)
    const limit = query.limit === undefined ? 0 : Number.parseInt(query.limit, 10)
    const page = limit > 0 ? all.slice(0, limit) : all
    const rv = this.store.currentRV()
    const metadata: Record<string, unknown> = {resourceVersion: String(rv)}
    if (page.length < all.length) {
      // Simplification: later pages read current state, not a snapshot at the first page's RV.
      metadata.continue = Buffer.from(JSON.stringify({v: 'meta.k8s.io/v1', rv, start: keyOf(page[page.length - 1])})).toString('base64')
      metadata.remainingItemCount = all.length - page.length
    }
    return {
      code: 200,
      body: {
        apiVersion: apiVersionOf(def),
        kind: def.listKind,
        metadata,
        items: page.map((o) => this.listItem(def, o)),
      },
    }
  }

  /**
   * Direct store write, as by another client with full rights: no preconditions and no status
   * isolation, but server-managed metadata, generation and (unless `raw`) pruning/defaulting.
   */
  put(def: ResourceDef, namespace: string | undefined, name: string, input: unknown, raw = false): KubeObject {
    const obj = asKubeObject(clone(input))
    if (!obj) throw new TypeError('put: the object must be a JSON object')
    obj.apiVersion = apiVersionOf(def)
    obj.kind = def.kind
    obj.metadata.name = name
    this.setNamespace(def, namespace, obj.metadata)
    if (!raw) this.normalize(def, obj)
    const ns = this.nsKey(def, namespace)
    const oldStored = this.store.get(def.storageKey, ns, name)
    const oldView = oldStored ? def.fromStorage(oldStored) : undefined
    const m = obj.metadata
    m.uid = oldView?.metadata.uid ?? m.uid ?? randomUUID()
    m.creationTimestamp = oldView?.metadata.creationTimestamp ?? m.creationTimestamp ?? this.timestamp()
    if (def.generation) {
      m.generation = oldView ? (oldView.metadata.generation ?? 1) + (specChanged(def, obj, oldView) ? 1 : 0) : 1
    }
    return def.fromStorage(this.store.write(def.storageKey, def.toStorage(obj)))
  }

  /** Removes an object at once (finalizers ignored). */
  remove(def: ResourceDef, namespace: string | undefined, name: string): boolean {
    return this.store.remove(def.storageKey, this.nsKey(def, namespace), name) !== undefined
  }
}
