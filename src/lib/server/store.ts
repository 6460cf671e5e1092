// The server's state: every resource in memory (see table.ts), optionally written through to
// SQLite, with the business rules both transports share (required fields and names, project
// id = name, unique names, immutable fields, status writes, start/stop transitions, one
// settings object per project) and a typed change feed that the gRPC watch streams follow.
// Every write gets a new, strictly increasing `updated_at`. The store trusts its caller for
// server-set fields (created_by_user_id): the transports fill them from the caller's identity.
import {
  SESSION_PHASES,
  STARTABLE_PHASES,
  STOPPABLE_PHASES,
  type ProjectSettingsSpec,
  type ProjectSpec,
  type SessionSpec,
  type SessionStatusPatch,
  type UserSpec,
  type WatchEventType,
} from '../api/types.js'
import {MicrosecondClock, fromMicros, normalizeRfc3339, toMicros} from '../api/time.js'
import {silentLogger, type Logger} from '../log.js'
import {conflict, notFound, validation} from './errors.js'
import {KsuidGenerator} from './ids.js'
import {SCHEMAS, STATUS_PATCH_FIELDS, STORE_RESOURCES, type StoreResource, type StoreTypes} from './schema.js'
import type {SliceOptions} from './slicer.js'
import type {SqliteBacking, StoredDoc} from './sqlite.js'
import {Table, type TablePage, type TableQuery} from './table.js'
import {checkProjectName, checkRequired} from './validate.js'

export interface CreateInputs {
  sessions: SessionSpec & {created_by_user_id?: string}
  projects: ProjectSpec
  project_settings: ProjectSettingsSpec
  users: UserSpec
}

export interface PatchInputs {
  sessions: Partial<SessionSpec>
  projects: Partial<ProjectSpec>
  project_settings: Partial<ProjectSettingsSpec>
  users: Partial<UserSpec>
}

export interface ChangeEvent {
  type: WatchEventType
  id: string
}
export type ChangeListener = (event: ChangeEvent) => void

export interface StoreOptions {
  /** Prefix of every object's `href`; default /api/ambient/v1. */
  basePath?: string
  /** RFC 3339 microsecond timestamps; the store keeps them strictly increasing. */
  clock?: () => string
  ids?: {next(): string}
  /** Write-through persistence; the store loads its contents on construction. */
  backing?: SqliteBacking
  logger?: Logger
  /**
   * The real server fills llm_model "sonnet", llm_temperature 0.7, llm_max_tokens 4000 on
   * create; default true. (It also always sets kube_cr_name to the new id; that has no switch.)
   */
  llmDefaults?: boolean
}

type Doc = StoredDoc & {kind: string; href: string}

const VALID_PHASES: ReadonlySet<string> = new Set(SESSION_PHASES)
const META_KEYS = ['id', 'kind', 'href', 'created_at', 'updated_at']

export class Store {
  private readonly tables = new Map<StoreResource, Table<Doc>>()
  private readonly listeners = new Map<StoreResource, Set<ChangeListener>>()
  private readonly clock: () => string
  private readonly ids: {next(): string}
  private readonly backing: SqliteBacking | undefined
  private readonly logger: Logger
  private readonly llmDefaults: boolean
  private readonly basePath: string
  private lastMicros = 0n

  constructor(options: StoreOptions = {}) {
    this.basePath = options.basePath ?? '/api/ambient/v1'
    const clock = new MicrosecondClock()
    this.clock = options.clock ?? (() => clock.next())
    this.ids = options.ids ?? new KsuidGenerator()
    this.backing = options.backing
    this.logger = options.logger ?? silentLogger
    this.llmDefaults = options.llmDefaults ?? true
    for (const r of STORE_RESOURCES) {
      const table = new Table<Doc>(SCHEMAS[r].indexed)
      this.tables.set(r, table)
      this.listeners.set(r, new Set())
      for (const doc of this.backing?.load(r) ?? []) {
        table.insert(Object.freeze({...doc, kind: SCHEMAS[r].kind, href: this.href(r, doc.id)}))
        const micros = toMicros(doc.updated_at)
        if (micros > this.lastMicros) this.lastMicros = micros
      }
    }
  }

  // ---- reads ----

  get<R extends StoreResource>(resource: R, id: string): StoreTypes[R] | undefined {
    return this.table(resource).get(id) as StoreTypes[R] | undefined
  }

  list<R extends StoreResource>(resource: R, query: TableQuery): TablePage<StoreTypes[R]> {
    return this.table(resource).list(query) as unknown as TablePage<StoreTypes[R]>
  }

  /** `list` for queries that may be costly (search, orderBy): runs in time slices, see Table.listSliced. */
  listSliced<R extends StoreResource>(resource: R, query: TableQuery, options?: SliceOptions): Promise<TablePage<StoreTypes[R]>> {
    return this.table(resource).listSliced(query, options) as unknown as Promise<TablePage<StoreTypes[R]>>
  }

  count(resource: StoreResource): number {
    return this.table(resource).size
  }

  /** Every object of a resource in insertion order (O(n): tests and tools). */
  all<R extends StoreResource>(resource: R): StoreTypes[R][] {
    return this.table(resource).all() as unknown as StoreTypes[R][]
  }

  // ---- writes ----

  create<R extends StoreResource>(resource: R, input: CreateInputs[R]): StoreTypes[R] {
    const schema = SCHEMAS[resource]
    const fields: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(input)) {
      if (v === undefined) continue
      if (!schema.specFields.has(k) && !schema.serverSetFields.has(k)) throw validation(`${k} cannot be set on create`)
      fields[k] = v
    }
    for (const f of schema.required) checkRequired(f, fields[f])
    if (resource === 'project_settings') this.assertUniqueSettings(String(fields.project_id), undefined)

    let id: string
    if (resource === 'projects') {
      // The real server sets a project's id to its name, so GET /projects/{name} works.
      const name = String(fields.name)
      checkProjectName(name)
      if (this.table('projects').has(name) || this.findBy('projects', 'name', name, undefined)) throw conflict('This Project already exists')
      id = name
    } else {
      id = this.ids.next()
      while (this.table(resource).has(id)) id = this.ids.next()
    }
    if (resource === 'sessions') {
      if (this.llmDefaults) {
        if (typeof fields.llm_model !== 'string' || fields.llm_model === '') fields.llm_model = 'sonnet'
        if (fields.llm_temperature === undefined) fields.llm_temperature = 0.7
        if (fields.llm_max_tokens === undefined) fields.llm_max_tokens = 4000
      }
      // Every session gets a CR name at birth; a CR exists only once kube_cr_uid is written back.
      fields.kube_cr_name = id
    }
    const now = this.nextTimestamp()
    const doc = this.build(resource, {id, created_at: now, updated_at: now}, fields)
    this.write(resource, doc, 'insert')
    this.emit(resource, {type: 'CREATED', id})
    return doc as unknown as StoreTypes[R]
  }

  /** Main-resource update: spec fields only; immutable fields may be repeated but not changed. */
  update<R extends StoreResource>(resource: R, id: string, patch: PatchInputs[R]): StoreTypes[R] {
    const schema = SCHEMAS[resource]
    const current = this.mustGet(resource, id)
    const changes: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue
      if (schema.immutableFields.has(k)) {
        if (v !== current[k])
          throw validation(`${k} is immutable: it is ${JSON.stringify(current[k] ?? null)} and cannot become ${JSON.stringify(v)}`)
        continue
      }
      if (!schema.patchFields.has(k)) throw validation(`${k} cannot be updated through PATCH /${resource}/{id}`)
      changes[k] = v
    }
    for (const f of schema.required) if (f in changes) checkRequired(f, changes[f])
    if (resource === 'projects' && typeof changes.name === 'string') {
      checkProjectName(changes.name)
      if (this.findBy('projects', 'name', changes.name, id)) throw conflict('Changes to Project conflict with existing records')
    }
    if (resource === 'project_settings' && typeof changes.project_id === 'string') this.assertUniqueSettings(changes.project_id, id)
    return this.replace(resource, current, changes) as unknown as StoreTypes[R]
  }

  /** The user with this username, if any (usernames are indexed). */
  findUser(username: string): StoreTypes['users'] | undefined {
    return this.findBy('users', 'username', username, undefined) as StoreTypes['users'] | undefined
  }

  /** The status sub-resource (PATCH /sessions/{id}/status, gRPC UpdateSessionStatus). */
  updateSessionStatus(id: string, patch: SessionStatusPatch): StoreTypes['sessions'] {
    const changes: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue
      if (!STATUS_PATCH_FIELDS.has(k)) throw validation(`${k} is not a status field`)
      changes[k] = k === 'start_time' || k === 'completion_time' ? normalizeRfc3339(String(v)) : v
    }
    if (Object.keys(changes).length === 0) {
      throw validation(`status patch body must set at least one field: ${[...STATUS_PATCH_FIELDS].join(', ')}`)
    }
    const current = this.mustGet('sessions', id)
    if (typeof changes.phase === 'string' && !VALID_PHASES.has(changes.phase)) {
      throw validation(`invalid phase ${JSON.stringify(changes.phase)}; must be one of: ${SESSION_PHASES.join(', ')}`)
    }
    return this.replace('sessions', current, changes) as unknown as StoreTypes['sessions']
  }

  startSession(id: string): StoreTypes['sessions'] {
    const current = this.mustGet('sessions', id)
    const phase = typeof current.phase === 'string' ? current.phase : ''
    if (!STARTABLE_PHASES.has(phase)) {
      throw conflict(`cannot start session in phase ${JSON.stringify(phase)}; must be empty, Stopped, Failed, or Completed`)
    }
    return this.replace('sessions', current, {phase: 'Pending'}) as unknown as StoreTypes['sessions']
  }

  stopSession(id: string): StoreTypes['sessions'] {
    const current = this.mustGet('sessions', id)
    const phase = typeof current.phase === 'string' ? current.phase : ''
    if (!STOPPABLE_PHASES.has(phase)) {
      throw conflict(`cannot stop session in phase ${JSON.stringify(phase)}; must be Running, Creating, or Pending`)
    }
    return this.replace('sessions', current, {phase: 'Stopping'}) as unknown as StoreTypes['sessions']
  }

  delete(resource: StoreResource, id: string): void {
    this.mustGet(resource, id)
    this.backing?.remove(resource, id)
    this.table(resource).delete(id)
    this.emit(resource, {type: 'DELETED', id})
  }

  /** Runs several writes in one SQLite transaction (bulk loads); events are still one per write. */
  transaction<T>(fn: () => T): T {
    return this.backing ? this.backing.transaction(fn) : fn()
  }

  // ---- change feed ----

  /** Calls `listener` after every write of `resource`; returns the unsubscribe function. */
  on(resource: StoreResource, listener: ChangeListener): () => void {
    const set = this.listeners.get(resource) as Set<ChangeListener>
    set.add(listener)
    return () => {
      set.delete(listener)
    }
  }

  listenerCount(resource: StoreResource): number {
    return this.listeners.get(resource)?.size ?? 0
  }

  close(): void {
    this.backing?.close()
  }

  // ---- internals ----

  private table(resource: StoreResource): Table<Doc> {
    const t = this.tables.get(resource)
    if (!t) throw notFound(`unknown resource ${resource}`)
    return t
  }

  private mustGet(resource: StoreResource, id: string): Doc {
    const doc = this.table(resource).get(id)
    if (!doc) throw notFound(`${SCHEMAS[resource].kind} with id='${id}' not found`)
    return doc
  }

  private href(resource: StoreResource, id: string): string {
    return `${this.basePath}/${resource}/${id}`
  }

  private assertUniqueSettings(projectId: string, selfId: string | undefined): void {
    if (this.findBy('project_settings', 'project_id', projectId, selfId)) throw conflict('This ProjectSettings already exists')
  }

  /** Another object (not `selfId`) whose indexed `field` equals `value`. */
  private findBy(resource: StoreResource, field: string, value: string, selfId: string | undefined): Doc | undefined {
    return this.table(resource)
      .list({page: 1, size: 2, equals: {field, value}})
      .items.find((d) => d.id !== selfId)
  }

  /** Meta first, then fields in schema order: stable, readable JSON. */
  private build(resource: StoreResource, meta: {id: string; created_at: string; updated_at: string}, fields: Record<string, unknown>): Doc {
    const schema = SCHEMAS[resource]
    const doc: Record<string, unknown> = {
      id: meta.id,
      kind: schema.kind,
      href: this.href(resource, meta.id),
      created_at: meta.created_at,
      updated_at: meta.updated_at,
    }
    for (const name of schema.fields.keys()) {
      if (!META_KEYS.includes(name) && fields[name] !== undefined) doc[name] = fields[name]
    }
    return Object.freeze(doc) as Doc
  }

  private replace(resource: StoreResource, current: Doc, changes: Record<string, unknown>): Doc {
    const merged: Record<string, unknown> = {...current, ...changes}
    const doc = this.build(resource, {id: current.id, created_at: current.created_at, updated_at: this.nextTimestamp()}, merged)
    this.write(resource, doc, 'replace')
    this.emit(resource, {type: 'UPDATED', id: current.id})
    return doc
  }

  private write(resource: StoreResource, doc: Doc, mode: 'insert' | 'replace'): void {
    if (this.backing) {
      // kind and href are derived on load, so the stored document carries only data.
      const {kind: _kind, href: _href, ...stored} = doc
      this.backing.put(resource, stored)
    }
    if (mode === 'insert') this.table(resource).insert(doc)
    else this.table(resource).replace(doc)
  }

  private nextTimestamp(): string {
    let micros = toMicros(this.clock())
    if (micros <= this.lastMicros) micros = this.lastMicros + 1n
    this.lastMicros = micros
    return fromMicros(micros)
  }

  private emit(resource: StoreResource, event: ChangeEvent): void {
    for (const listener of [...(this.listeners.get(resource) ?? [])]) {
      try {
        listener(event)
      } catch (err) {
        this.logger.error({err, resource, event}, 'change listener failed')
      }
    }
  }
}
