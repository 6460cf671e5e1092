// Watch streams: newline-delimited JSON `{type, object}` over a chunked 200 response, resumable
// from any resourceVersion still in history (else a 410 Expired ERROR event, as the watch cache
// sends), with selector transitions, bookmarks and timeoutSeconds.
import type {ServerResponse} from 'node:http'
import type {Api, Selectors} from './api.js'
import type {KubeObject} from './json.js'
import {apiVersionOf, resourceKeyOf, type ResourceDef} from './resources.js'
import {badRequest, failure} from './status.js'
import type {Store, StoreEvent} from './store.js'

export interface WatchParams {
  def: ResourceDef
  namespace: string | undefined
  selectors: Selectors
  resourceVersion: string | undefined
  allowBookmarks: boolean
  sendInitialEvents: boolean
  timeoutSeconds: number | undefined
}

export interface WatchFilter {
  /** `plural` or `plural.group`. */
  resource?: string
  namespace?: string
}

interface ActiveWatch {
  params: WatchParams
  res: ServerResponse
  stop(): void
}

function matchesFilter(w: ActiveWatch, filter: WatchFilter | undefined): boolean {
  if (!filter) return true
  if (filter.resource !== undefined && filter.resource !== w.params.def.plural && filter.resource !== resourceKeyOf(w.params.def)) {
    return false
  }
  return filter.namespace === undefined || filter.namespace === w.params.namespace
}

export class WatchHub {
  private readonly active = new Set<ActiveWatch>()

  constructor(
    private readonly store: Store,
    private readonly api: Api,
    private readonly bookmarkIntervalMs: () => number,
  ) {}

  /** Checks the parameters before any byte is written, so bad requests still get a 400. */
  validate(params: WatchParams): void {
    const rv = params.resourceVersion
    if (rv !== undefined && rv !== '' && !/^\d+$/.test(rv)) {
      throw badRequest(`resourceVersion: Invalid value: "${rv}": strconv.ParseUint: parsing "${rv}": invalid syntax`)
    }
  }

  serve(params: WatchParams, res: ServerResponse): void {
    const {def} = params
    res.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked'})
    res.flushHeaders()
    res.socket?.setNoDelay(true)
    const send = (type: string, object: unknown): void => {
      if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({type, object})}\n`)
    }
    const wanted = (o: KubeObject): boolean =>
      (params.namespace === undefined || (o.metadata.namespace ?? '') === params.namespace) && this.api.matches(def, params.selectors, o)
    const deliver = (e: StoreEvent): void => {
      if (e.storageKey !== def.storageKey) return
      const now = wanted(e.object)
      const before = e.old !== undefined && wanted(e.old)
      let type: string | undefined
      if (e.type === 'ADDED') type = now ? 'ADDED' : undefined
      else if (e.type === 'DELETED') type = before ? 'DELETED' : undefined
      // An update that moves an object into or out of the selection is an add or a delete to this watcher.
      else type = now && before ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined
      if (type !== undefined) send(type, def.fromStorage(e.object))
    }
    const bookmark = (annotations?: Record<string, string>): void => {
      const metadata: Record<string, unknown> = {resourceVersion: String(this.store.currentRV())}
      if (annotations) metadata.annotations = annotations
      send('BOOKMARK', {kind: def.kind, apiVersion: apiVersionOf(def), metadata})
    }

    const rv = params.resourceVersion
    if (rv === undefined || rv === '' || rv === '0' || params.sendInitialEvents) {
      // No (or "any") resourceVersion: the current state as synthetic ADDED events, then changes.
      for (const o of this.store.list(def.storageKey, def.namespaced ? params.namespace : undefined)) {
        if (this.api.matches(def, params.selectors, o)) send('ADDED', def.fromStorage(o))
      }
      if (params.sendInitialEvents && params.allowBookmarks) bookmark({'k8s.io/initial-events-end': 'true'})
    } else {
      const events = this.store.eventsSince(Number(rv), def.storageKey)
      if (events === undefined) {
        send('ERROR', failure(410, 'Expired', `too old resource version: ${rv} (${this.store.compactedRV()})`))
        res.end()
        return
      }
      for (const e of events) deliver(e)
    }

    const unsubscribe = this.store.subscribe(deliver)
    const timers: NodeJS.Timeout[] = []
    if (params.allowBookmarks) timers.push(setInterval(() => bookmark(), this.bookmarkIntervalMs()))
    if (params.timeoutSeconds !== undefined && params.timeoutSeconds > 0) {
      timers.push(setTimeout(() => res.end(), params.timeoutSeconds * 1000))
    }
    const watch: ActiveWatch = {
      params,
      res,
      stop: () => {
        unsubscribe()
        for (const t of timers) clearTimeout(t)
        this.active.delete(watch)
      },
    }
    this.active.add(watch)
    res.on('close', watch.stop)
    res.on('finish', watch.stop)
  }

  /** Ends matching watches: `end` finishes the stream cleanly, `destroy` drops the socket. */
  close(filter?: WatchFilter & {mode?: 'end' | 'destroy'}): number {
    let n = 0
    for (const w of [...this.active]) {
      if (!matchesFilter(w, filter)) continue
      n++
      w.stop()
      if (filter?.mode === 'destroy') w.res.destroy()
      else w.res.end()
    }
    return n
  }

  count(filter?: WatchFilter): number {
    return [...this.active].filter((w) => matchesFilter(w, filter)).length
  }
}
