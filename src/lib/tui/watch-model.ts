// The state behind `ambient watch`: the latest version of every object seen on a watch
// stream, which rows are still highlighted after a change, and a bounded event log. Plain
// TypeScript with an injected clock, so the view stays a pure function of it.
import type {ConnectionState, WatchChange, WatchLogLine, WatchRow} from './model.js'

/** The fields the view shows; a Session or a Project from the API fits as is. */
export interface WatchObject {
  id: string
  name?: string
  phase?: string
  project_id?: string
  created_at?: string
  updated_at?: string
}

/**
 * One change. Both vocabularies are accepted: informer-style ADDED/MODIFIED/DELETED and the
 * API's CREATED/UPDATED/DELETED, whose DELETED carries only `id`.
 */
export interface WatchModelEvent {
  type: WatchChange | 'CREATED' | 'UPDATED'
  id?: string
  object?: WatchObject
}

export interface WatchFilters {
  /** Exact project id. */
  project?: string
  /** A phase, or several separated by commas; case-insensitive. */
  phase?: string
  /** Substring of the name, or a glob (`*`, `?`) matched against the whole name; case-insensitive. */
  name?: string
}

export type WatchSort = 'name' | 'created'

export interface WatchModelOptions {
  filters?: WatchFilters
  sortBy?: WatchSort
  /** Log lines kept; older ones are dropped. */
  logLimit?: number
  /** How long a changed row stays highlighted (and a deleted row stays visible). */
  highlightMs?: number
  now?: () => number
}

export interface WatchCounts {
  /** Live (not deleted) objects passing the filters. */
  shown: number
  /** Live objects seen, filters ignored. */
  total: number
  byPhase: Record<string, number>
  /** Events that passed the filters since the model was created. */
  events: Record<WatchChange, number>
}

interface Entry extends WatchRow {
  /** Until this instant the row is highlighted; a DELETED row disappears then. */
  highlightUntil: number
}

export class WatchModel {
  readonly highlightMs: number
  readonly logLimit: number
  private filterSpec: WatchFilters
  private sortBy: WatchSort
  private readonly now: () => number
  private readonly entries = new Map<string, Entry>()
  private lines: WatchLogLine[] = []
  private readonly listeners = new Set<() => void>()
  private version = 0
  private eventCounts: Record<WatchChange, number> = {ADDED: 0, MODIFIED: 0, DELETED: 0}
  private connectionState: ConnectionState | undefined
  private lastErrorText: string | undefined

  constructor(options: WatchModelOptions = {}) {
    this.filterSpec = {...options.filters}
    this.sortBy = options.sortBy ?? 'name'
    this.logLimit = Math.max(1, options.logLimit ?? 200)
    this.highlightMs = Math.max(0, options.highlightMs ?? 2000)
    this.now = options.now ?? Date.now
  }

  /**
   * Applies one change. `initial` marks objects of the first list: they are stored without a
   * highlight or a log line, so starting a watch does not flash every row.
   */
  apply(event: WatchModelEvent, options: {initial?: boolean} = {}): void {
    const type = normaliseType(event.type)
    const id = event.object?.id ?? event.id
    if (!id) return
    const at = this.now()
    const previous = this.entries.get(id)
    const object = event.object
    const next: Entry = {
      id,
      name: object?.name ?? previous?.name ?? '',
      phase: object?.phase ?? previous?.phase,
      project: object?.project_id ?? previous?.project,
      createdAt: object?.created_at ?? previous?.createdAt,
      updatedAt: object?.updated_at ?? previous?.updatedAt,
      lastChange: type,
      changedAt: at,
      highlightUntil: options.initial ? at : at + this.highlightMs,
    }
    if (type === 'DELETED' && !previous && !object) {
      // Deleted before we ever saw it: nothing for the table. Without filters the log says so;
      // with filters we cannot tell whether it would have matched.
      this.record({at, type, id}, !this.hasFilters())
      return
    }
    if (type === 'DELETED' && options.initial) this.entries.delete(id)
    else this.entries.set(id, next)
    if (!options.initial) {
      const relevant = this.matches(next) || (previous !== undefined && this.matches(previous))
      this.record({at, type, id, name: next.name || undefined, detail: describe(type, previous, next)}, relevant)
      return
    }
    this.changed()
  }

  /** Visible rows: filtered, sorted, highlight computed; expired DELETED rows are dropped. */
  rows(now = this.now()): WatchRow[] {
    this.prune(now)
    const rows: WatchRow[] = []
    for (const entry of this.entries.values()) {
      if (!this.matches(entry)) continue
      const {highlightUntil, ...row} = entry
      rows.push({...row, highlighted: now < highlightUntil})
    }
    return rows.sort(this.sortBy === 'created' ? byCreated : byName)
  }

  /** The newest log lines, oldest first. */
  log(): readonly WatchLogLine[] {
    return this.lines
  }

  counts(now = this.now()): WatchCounts {
    this.prune(now)
    const byPhase: Record<string, number> = {}
    let shown = 0
    let total = 0
    for (const entry of this.entries.values()) {
      if (entry.lastChange === 'DELETED') continue
      total++
      if (!this.matches(entry)) continue
      shown++
      const phase = entry.phase || '<none>'
      byPhase[phase] = (byPhase[phase] ?? 0) + 1
    }
    return {shown, total, byPhase, events: {...this.eventCounts}}
  }

  get filters(): Readonly<WatchFilters> {
    return this.filterSpec
  }

  setFilters(filters: WatchFilters): void {
    this.filterSpec = {...filters}
    this.changed()
  }

  setSort(sortBy: WatchSort): void {
    this.sortBy = sortBy
    this.changed()
  }

  get connection(): ConnectionState | undefined {
    return this.connectionState
  }

  get lastError(): string | undefined {
    return this.lastErrorText
  }

  /** The watch loop reports its connection here; the status line shows it. */
  setConnection(state: ConnectionState, lastError?: string): void {
    if (state === this.connectionState && lastError === this.lastErrorText) return
    this.connectionState = state
    this.lastErrorText = lastError
    this.changed()
  }

  /** The row would pass the current filters (exported for the view's "N of M" line). */
  matches(row: Pick<WatchRow, 'name' | 'phase' | 'project'>): boolean {
    const {project, phase, name} = this.filterSpec
    if (project && row.project !== project) return false
    if (phase) {
      const wanted = phase
        .split(',')
        .map((p) => p.trim().toLowerCase())
        .filter(Boolean)
      if (wanted.length > 0 && !wanted.includes((row.phase ?? '').toLowerCase())) return false
    }
    if (name && !nameMatches(row.name, name)) return false
    return true
  }

  /** For useSyncExternalStore: arrow properties so they can be passed unbound. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  readonly getVersion = (): number => this.version

  private record(line: WatchLogLine, relevant: boolean): void {
    if (relevant) {
      this.eventCounts[line.type]++
      this.lines.push(line)
      if (this.lines.length > this.logLimit) this.lines = this.lines.slice(-this.logLimit)
    }
    this.changed()
  }

  private hasFilters(): boolean {
    const {project, phase, name} = this.filterSpec
    return Boolean(project || phase || name)
  }

  private prune(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.lastChange === 'DELETED' && now >= entry.highlightUntil) this.entries.delete(id)
    }
  }

  private changed(): void {
    this.version++
    // A listener may unsubscribe while we dispatch: iterate over a copy.
    for (const listener of [...this.listeners]) listener()
  }
}

function normaliseType(type: WatchModelEvent['type']): WatchChange {
  if (type === 'CREATED') return 'ADDED'
  if (type === 'UPDATED') return 'MODIFIED'
  return type
}

function describe(type: WatchChange, previous: WatchRow | undefined, next: WatchRow): string | undefined {
  if (type === 'ADDED') return next.phase ? `phase ${next.phase}` : undefined
  if (type === 'MODIFIED' && previous && previous.phase !== next.phase) {
    return `phase ${previous.phase || '<none>'} → ${next.phase || '<none>'}`
  }
  if (type === 'DELETED' && next.phase) return `was ${next.phase}`
  return undefined
}

function nameMatches(name: string, pattern: string): boolean {
  const subject = name.toLowerCase()
  const wanted = pattern.toLowerCase()
  if (!/[*?]/.test(wanted)) return subject.includes(wanted)
  const source = wanted
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${source}$`, 's').test(subject)
}

function byName(a: WatchRow, b: WatchRow): number {
  // Numeric collation: "run-2" before "run-10".
  return a.name.localeCompare(b.name, undefined, {numeric: true}) || a.id.localeCompare(b.id)
}

function byCreated(a: WatchRow, b: WatchRow): number {
  const ta = createdMs(a)
  const tb = createdMs(b)
  if (ta !== tb) return ta < tb ? -1 : 1
  return byName(a, b)
}

/** Rows without a parseable creation time sort last. */
function createdMs(row: WatchRow): number {
  const t = row.createdAt ? Date.parse(row.createdAt) : Number.NaN
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t
}
