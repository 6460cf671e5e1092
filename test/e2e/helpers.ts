// Shared by the end-to-end tests: the embedded API server on ephemeral ports, real REST/gRPC
// clients with a fetch that counts (and can act on) every request, per-resource writers that
// know which informer event each of their changes must end in, and polling waits.
import {expect} from 'vitest'
import {GrpcClient} from '../../src/lib/api/grpc.js'
import {RestClient} from '../../src/lib/api/rest.js'
import type {ObjectMeta, ResourceName, WatchEvent} from '../../src/lib/api/types.js'
import type {ResourceEvent, ResourceEventType} from '../../src/lib/informer/events.js'
import type {Informer, InformerStatus} from '../../src/lib/informer/informer.js'
import type {ResourceSource} from '../../src/lib/api/watch-source.js'
import {startApiServer, type ApiServer, type ApiServerOptions, type Store} from '../../src/lib/server/index.js'

export const TOKEN = 'e2e-test-token'

export function startServer(options: Partial<ApiServerOptions> = {}): Promise<ApiServer> {
  return startApiServer({host: '127.0.0.1', port: 0, grpcPort: 0, token: TOKEN, ...options})
}

export {waitFor} from '../helpers/wait.js'

export interface PageRequest {
  resource: string
  page: number
  size: number
}

/**
 * The real fetch, counting list-page requests. `afterPage` runs once a page's response has
 * arrived and before the client sees it: a test can change the server between two pages.
 */
export function countingFetch() {
  const pages: PageRequest[] = []
  let afterPage: ((request: PageRequest) => void | Promise<void>) | undefined
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const method = init?.method ?? 'GET'
    const resource = url.pathname.split('/').pop() ?? ''
    const page = url.searchParams.get('page')
    const request: PageRequest | undefined =
      method === 'GET' && page !== null ? {resource, page: Number(page), size: Number(url.searchParams.get('size'))} : undefined
    if (request) pages.push(request)
    const response = await fetch(input, init)
    if (request) await afterPage?.(request)
    return response
  }
  return {
    fetch: wrapped,
    pages,
    /** Replaces the page hook (undefined removes it). */
    onPage(hook: ((request: PageRequest) => void | Promise<void>) | undefined): void {
      afterPage = hook
    },
  }
}

export interface Clients {
  rest: RestClient
  grpc: GrpcClient
  close(): void
}

export function clients(server: ApiServer, fetchImpl?: typeof fetch): Clients {
  const rest = new RestClient({baseUrl: server.url, basePath: server.basePath, token: () => TOKEN, ...(fetchImpl && {fetch: fetchImpl})})
  const grpc = new GrpcClient({address: server.grpcAddress, tls: false, token: () => TOKEN})
  return {rest, grpc, close: () => grpc.close()}
}

/**
 * The same source, with a record of the last watch event that went through to the informer
 * (the `sent` hint is passed on). Lets a test hold a list page until the watch has
 * delivered a given change, so that change is sure to reach the informer's replay buffer.
 */
export function observedSource<T extends ObjectMeta>(source: ResourceSource<T>) {
  const delivered = new Map<string, string>()
  const out: ResourceSource<T> = {resource: source.resource, list: (signal) => source.list(signal)}
  const watch = source.watch
  if (watch) {
    out.watch = (signal) => {
      const inner = watch.call(source, signal)
      async function* relay(): AsyncGenerator<WatchEvent<T>> {
        for await (const event of inner) {
          delivered.set(event.id, event.type === 'DELETED' ? 'DELETED' : event.object.updated_at)
          yield event
        }
      }
      const relayed = relay()
      return inner.sent ? Object.assign(relayed, {sent: inner.sent}) : relayed
    }
  }
  return {
    source: out,
    /** Whether the watch has delivered `id` at this updated_at (or its deletion). */
    delivered: (id: string, updatedAtOrDeleted: string) => delivered.get(id) === updatedAtOrDeleted,
  }
}

/** id -> updated_at of every object the server holds. */
export function serverState(store: Store, resource: ResourceName): Map<string, string> {
  return new Map(store.all(resource).map((o) => [o.id, o.updated_at]))
}

/** id -> updated_at of every object the informer holds. */
export function cacheState<T extends ObjectMeta>(informer: Informer<T>): Map<string, string> {
  return new Map(informer.list().map((o) => [o.id, o.updated_at]))
}

export function sameState(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false
  for (const [id, updatedAt] of a) if (b.get(id) !== updatedAt) return false
  return true
}

/** '' when the states are equal, else a readable difference. */
export function stateDiff(cache: Map<string, string>, server: Map<string, string>): string {
  return sameState(cache, server) ? '' : describeDiff(cache, server)
}

/** A readable difference between two states, for failure messages. */
export function describeDiff(cache: Map<string, string>, server: Map<string, string>): string {
  const missing = [...server.keys()].filter((id) => !cache.has(id))
  const extra = [...cache.keys()].filter((id) => !server.has(id))
  const stale = [...server].filter(([id, at]) => cache.has(id) && cache.get(id) !== at).map(([id]) => id)
  return `cache ${cache.size} vs server ${server.size}: missing ${JSON.stringify(missing.slice(0, 5))} (${missing.length}), extra ${JSON.stringify(extra.slice(0, 5))} (${extra.length}), stale ${JSON.stringify(stale.slice(0, 5))} (${stale.length})`
}

/** Every event an informer delivers, and every status it reports, in order. */
export function recordInformer<T extends ObjectMeta>(informer: Informer<T>) {
  const events: ResourceEvent<T>[] = []
  const statuses: InformerStatus[] = []
  informer.on((event) => events.push(event))
  informer.onStatus((status) => statuses.push(status))
  return {events, statuses}
}

/**
 * Replays events as a subscriber would and checks each against what came before: ADDED for
 * an absent id, MODIFIED.old and DELETED.object equal to the previous state. Returns the
 * state the events lead to (id -> updated_at).
 */
export function replayEvents<T extends ObjectMeta>(events: readonly ResourceEvent<T>[]): Map<string, string> {
  const state = new Map<string, T>()
  for (const [i, e] of events.entries()) {
    const previous = state.get(e.object.id)
    if (e.type === 'ADDED') {
      expect(previous, `event ${i}: ADDED ${e.object.id} while cached`).toBeUndefined()
      state.set(e.object.id, e.object)
    } else if (e.type === 'MODIFIED') {
      expect(e.old, `event ${i}: MODIFIED ${e.object.id}: old is the previous state`).toBe(previous)
      expect(e.object.updated_at > e.old.updated_at, `event ${i}: MODIFIED ${e.object.id} moves updated_at forward`).toBe(true)
      state.set(e.object.id, e.object)
    } else {
      expect(e.object, `event ${i}: DELETED ${e.object.id}: the last state`).toBe(previous)
      state.delete(e.object.id)
    }
  }
  return new Map([...state].map(([id, o]) => [id, o.updated_at]))
}

/** What the last informer event about an id must be; NONE: no event, or a DELETED. */
export type Expected = ResourceEventType | 'NONE'

/** How the tests create and change objects of one resource directly in the server's store. */
export interface ResourceWriter {
  resource: ResourceName
  create(n: number): string
  modify(id: string, n: number): void
  /** A second kind of write where the resource has one (the session status sub-resource). */
  modifyOther?(id: string, n: number): void
}

let serial = 0

export function writers(store: Store): Record<ResourceName, ResourceWriter> {
  return {
    sessions: {
      resource: 'sessions',
      create: (n) => store.create('sessions', {name: `e2e-${n}`, prompt: `prompt ${n}`, project_id: `project-${n % 7}`}).id,
      modify: (id, n) => void store.update('sessions', id, {prompt: `changed ${n}`, labels: JSON.stringify({round: n})}),
      modifyOther: (id, n) => void store.updateSessionStatus(id, {phase: n % 2 === 0 ? 'Running' : 'Pending', sdk_restart_count: n}),
    },
    projects: {
      resource: 'projects',
      create: (n) => store.create('projects', {name: `e2e-project-${n}`, description: `project ${n}`}).id,
      modify: (id, n) => void store.update('projects', id, {description: `changed ${n}`}),
    },
    project_settings: {
      resource: 'project_settings',
      // project_id is unique per settings object: a fresh one per create.
      create: (n) => store.create('project_settings', {project_id: `settings-project-${n}-${++serial}`, repositories: '[]'}).id,
      modify: (id, n) => void store.update('project_settings', id, {group_access: JSON.stringify([{group: `g${n}`, role: 'edit'}])}),
    },
  }
}

export interface BatchPlan {
  creates: number
  createAndModify: number
  createAndDelete: number
  modifies: number
  modifyTwice: number
  /** Deletes of objects that existed before the round (0 where a delete could shift list pages). */
  deletes: number
  modifyAndDelete: number
}

export const FULL_BATCH: BatchPlan = {creates: 4, createAndModify: 2, createAndDelete: 2, modifies: 4, modifyTwice: 2, deletes: 3, modifyAndDelete: 2}
export const NO_DELETES_OF_EXISTING: BatchPlan = {...FULL_BATCH, deletes: 0, modifyAndDelete: 0}

/**
 * One round of changes to a resource, in several synchronous batches. Each id is touched by
 * one batch only, so what its last event must be is known: created (and maybe modified) ->
 * ADDED, existing and modified -> MODIFIED, existing and deleted -> DELETED, created and
 * deleted -> nothing (or DELETED after an ADDED).
 */
export class Round {
  readonly expected = new Map<string, Expected>()
  private n = 0

  constructor(
    private readonly store: Store,
    private readonly writer: ResourceWriter,
    private readonly seq: {next: number},
  ) {}

  /**
   * Applies one batch; `existing` are ids that predate the round (not yet touched by it).
   * Returns the id written last if it still exists (undefined when the batch ends in a delete).
   */
  batch(plan: BatchPlan): string | undefined {
    let last: string | undefined
    const w = this.writer
    const next = () => this.seq.next++
    const existing = this.store
      .all(w.resource)
      .map((o) => o.id)
      .filter((id) => !this.expected.has(id))
    // Spread the picks over the whole list (so over every page), deterministically.
    const pick = (): string => {
      const candidates = existing.filter((id) => !this.expected.has(id))
      if (candidates.length === 0) throw new Error(`no untouched ${w.resource} left to change`)
      return candidates[(this.n++ * 7919) % candidates.length]
    }
    for (let i = 0; i < plan.creates; i++) this.expected.set(w.create(next()), 'ADDED')
    for (let i = 0; i < plan.createAndModify; i++) {
      const id = w.create(next())
      w.modify(id, next())
      this.expected.set(id, 'ADDED')
    }
    for (let i = 0; i < plan.createAndDelete; i++) {
      const id = w.create(next())
      this.store.delete(w.resource, id)
      this.expected.set(id, 'NONE')
    }
    for (let i = 0; i < plan.modifies; i++) {
      const id = pick()
      if (w.modifyOther && i % 2 === 1) w.modifyOther(id, next())
      else w.modify(id, next())
      this.expected.set(id, 'MODIFIED')
      last = id
    }
    for (let i = 0; i < plan.modifyTwice; i++) {
      const id = pick()
      w.modify(id, next())
      ;(w.modifyOther ?? w.modify)(id, next())
      this.expected.set(id, 'MODIFIED')
      last = id
    }
    for (let i = 0; i < plan.deletes; i++) {
      const id = pick()
      this.store.delete(w.resource, id)
      this.expected.set(id, 'DELETED')
      last = undefined
    }
    for (let i = 0; i < plan.modifyAndDelete; i++) {
      const id = pick()
      w.modify(id, next())
      this.store.delete(w.resource, id)
      this.expected.set(id, 'DELETED')
      last = undefined
    }
    return last
  }

  /**
   * Checks the events delivered during the round: exactly the touched ids have events, and
   * each one's last event is the expected type, carrying the server's current updated_at.
   */
  check<T extends ObjectMeta>(events: readonly ResourceEvent<T>[]): void {
    const last = new Map<string, ResourceEvent<T>>()
    for (const e of events) last.set(e.object.id, e)
    const untouched = [...last.keys()].filter((id) => !this.expected.has(id))
    expect(untouched, `${this.writer.resource}: events for ids this round did not touch`).toEqual([])
    const wrong: string[] = []
    for (const [id, want] of this.expected) {
      const got = last.get(id)
      const current = this.store.get(this.writer.resource, id)
      if (want === 'NONE') {
        if (got && got.type !== 'DELETED') wrong.push(`${id}: want no event or DELETED, got ${got.type}`)
      } else if (got?.type !== want) {
        wrong.push(`${id}: want ${want}, got ${got?.type ?? 'no event'}`)
      } else if (want !== 'DELETED' && got.object.updated_at !== current?.updated_at) {
        wrong.push(`${id}: last ${want} carries ${got.object.updated_at}, the server has ${current?.updated_at}`)
      }
    }
    expect(wrong, `${this.writer.resource}: last event per changed id`).toEqual([])
  }
}

/** Creates `count` objects in one go (the store's own bulk path). */
export function seed(store: Store, writer: ResourceWriter, count: number, seq: {next: number}): void {
  store.transaction(() => {
    for (let i = 0; i < count; i++) writer.create(seq.next++)
  })
}

export function countByType<T extends ObjectMeta>(events: readonly ResourceEvent<T>[]): Record<ResourceEventType, number> {
  const out: Record<ResourceEventType, number> = {ADDED: 0, MODIFIED: 0, DELETED: 0}
  for (const e of events) out[e.type]++
  return out
}
