// One resource's objects in memory, in insertion order. Deletes leave tombstones that are
// compacted lazily on the next read, so a delete is O(1) and an unfiltered page is an O(page)
// slice; equality indexes (sessions by project_id) make project-scoped pages O(page) too.
// Filtered or sorted candidate lists are cached per (query, table version), so walking every
// page of a large filtered or sorted list costs one scan, not one per page. `listSliced` does
// that scan and sort in time slices (slicer.ts) over a snapshot of the table, so a costly query
// on a large table never keeps other requests waiting.
import type {Predicate} from './search.js'
import {Slicer, sortSliced, type SliceOptions} from './slicer.js'

export interface SortKey {
  field: string
  desc: boolean
}

export interface TableQuery {
  page: number
  size: number
  /** Equality filter served by an index (falls back to a scan for unindexed fields). */
  equals?: {field: string; value: string}
  filter?: Predicate
  /** Canonical text of `filter`, for the cache key. */
  filterKey?: string
  orderBy?: readonly SortKey[]
}

export interface TablePage<T> {
  items: T[]
  total: number
}

type Doc = Readonly<Record<string, unknown>>

class OrderedIds {
  ids: string[] = []
  tombstones = 0
}

const CACHE_ENTRIES = 8

export class Table<T extends {id: string}> {
  private readonly byId = new Map<string, T>()
  private readonly order = new OrderedIds()
  /** field -> value -> ids in insertion order. */
  private readonly indexes = new Map<string, Map<string, OrderedIds>>()
  private version = 0
  private readonly cache = new Map<string, {version: number; ids: string[]}>()

  constructor(indexedFields: readonly string[]) {
    for (const f of indexedFields) this.indexes.set(f, new Map())
  }

  get size(): number {
    return this.byId.size
  }

  get(id: string): T | undefined {
    return this.byId.get(id)
  }

  has(id: string): boolean {
    return this.byId.has(id)
  }

  /** Every object in insertion order (for persistence and tests; O(n)). */
  all(): T[] {
    this.compact(this.order, (id) => this.byId.has(id))
    return this.order.ids.map((id) => this.byId.get(id) as T)
  }

  insert(obj: T): void {
    if (this.byId.has(obj.id)) throw new Error(`duplicate id ${obj.id}`)
    this.byId.set(obj.id, obj)
    this.order.ids.push(obj.id)
    for (const [field, index] of this.indexes) {
      const value = indexValue(obj, field)
      if (value !== undefined) bucket(index, value).ids.push(obj.id)
    }
    this.version++
  }

  /** Replaces an object; an index moves when its field changed (appended: insertion order within the bucket is by move time). */
  replace(obj: T): void {
    const old = this.byId.get(obj.id)
    if (!old) throw new Error(`unknown id ${obj.id}`)
    this.byId.set(obj.id, obj)
    for (const [field, index] of this.indexes) {
      const before = indexValue(old, field)
      const after = indexValue(obj, field)
      if (before === after) continue
      if (before !== undefined) bucket(index, before).tombstones++
      if (after !== undefined) {
        const b = bucket(index, after)
        // The id may still sit in this bucket as a tombstone from an earlier move: compact first.
        this.compact(b, (id) => indexValue(this.byId.get(id), field) === after && id !== obj.id)
        b.ids.push(obj.id)
      }
    }
    this.version++
  }

  delete(id: string): T | undefined {
    const old = this.byId.get(id)
    if (!old) return undefined
    this.byId.delete(id)
    this.order.tombstones++
    for (const [field, index] of this.indexes) {
      const value = indexValue(old, field)
      if (value !== undefined) bucket(index, value).tombstones++
    }
    this.version++
    return old
  }

  list(q: TableQuery): TablePage<T> {
    const ids = this.candidates(q)
    const start = (q.page - 1) * q.size
    const items: T[] = []
    for (const id of ids.slice(start, start + q.size)) items.push(this.byId.get(id) as T)
    return {items, total: ids.length}
  }

  /**
   * The same page as `list`, but a filtered or sorted query runs in time slices, pausing so that
   * other work goes on. It evaluates a snapshot of the table as of the call (objects are frozen
   * and replaced on write), so writes made meanwhile never mix into its answer.
   */
  async listSliced(q: TableQuery, options: SliceOptions = {}): Promise<TablePage<T>> {
    if (!q.filter && !q.orderBy?.length) return this.list(q)
    const key = cacheKey(q)
    const hit = this.cache.get(key)
    if (hit && hit.version === this.version) return this.list(q)

    const version = this.version
    const slicer = new Slicer(options)
    let rows = this.baseIds(q.equals).map((id) => this.byId.get(id) as T)
    if (q.filter) rows = await filterSliced(rows, q.filter, slicer)
    if (q.orderBy?.length) rows = await this.sortedSliced(rows, q.orderBy, slicer)
    // Cached only if still current: a write during the scan makes this answer a past one.
    if (this.version === version)
      this.remember(
        key,
        rows.map((r) => r.id),
      )
    const start = (q.page - 1) * q.size
    return {items: rows.slice(start, start + q.size), total: rows.length}
  }

  private candidates(q: TableQuery): readonly string[] {
    const base = this.baseIds(q.equals)
    if (!q.filter && !q.orderBy?.length) return base

    const key = cacheKey(q)
    const hit = this.cache.get(key)
    if (hit && hit.version === this.version) return hit.ids

    let ids = q.filter ? base.filter((id) => (q.filter as Predicate)(this.byId.get(id) as unknown as Doc)) : base.slice()
    if (q.orderBy?.length) ids = this.sorted(ids, q.orderBy)
    this.remember(key, ids)
    return ids
  }

  private remember(key: string, ids: string[]): void {
    this.cache.delete(key)
    this.cache.set(key, {version: this.version, ids})
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string)
  }

  private baseIds(equals: TableQuery['equals']): readonly string[] {
    if (!equals) {
      this.compact(this.order, (id) => this.byId.has(id))
      return this.order.ids
    }
    const index = this.indexes.get(equals.field)
    if (!index) {
      this.compact(this.order, (id) => this.byId.has(id))
      return this.order.ids.filter((id) => indexValue(this.byId.get(id), equals.field) === equals.value)
    }
    const b = index.get(equals.value)
    if (!b) return []
    this.compact(b, (id) => indexValue(this.byId.get(id), equals.field) === equals.value)
    return b.ids
  }

  private sorted(ids: string[], orderBy: readonly SortKey[]): string[] {
    // Stable sort with insertion order as the final tie-break. NULLs sort last ascending and
    // first descending, as in Postgres.
    const rows = ids.map((id, pos) => ({pos, doc: this.byId.get(id) as unknown as Doc, id}))
    rows.sort((a, b) => compareDocs(a.doc, b.doc, orderBy) || a.pos - b.pos)
    return rows.map((r) => r.id)
  }

  /** `sorted` in time slices; a stable merge sort keeps insertion order on ties. */
  private sortedSliced(rows: readonly T[], orderBy: readonly SortKey[], slicer: Slicer): Promise<T[]> {
    return sortSliced(rows, (a, b) => compareDocs(a as unknown as Doc, b as unknown as Doc, orderBy), slicer)
  }

  private compact(list: OrderedIds, live: (id: string) => boolean): void {
    if (list.tombstones === 0) return
    const seen = new Set<string>()
    list.ids = list.ids.filter((id) => {
      if (seen.has(id) || !live(id)) return false
      seen.add(id)
      return true
    })
    list.tombstones = 0
  }
}

function cacheKey(q: TableQuery): string {
  return JSON.stringify([q.equals ?? null, q.filterKey ?? null, q.orderBy ?? null])
}

/** The objects that pass `filter`, in order, pausing between objects and inside costly ones. */
async function filterSliced<T>(rows: readonly T[], filter: Predicate, slicer: Slicer): Promise<T[]> {
  const out: T[] = []
  for (const [i, row] of rows.entries()) {
    const doc = row as unknown as Doc
    const steps = filter.steps(doc)
    if (steps) {
      for (let r = steps.next(); !r.done; r = steps.next()) if (slicer.due()) await slicer.pause()
    }
    if (filter(doc)) out.push(row)
    if ((i & 15) === 15 && slicer.due()) await slicer.pause()
  }
  return out
}

function compareDocs(a: Doc, b: Doc, orderBy: readonly SortKey[]): number {
  for (const {field, desc} of orderBy) {
    const c = compareValues(a[field], b[field])
    if (c !== 0) return desc ? -c : c
  }
  return 0
}

function bucket(index: Map<string, OrderedIds>, value: string): OrderedIds {
  let b = index.get(value)
  if (!b) {
    b = new OrderedIds()
    index.set(value, b)
  }
  return b
}

function indexValue(obj: object | undefined, field: string): string | undefined {
  const v = obj ? (obj as Doc)[field] : undefined
  return typeof v === 'string' ? v : undefined
}

/** Absent values compare greater than any value (NULLS LAST ascending). */
function compareValues(a: unknown, b: unknown): number {
  const aMissing = a === undefined || a === null
  const bMissing = b === undefined || b === null
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1
  if (typeof a === 'number' && typeof b === 'number') return a - b
  const sa = String(a)
  const sb = String(b)
  return sa < sb ? -1 : sa > sb ? 1 : 0
}
