// Shared by the informer and controller tests: event recording and cache/store comparison.
import {expect} from 'vitest'
import {compareRfc3339} from '../../src/lib/api/time.js'
import type {ObjectMeta} from '../../src/lib/api/types.js'
import type {ResourceEvent} from '../../src/lib/informer/events.js'
import type {Informer} from '../../src/lib/informer/informer.js'

export function record<T extends ObjectMeta>(informer: Informer<T>): ResourceEvent<T>[] {
  const events: ResourceEvent<T>[] = []
  informer.on((e) => events.push(e))
  return events
}

export function cacheOf<T extends ObjectMeta>(informer: Informer<T>): Map<string, T> {
  return new Map(informer.list().map((o) => [o.id, o]))
}

/** Polls until the informer's cache holds exactly the server's objects. */
export async function untilCacheEquals<T extends ObjectMeta>(informer: Informer<T>, expected: () => Map<string, T>): Promise<void> {
  await expect.poll(() => sortedEntries(cacheOf(informer)), {timeout: 20_000, interval: 5}).toEqual(sortedEntries(expected()))
}

export function sortedEntries<T>(map: Map<string, T>): [string, T][] {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * Applies events to `start` as a subscriber would, checking each is consistent with what the
 * subscriber saw before (MODIFIED.old and DELETED.object are the previous state, ADDED is new,
 * MODIFIED moves updated_at forward). Returns the resulting state.
 */
export function replay<T extends ObjectMeta>(events: readonly ResourceEvent<T>[], start = new Map<string, T>()): Map<string, T> {
  const state = new Map(start)
  for (const e of events) {
    const previous = state.get(e.object.id)
    switch (e.type) {
      case 'ADDED':
        expect(previous, `ADDED ${e.object.id} twice`).toBeUndefined()
        state.set(e.object.id, e.object)
        break
      case 'MODIFIED':
        expect(e.old, `MODIFIED ${e.object.id}: old is the previous state`).toEqual(previous)
        expect(compareRfc3339(e.object.updated_at, e.old.updated_at), `MODIFIED ${e.object.id} moves forward`).toBeGreaterThan(0)
        state.set(e.object.id, e.object)
        break
      case 'DELETED':
        expect(e.object, `DELETED ${e.object.id}: last state`).toEqual(previous)
        state.delete(e.object.id)
        break
    }
  }
  return state
}

/** The one event per id that turns `before` into `after`, sorted by id. */
export function netEvents<T extends ObjectMeta>(resource: string, before: Map<string, T>, after: Map<string, T>): ResourceEvent<T>[] {
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort()
  const out: ResourceEvent<T>[] = []
  for (const id of ids) {
    const b = before.get(id)
    const a = after.get(id)
    if (!b && a) out.push({type: 'ADDED', resource, object: a})
    else if (b && !a) out.push({type: 'DELETED', resource, object: b})
    else if (a && b && a.updated_at !== b.updated_at) out.push({type: 'MODIFIED', resource, object: a, old: b})
  }
  return out
}

export function sortById<T extends ObjectMeta>(events: readonly ResourceEvent<T>[]): ResourceEvent<T>[] {
  return [...events].sort((x, y) => (x.object.id < y.object.id ? -1 : x.object.id > y.object.id ? 1 : 0))
}

/** A deterministic PRNG so chaos tests replay the same way. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A gate tests open by hand: `delay` parks reconnects until the test lets them go. */
export class Gate {
  private waiters: (() => void)[] = []
  private isOpen = false
  parked = 0

  wait(signal: AbortSignal): Promise<void> {
    if (this.isOpen || signal.aborted) return Promise.resolve()
    this.parked++
    return new Promise((resolve) => {
      let settled = false
      const done = (): void => {
        if (settled) return
        settled = true
        this.parked--
        resolve()
      }
      this.waiters.push(done)
      signal.addEventListener('abort', done, {once: true})
    })
  }

  open(): void {
    this.isOpen = true
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  close(): void {
    this.isOpen = false
  }
}
