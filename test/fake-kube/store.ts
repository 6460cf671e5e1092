// The fake's "etcd": objects by storage key, one global resourceVersion counter, and the event
// history that lets a watch resume from any resourceVersion not yet compacted away.
import {clone, type KubeObject} from './json.js'

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface StoreEvent {
  type: EventType
  rv: number
  storageKey: string
  namespace: string
  name: string
  /** Storage form; for DELETED the last state, stamped with the deletion's resourceVersion. */
  object: KubeObject
  /** The previous state (MODIFIED, DELETED): watches need it to filter by selector. */
  old?: KubeObject
}

export interface StoreOptions {
  initialResourceVersion?: number
  /** Events kept for resuming watches; older ones are compacted (watching from them is 410). */
  historyLimit?: number
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`
}

export class Store {
  private rv: number
  /** A watch may resume from any RV >= this. */
  private compacted: number
  private readonly data = new Map<string, Map<string, KubeObject>>()
  private history: StoreEvent[] = []
  private readonly historyLimit: number
  private readonly listeners = new Set<(e: StoreEvent) => void>()

  constructor(opts: StoreOptions = {}) {
    this.rv = opts.initialResourceVersion ?? 1000
    this.compacted = this.rv
    this.historyLimit = opts.historyLimit ?? 100_000
  }

  currentRV(): number {
    return this.rv
  }

  compactedRV(): number {
    return this.compacted
  }

  private bucket(storageKey: string): Map<string, KubeObject> {
    let b = this.data.get(storageKey)
    if (!b) {
      b = new Map()
      this.data.set(storageKey, b)
    }
    return b
  }

  get(storageKey: string, namespace: string, name: string): KubeObject | undefined {
    return clone(this.data.get(storageKey)?.get(keyOf(namespace, name)))
  }

  /** Objects ordered by namespace then name, like etcd's key order. */
  list(storageKey: string, namespace?: string): KubeObject[] {
    const b = this.data.get(storageKey)
    if (!b) return []
    return [...b.entries()]
      .filter(([, o]) => namespace === undefined || (o.metadata.namespace ?? '') === namespace)
      .sort(([a], [b2]) => (a < b2 ? -1 : a > b2 ? 1 : 0))
      .map(([, o]) => clone(o))
  }

  /** Creates or replaces; stamps a new resourceVersion, records and publishes the event. */
  write(storageKey: string, obj: KubeObject): KubeObject {
    const namespace = obj.metadata.namespace ?? ''
    const name = obj.metadata.name ?? ''
    const b = this.bucket(storageKey)
    const old = b.get(keyOf(namespace, name))
    const stored = clone(obj)
    stored.metadata.resourceVersion = String(++this.rv)
    b.set(keyOf(namespace, name), stored)
    this.publish({type: old ? 'MODIFIED' : 'ADDED', rv: this.rv, storageKey, namespace, name, object: stored, old})
    return clone(stored)
  }

  /** Deletes; `finalState` is what the DELETED event carries when it differs from the stored one. */
  remove(storageKey: string, namespace: string, name: string, finalState?: KubeObject): KubeObject | undefined {
    const b = this.data.get(storageKey)
    const old = b?.get(keyOf(namespace, name))
    if (!b || !old) return undefined
    b.delete(keyOf(namespace, name))
    const object = clone(finalState ?? old)
    object.metadata.resourceVersion = String(++this.rv)
    this.publish({type: 'DELETED', rv: this.rv, storageKey, namespace, name, object, old})
    return clone(object)
  }

  private publish(event: StoreEvent): void {
    this.history.push(event)
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit)
      this.compacted = dropped[dropped.length - 1].rv
    }
    for (const listener of [...this.listeners]) listener(event)
  }

  /** Events of one storage key after `rv`, or undefined when `rv` was compacted away. */
  eventsSince(rv: number, storageKey: string): StoreEvent[] | undefined {
    if (rv < this.compacted) return undefined
    return this.history.filter((e) => e.rv > rv && e.storageKey === storageKey)
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Compacts all history, like etcd compaction: every resourceVersion handed out so far becomes
   * too old to watch from. A fresh revision is taken so a relist gets a watchable RV.
   */
  expireAll(): void {
    this.rv++
    this.compacted = this.rv
    this.history = []
  }
}
