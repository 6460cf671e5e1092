// The informer's cache and the rules that turn lists and watch events into ResourceEvents.
// The server has no resourceVersion: `updated_at` is the only order there is, and it changes
// on every write, so "newer" means a later updated_at and "same" means an equal one.
import {compareRfc3339} from '../api/time.js'
import type {ObjectMeta, WatchEvent} from '../api/types.js'
import type {ResourceEvent} from './events.js'

/** Read access to the latest known object of each id, for reconcilers and UIs. */
export interface Lister<T extends ObjectMeta> {
  get(id: string): T | undefined
  list(): T[]
  has(id: string): boolean
  readonly size: number
}

/** How many deleted ids are remembered to stop a late event from resurrecting one. */
const REMEMBERED_DELETIONS = 10_000

export class Store<T extends ObjectMeta> implements Lister<T> {
  private readonly items = new Map<string, T>()
  // Ids are never reused, so an UPDATED arriving after a DELETED is stale, never a new object.
  private readonly deleted = new Set<string>()
  /** Cached ids the last untrusted list lacked: a second list without them deletes them. */
  private unconfirmedAbsent = new Set<string>()

  constructor(readonly resource: string) {}

  get(id: string): T | undefined {
    return this.items.get(id)
  }

  has(id: string): boolean {
    return this.items.has(id)
  }

  list(): T[] {
    return [...this.items.values()]
  }

  get size(): number {
    return this.items.size
  }

  /**
   * Makes the cache equal to a full list, as replace() does, except that with `trustAbsence`
   * false a cached object missing from the list is kept (no DELETED) unless the previous
   * list lacked it too (the informer's list that cannot tell "deleted" from "skipped").
   */
  applyList(objects: readonly T[], options: {trustAbsence: boolean}): ResourceEvent<T>[] {
    let complete: readonly T[] = objects
    const unconfirmed = new Set<string>()
    if (!options.trustAbsence && this.items.size > 0) {
      const listed = new Set<string>()
      for (const o of objects) listed.add(o.id)
      const kept: T[] = []
      for (const [id, cached] of this.items) {
        if (listed.has(id) || this.unconfirmedAbsent.has(id)) continue
        unconfirmed.add(id)
        kept.push(cached)
      }
      if (kept.length > 0) complete = [...objects, ...kept]
    }
    this.unconfirmedAbsent = unconfirmed
    return this.replace(complete)
  }

  /**
   * Applies the events held while a list was read, in order. An object deleted later among
   * them needs no intermediate states: only its deletion.
   */
  applyHeld(events: readonly WatchEvent<T>[]): ResourceEvent<T>[] {
    const deletedLater = new Set<string>()
    for (const event of events) if (event.type === 'DELETED') deletedLater.add(event.id)
    const changes: ResourceEvent<T>[] = []
    for (const event of events) {
      if (event.type !== 'DELETED' && deletedLater.has(event.id)) continue
      const change = this.apply(event)
      if (change) changes.push(change)
    }
    return changes
  }

  /**
   * Makes the cache equal to a complete list and returns the differences: ADDED for new ids,
   * MODIFIED where updated_at differs (a list taken now is newer than anything cached), and
   * DELETED for ids the list no longer has.
   */
  replace(objects: readonly T[]): ResourceEvent<T>[] {
    const events: ResourceEvent<T>[] = []
    // Into an empty cache (the first sync) nothing can be deleted: no need to remember ids.
    const seen = this.items.size > 0 ? new Set<string>() : undefined
    for (const object of objects) {
      seen?.add(object.id)
      const old = this.items.get(object.id)
      if (!old) {
        this.items.set(object.id, object)
        this.deleted.delete(object.id)
        events.push({type: 'ADDED', resource: this.resource, object})
      } else if (compareUpdatedAt(object, old) !== 0) {
        this.items.set(object.id, object)
        events.push({type: 'MODIFIED', resource: this.resource, object, old})
      }
    }
    if (!seen) return events
    for (const [id, object] of this.items) {
      if (seen.has(id)) continue
      this.remove(id)
      events.push({type: 'DELETED', resource: this.resource, object})
    }
    return events
  }

  /**
   * Applies one watch event. CREATED/UPDATED win only when at least as new as the cache, and
   * an equal updated_at is the same state seen twice: no event. DELETED always wins.
   */
  apply(event: WatchEvent<T>): ResourceEvent<T> | undefined {
    if (event.type === 'DELETED') {
      const object = this.items.get(event.id)
      this.remember(event.id)
      if (!object) return undefined
      this.items.delete(event.id)
      return {type: 'DELETED', resource: this.resource, object}
    }
    if (this.deleted.has(event.id)) return undefined
    const object = event.object
    const old = this.items.get(event.id)
    if (!old) {
      this.items.set(event.id, object)
      return {type: 'ADDED', resource: this.resource, object}
    }
    if (compareUpdatedAt(object, old) <= 0) return undefined
    this.items.set(event.id, object)
    return {type: 'MODIFIED', resource: this.resource, object, old}
  }

  private remove(id: string): void {
    this.items.delete(id)
    this.remember(id)
  }

  private remember(id: string): void {
    this.deleted.delete(id)
    this.deleted.add(id)
    if (this.deleted.size > REMEMBERED_DELETIONS) {
      const oldest = this.deleted.values().next().value
      if (oldest !== undefined) this.deleted.delete(oldest)
    }
  }
}

/** Orders by updated_at; an unparsable value counts as different-and-newer so it is not lost. */
function compareUpdatedAt(a: ObjectMeta, b: ObjectMeta): number {
  try {
    return compareRfc3339(a.updated_at, b.updated_at)
  } catch {
    return a.updated_at === b.updated_at ? 0 : 1
  }
}
