// A faithful in-process fake of the Kubernetes API server for tests of the kube-mode control
// plane: the real @kubernetes/client-node talks HTTP to it through a kubeconfig.
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {KubeConfig} from '@kubernetes/client-node'
import {Api} from './api.js'
import {defsFromCrd, loadCrdFiles} from './crd.js'
import {Faults, Holds, RequestLog, type FaultSpec, type Hold, type RequestFilter, type RequestRecord} from './faults.js'
import {clone, type KubeObject} from './json.js'
import {Registry} from './registry.js'
import {builtinDefs, crdDef, namespacesDef, type ResourceDef} from './resources.js'
import {createHttpServer} from './server.js'
import {Store} from './store.js'
import {WatchHub, type WatchFilter} from './watch.js'

export type {FaultSpec, Hold, RequestFilter, RequestRecord, Verb} from './faults.js'
export type {KubeObject, ObjectMeta} from './json.js'
export type {Status} from './status.js'
export type {WatchFilter} from './watch.js'

export const defaultCrdPath = resolve(dirname(fileURLToPath(import.meta.url)), '../../deploy/crd.yaml')

export interface FakeKubeOptions {
  /** CRD YAML files served from the start (default: deploy/crd.yaml). */
  crdPaths?: string[]
  /** Bearer token the fake accepts (written into the kubeconfig). */
  token?: string
  /** Interval of BOOKMARK events on watches that allow them (default 1000 ms). */
  bookmarkIntervalMs?: number
  /** Namespaces that exist from the start (default: default, kube-system, kube-public, kube-node-lease). */
  namespaces?: string[]
  /** Reject namespaced writes into a missing namespace with 404, as a cluster does (default true). */
  requireNamespaces?: boolean
  /** Namespace of the kubeconfig context (default `default`). */
  contextNamespace?: string
  now?: () => Date
  random?: () => number
}

export interface FakeKube {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string
  readonly kubeconfigPath: string
  readonly token: string
  /** A KubeConfig loaded from kubeconfigPath. */
  kubeConfig(): KubeConfig
  close(): Promise<void>

  /** Every request received since start or the last resetCounts(). */
  readonly requests: readonly RequestRecord[]
  count(filter?: RequestFilter): number
  resetCounts(): void

  /** The next `times` (default 1) matching requests fail with the given Status. */
  failNext(fault: FaultSpec): void
  clearFaults(): void
  /** Matching requests (a resource request, after authentication) wait unanswered until released. */
  hold(match: (record: RequestRecord) => boolean): Hold
  /** Ends open watches (`mode: 'destroy'` drops the sockets instead); returns how many. */
  closeWatches(filter?: WatchFilter & {mode?: 'end' | 'destroy'}): number
  activeWatches(filter?: WatchFilter): number
  /** Compacts history: every resourceVersion handed out so far gets 410 on watch/continue. */
  expireResourceVersions(): void
  /** The current global resourceVersion. */
  resourceVersion(): string
  setBookmarkInterval(ms: number): void

  /**
   * Direct store access, as writes by another client. resourceKey: `plural` or `plural.group`
   * (`agenticsessions`, `leases`, `events.events.k8s.io`); namespace '' for cluster-scoped.
   */
  get(resourceKey: string, namespace: string, name: string): KubeObject | undefined
  list(resourceKey: string, namespace?: string): KubeObject[]
  /**
   * Creates or replaces, with no preconditions and no status isolation; `raw` stores the object
   * without pruning/defaults (as written under an older CRD); reads still apply them.
   */
  put(resourceKey: string, namespace: string, name: string, object: Partial<KubeObject>, opts?: {raw?: boolean}): KubeObject
  /** Reads, lets `mutate` change the object, and writes it back with put(). */
  update(resourceKey: string, namespace: string, name: string, mutate: (obj: KubeObject) => void): KubeObject
  /** Removes at once (finalizers ignored); false if absent. */
  delete(resourceKey: string, namespace: string, name: string): boolean
}

function kubeconfigText(url: string, token: string, namespace: string): string {
  // JSON is YAML: no serializer needed.
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses plain http unless the cluster skips TLS verification.
    clusters: [{name: 'fake', cluster: {server: url, 'insecure-skip-tls-verify': true}}],
    users: [{name: 'fake-user', user: {token}}],
    contexts: [{name: 'fake', context: {cluster: 'fake', user: 'fake-user', namespace}}],
    'current-context': 'fake',
  })
}

export async function startFakeKube(opts: FakeKubeOptions = {}): Promise<FakeKube> {
  const token = opts.token ?? 'fake-token'
  let bookmarkMs = opts.bookmarkIntervalMs ?? 1000
  const store = new Store()
  const registry = new Registry(builtinDefs())
  const api = new Api({
    store,
    registry,
    now: opts.now ?? (() => new Date()),
    random: opts.random ?? Math.random,
    requireNamespaces: opts.requireNamespaces ?? true,
  })
  const crdStorage = crdDef().storageKey
  // Stored CRDs drive what is served, as the apiextensions server does.
  store.subscribe((e) => {
    if (e.storageKey !== crdStorage) return
    const crdName = e.name
    if (e.type === 'DELETED') {
      for (const def of registry.removeCrd(crdName).slice(0, 1)) {
        for (const o of store.list(def.storageKey)) store.remove(def.storageKey, o.metadata.namespace ?? '', o.metadata.name ?? '')
      }
    } else {
      registry.setCrd(crdName, defsFromCrd(e.object))
    }
  })
  const nsDef = namespacesDef()
  for (const ns of opts.namespaces ?? ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    api.create(nsDef, undefined, {metadata: {name: ns}})
  }
  const crdResource = crdDef()
  for (const crd of await loadCrdFiles(opts.crdPaths ?? [defaultCrdPath])) api.create(crdResource, undefined, crd)

  const log = new RequestLog()
  const faults = new Faults()
  const holds = new Holds()
  const watches = new WatchHub(store, api, () => bookmarkMs)
  const server = createHttpServer({api, registry, watches, log, faults, holds, token})
  await new Promise<void>((done, fail) => {
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => done())
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  const dir = await mkdtemp(join(tmpdir(), 'fake-kube-'))
  const kubeconfigPath = join(dir, 'kubeconfig')
  await writeFile(kubeconfigPath, kubeconfigText(url, token, opts.contextNamespace ?? 'default'))

  const def = (key: string): ResourceDef => {
    const d = registry.resolve(key)
    if (!d) throw new Error(`fake-kube: unknown resource ${JSON.stringify(key)}`)
    return d
  }
  const get = (key: string, namespace: string, name: string): KubeObject | undefined => {
    const d = def(key)
    const o = store.get(d.storageKey, d.namespaced ? namespace : '', name)
    return o === undefined ? undefined : d.fromStorage(o)
  }

  return {
    url,
    kubeconfigPath,
    token,
    kubeConfig() {
      const kc = new KubeConfig()
      kc.loadFromFile(kubeconfigPath)
      return kc
    },
    async close() {
      holds.releaseAll()
      watches.close({mode: 'destroy'})
      server.closeAllConnections()
      await new Promise<void>((done) => server.close(() => done()))
      await rm(dir, {recursive: true, force: true})
    },
    get requests() {
      return log.records
    },
    count: (filter) => log.count(filter),
    resetCounts: () => log.reset(),
    failNext: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    hold: (match) => holds.add(match),
    closeWatches: (filter) => watches.close(filter),
    activeWatches: (filter) => watches.count(filter),
    expireResourceVersions: () => store.expireAll(),
    resourceVersion: () => String(store.currentRV()),
    setBookmarkInterval(ms) {
      bookmarkMs = ms
    },
    get,
    list(key, namespace) {
      const d = def(key)
      return store.list(d.storageKey, d.namespaced ? namespace : undefined).map((o) => d.fromStorage(o))
    },
    put: (key, namespace, name, object, putOpts) => api.put(def(key), namespace, name, object, putOpts?.raw ?? false),
    update(key, namespace, name, mutate) {
      const current = get(key, namespace, name)
      if (!current) throw new Error(`fake-kube: ${key} ${namespace}/${name} not found`)
      const next = clone(current)
      mutate(next)
      return api.put(def(key), namespace, name, next)
    },
    delete: (key, namespace, name) => api.remove(def(key), namespace, name),
  }
}
