// A cache of the Kubernetes objects kube mode owns, fed by client-node's makeInformer
// (ListWatch): reconcilers read here instead of GETting per event. On top of ListWatch it adds
// what it lacks: a synced signal, restart with backoff (ListWatch stops for good on any error
// other than 410/timeout, a known trap), old objects on update, secondary indexes, and a
// short-lived overlay of our own writes so a reconcile right after a write sees it even if
// the watch has not delivered it yet (read-your-writes; without it the echo of a status
// write would find "no CR" and create again).
import {makeInformer, type KubeConfig, type KubernetesObject} from '@kubernetes/client-node'
import {errorMessage} from '../errors.js'
import {Backoff, DEFAULT_BACKOFF, type BackoffOptions} from '../util/backoff.js'
import {silentLogger, type Logger} from '../log.js'
import type {Cache} from '../lifecycle.js'
import {sleep, waitForAbort} from '../util/abort.js'
import type {ListResult} from './client.js'
import {objectKey, type KubeObjectMeta} from './types.js'

export interface CachedObject {
  metadata: KubeObjectMeta
}

export type KubeCacheEvent<T> = {type: 'ADDED'; object: T} | {type: 'MODIFIED'; object: T; old: T} | {type: 'DELETED'; object: T}

export type Indexer<T> = (object: T) => readonly string[]

export interface KubeCacheOptions<T extends CachedObject> {
  /** Component name (logs, /readyz), e.g. `agenticsessions`. */
  name: string
  kubeConfig: KubeConfig
  /** Collection path to watch, e.g. `/apis/vteam.ambient-code/v1alpha1/agenticsessions`. */
  path: string
  list: (labelSelector: string | undefined) => Promise<ListResult<T>>
  labelSelector?: string
  indexers?: Record<string, Indexer<T>>
  logger?: Logger
  backoff?: Partial<BackoffOptions>
  delay?: (ms: number, signal: AbortSignal) => Promise<void>
  random?: () => number
  now?: () => number
  /** How long an unconfirmed write stays in the overlay (default 60000 ms). */
  overlayTtlMs?: number
}

export interface KubeCacheStatus {
  name: string
  synced: boolean
  size: number
  restarts: number
  lastError?: string
}

type OverlayEntry<T> = {object?: T; deleted: boolean; resourceVersion?: string; at: number}

export class KubeCache<T extends CachedObject> implements Cache {
  readonly name: string
  private readonly options: KubeCacheOptions<T>
  private readonly logger: Logger
  private readonly objects = new Map<string, T>()
  private readonly indexes = new Map<string, Map<string, Set<string>>>()
  private readonly overlay = new Map<string, OverlayEntry<T>>()
  private readonly handlers = new Set<(event: KubeCacheEvent<T>) => void>()
  private readonly backoff: Backoff
  private readonly delay: (ms: number, signal: AbortSignal) => Promise<void>
  private readonly now: () => number
  private synced = false
  private readonly syncWaiters = new Set<() => void>()
  private restarts = 0
  private lastError?: string
  /** label key -> name of the index built by labelIndexer for it. */
  private readonly labelIndexes = new Map<string, string>()

  constructor(options: KubeCacheOptions<T>) {
    this.options = options
    this.name = options.name
    this.logger = (options.logger ?? silentLogger).child({cache: options.name})
    this.backoff = new Backoff({...DEFAULT_BACKOFF, ...options.backoff}, options.random)
    this.delay = options.delay ?? sleep
    this.now = options.now ?? Date.now
    for (const [name, indexer] of Object.entries(options.indexers ?? {})) {
      this.indexes.set(name, new Map())
      const label = LABEL_OF_INDEXER.get(indexer)
      if (label) this.labelIndexes.set(label, name)
    }
  }

  /** Runs the list+watch until `signal` aborts, restarting it with backoff after failures. */
  async start(signal: AbortSignal): Promise<void> {
    const informer = makeInformer<KubernetesObject>(
      this.options.kubeConfig,
      this.options.path,
      async () => {
        const result = await this.options.list(this.options.labelSelector)
        // ListWatch applies the list right after this promise settles (same microtask
        // chain); setImmediate runs after that, so "synced" means the cache holds it.
        setImmediate(() => this.markSynced())
        return {metadata: {resourceVersion: result.resourceVersion}, items: result.items as unknown as KubernetesObject[]}
      },
      this.options.labelSelector,
    )
    let failed: (() => void) | undefined
    let runStartedAt = this.now()
    informer.on('add', (o) => this.apply('ADDED', o as unknown as T))
    informer.on('update', (o) => this.apply('MODIFIED', o as unknown as T))
    informer.on('delete', (o) => this.apply('DELETED', o as unknown as T))
    informer.on('error', (err: unknown) => {
      if (signal.aborted) return
      this.lastError = errorMessage(err)
      this.logger.warn({err: this.lastError}, 'list/watch failed; restarting with backoff')
      failed?.()
    })

    try {
      while (!signal.aborted) {
        const failure = new Promise<void>((resolve) => {
          failed = resolve
        })
        runStartedAt = this.now()
        try {
          await informer.start()
        } catch (err) {
          // start() itself reports through the error callback; a throw here is unexpected.
          this.lastError = errorMessage(err)
          failed?.()
        }
        await Promise.race([failure, waitForAbort(signal)])
        if (signal.aborted) break
        await informer.stop()
        // A run that lasted a while was healthy: start the backoff over.
        if (this.now() - runStartedAt >= this.backoff.options.resetAfterMs) this.backoff.reset()
        const wait = this.backoff.next()
        this.restarts++
        await this.delay(wait, signal)
      }
    } finally {
      await informer.stop()
      for (const wake of this.syncWaiters) wake()
    }
  }

  waitForSync(signal: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const done = () => {
        this.syncWaiters.delete(done)
        signal.removeEventListener('abort', done)
        if (this.synced) resolve()
        else reject(signal.reason instanceof Error ? signal.reason : new Error(`cache ${this.name} stopped before it synced`))
      }
      this.syncWaiters.add(done)
      signal.addEventListener('abort', done, {once: true})
    })
  }

  hasSynced(): boolean {
    return this.synced
  }

  status(): KubeCacheStatus {
    return {name: this.name, synced: this.synced, size: this.objects.size, restarts: this.restarts, lastError: this.lastError}
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  on(handler: (event: KubeCacheEvent<T>) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  /** The object at namespace/name (namespace '' for cluster-scoped), our own unseen writes included. */
  get(namespace: string, name: string): T | undefined {
    const key = objectKey({namespace, name})
    const pending = this.liveOverlay(key)
    if (pending) return pending.deleted ? undefined : pending.object
    return this.objects.get(key)
  }

  list(namespace?: string): T[] {
    const out = new Map<string, T>()
    for (const [key, obj] of this.objects) if (namespace === undefined || obj.metadata.namespace === namespace) out.set(key, obj)
    this.mergeOverlay(out, (obj) => namespace === undefined || obj.metadata.namespace === namespace)
    return [...out.values()]
  }

  /** Objects whose indexer `index` yields `value`. */
  byIndex(index: string, value: string): T[] {
    const indexer = this.options.indexers?.[index]
    const idx = this.indexes.get(index)
    if (!indexer || !idx) throw new Error(`cache ${this.name} has no index ${JSON.stringify(index)}`)
    const out = new Map<string, T>()
    for (const key of idx.get(value) ?? []) {
      const obj = this.objects.get(key)
      if (obj) out.set(key, obj)
    }
    this.mergeOverlay(out, (obj) => indexer(obj).includes(value))
    return [...out.values()]
  }

  /** Objects carrying label `key=value` (an index when one exists for it, else a scan). */
  byLabel(key: string, value: string): T[] {
    const index = this.labelIndexes.get(key)
    if (index) return this.byIndex(index, value)
    return this.list().filter((o) => o.metadata.labels?.[key] === value)
  }

  /** Records the object a write returned, until the watch delivers it (or something newer). */
  observeWrite(object: T): void {
    const key = objectKey(object.metadata)
    const cached = this.objects.get(key)
    if (cached && cached.metadata.resourceVersion === object.metadata.resourceVersion) return
    this.overlay.set(key, {object, deleted: false, resourceVersion: object.metadata.resourceVersion, at: this.now()})
  }

  /** Records a delete we made, until the watch confirms it. */
  observeDelete(namespace: string, name: string): void {
    const key = objectKey({namespace, name})
    if (!this.objects.has(key)) {
      this.overlay.delete(key)
      return
    }
    this.overlay.set(key, {deleted: true, at: this.now()})
  }

  private liveOverlay(key: string): OverlayEntry<T> | undefined {
    const entry = this.overlay.get(key)
    if (!entry) return undefined
    if (this.now() - entry.at > (this.options.overlayTtlMs ?? 60_000)) {
      this.overlay.delete(key)
      return undefined
    }
    return entry
  }

  private mergeOverlay(out: Map<string, T>, matches: (obj: T) => boolean): void {
    for (const key of [...this.overlay.keys()]) {
      const entry = this.liveOverlay(key)
      if (!entry) continue
      if (entry.deleted || !entry.object || !matches(entry.object)) out.delete(key)
      else out.set(key, entry.object)
    }
  }

  private apply(type: KubeCacheEvent<T>['type'], object: T): void {
    const key = objectKey(object.metadata)
    const old = this.objects.get(key)
    this.settleOverlay(key, type, object)
    if (old) this.unindex(key, old)
    if (type === 'DELETED') this.objects.delete(key)
    else {
      this.objects.set(key, object)
      this.index(key, object)
    }
    const event: KubeCacheEvent<T> = type === 'DELETED' ? {type, object} : old && type === 'MODIFIED' ? {type, object, old} : {type: 'ADDED', object}
    for (const handler of [...this.handlers]) {
      try {
        handler(event)
      } catch (err) {
        this.logger.error({err: errorMessage(err)}, 'cache event handler failed')
      }
    }
  }

  /** The watch caught up with a write of ours when it shows that version or a later one. */
  private settleOverlay(key: string, type: KubeCacheEvent<T>['type'], object: T): void {
    const entry = this.overlay.get(key)
    if (!entry) return
    if (entry.deleted) {
      if (type === 'DELETED') this.overlay.delete(key)
      return
    }
    if (type === 'DELETED' || !isOlderVersion(object.metadata.resourceVersion, entry.resourceVersion)) this.overlay.delete(key)
  }

  private index(key: string, object: T): void {
    for (const [name, indexer] of Object.entries(this.options.indexers ?? {})) {
      const idx = this.indexes.get(name) as Map<string, Set<string>>
      for (const value of indexer(object)) {
        let keys = idx.get(value)
        if (!keys) idx.set(value, (keys = new Set()))
        keys.add(key)
      }
    }
  }

  private unindex(key: string, object: T): void {
    for (const [name, indexer] of Object.entries(this.options.indexers ?? {})) {
      const idx = this.indexes.get(name) as Map<string, Set<string>>
      for (const value of indexer(object)) {
        const keys = idx.get(value)
        keys?.delete(key)
        if (keys?.size === 0) idx.delete(value)
      }
    }
  }

  private markSynced(): void {
    if (this.synced) return
    this.synced = true
    this.logger.debug({size: this.objects.size}, 'cache synced')
    for (const wake of [...this.syncWaiters]) wake()
  }
}

/**
 * resourceVersions are opaque, but every API server in use issues integers (etcd revisions);
 * when both parse, a smaller one is older. Otherwise any event counts as newer.
 */
function isOlderVersion(seen: string | undefined, written: string | undefined): boolean {
  if (!seen || !written || !/^\d+$/.test(seen) || !/^\d+$/.test(written)) return false
  return BigInt(seen) < BigInt(written)
}

const LABEL_OF_INDEXER = new WeakMap<Indexer<never>, string>()

/** Index by the value of one label (objects without it are not indexed). */
export function labelIndexer<T extends CachedObject>(label: string): Indexer<T> {
  const indexer: Indexer<T> = (object) => {
    const value = object.metadata.labels?.[label]
    return value === undefined ? [] : [value]
  }
  LABEL_OF_INDEXER.set(indexer as Indexer<never>, label)
  return indexer
}
