// Where the Kubernetes credentials come from, and the one hook every client-node request passes
// through: KubeConfig.applySecurityAuthentication is called by all generated API clients AND by
// Watch (which makeInformer uses), so overriding it rate-limits and counts every request, and
// lets us reuse one connection pool instead of client-node's new undici Agent per request.
import {existsSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  createConfiguration,
  KubeConfig,
  ServerConfiguration,
  setHeaderMiddleware,
  type ApiConstructor,
  type ApiType,
  type RequestContext,
} from '@kubernetes/client-node'
import {ConfigError} from '../errors.js'
import {TokenBucket, type TokenBucketOptions} from './rate-limit.js'
import {parseRequestInfo, RequestCounter, type RequestInfo} from './requests.js'

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>

export interface LoadKubeConfigOptions {
  /** Explicit kubeconfig file (the KUBECONFIG setting / --kubeconfig). */
  kubeconfig?: string
  /** Environment to read KUBECONFIG / KUBERNETES_SERVICE_HOST from (default process.env). */
  env?: NodeJS.ProcessEnv
  homeDir?: string
}

/**
 * A loaded KubeConfig: the given file, else $KUBECONFIG, else ~/.kube/config, else the
 * in-cluster service account. Unlike client-node's loadFromDefault it never falls back to
 * http://localhost:8080: no credentials is an error naming KUBECONFIG.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  const env = options.env ?? process.env
  const kc = new KubeConfig()
  const home = options.homeDir ?? os.homedir()
  const explicit = options.kubeconfig ?? env.KUBECONFIG
  try {
    if (explicit) {
      const files = explicit.split(path.delimiter).filter(Boolean)
      const first = files.find((f) => existsSync(f))
      if (!first) throw new ConfigError('KUBECONFIG', `kubeconfig ${JSON.stringify(explicit)} does not exist`)
      kc.loadFromFile(first)
      for (const f of files.filter((x) => x !== first && existsSync(x))) {
        const more = new KubeConfig()
        more.loadFromFile(f)
        kc.mergeConfig(more, true)
      }
    } else if (existsSync(path.join(home, '.kube', 'config'))) {
      kc.loadFromFile(path.join(home, '.kube', 'config'))
    } else if (env.KUBERNETES_SERVICE_HOST) {
      kc.loadFromCluster()
    } else {
      throw new ConfigError('KUBECONFIG', 'no Kubernetes credentials: set KUBECONFIG, create ~/.kube/config, or run in a cluster')
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError('KUBECONFIG', `cannot load kubeconfig: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!kc.getCurrentCluster())
    throw new ConfigError('KUBECONFIG', `kubeconfig has no current cluster (context ${JSON.stringify(kc.getCurrentContext())})`)
  return kc
}

export interface InstrumentedKubeConfigOptions extends TokenBucketOptions {
  counter?: RequestCounter
  limiter?: TokenBucket
  /** Deadline of a non-watch request (ms); default 30000. Watches have client-node's own. */
  requestTimeoutMs?: number
  /** How long one pooled connection dispatcher is reused before a fresh one picks up rotated certificates. */
  dispatcherTtlMs?: number
  /** Sent as User-Agent, so the API server's audit log can tell replicas apart. */
  userAgent?: string
  /**
   * Called for every write (create, update, patch, delete) as the very last step before it is
   * sent; throwing refuses the write. Leader election fences writes with it.
   */
  beforeWrite?: (info: RequestInfo) => void
  now?: () => number
}

const WRITE_VERBS: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete', 'deletecollection'])

/** A KubeConfig whose every request is rate-limited, counted, bounded in time and pooled. */
export class InstrumentedKubeConfig extends KubeConfig {
  readonly counter: RequestCounter
  readonly limiter: TokenBucket
  private readonly requestTimeoutMs: number
  private readonly dispatcherTtlMs: number
  private readonly clock: () => number
  private readonly userAgent: string | undefined
  private readonly beforeWrite: ((info: RequestInfo) => void) | undefined
  private readonly closing = new AbortController()
  private pooled?: {key: string; dispatcher: Dispatcher; createdAt: number}

  constructor(options: InstrumentedKubeConfigOptions = {}) {
    super()
    this.counter = options.counter ?? new RequestCounter()
    this.limiter = options.limiter ?? new TokenBucket(options)
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000
    this.dispatcherTtlMs = options.dispatcherTtlMs ?? 10 * 60_000
    this.clock = options.now ?? Date.now
    this.userAgent = options.userAgent
    this.beforeWrite = options.beforeWrite
  }

  /** Wraps an already loaded KubeConfig (same clusters, users, contexts and current context). */
  static from(source: KubeConfig, options: InstrumentedKubeConfigOptions = {}): InstrumentedKubeConfig {
    const kc = new InstrumentedKubeConfig(options)
    kc.loadFromOptions({
      clusters: source.getClusters(),
      users: source.getUsers(),
      contexts: source.getContexts(),
      currentContext: source.getCurrentContext(),
    })
    return kc
  }

  /** As client-node's, but its User-Agent middleware sends ours (it runs after authentication). */
  override makeApiClient<T extends ApiType>(apiClientType: ApiConstructor<T>): T {
    const cluster = this.getCurrentCluster()
    if (!this.userAgent || !cluster) return super.makeApiClient(apiClientType)
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: {default: this},
      middleware: [setHeaderMiddleware('User-Agent', this.userAgent)],
    })
    return new apiClientType(configuration)
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const url = context.getUrl()
    const info = parseRequestInfo(String(context.getHttpMethod()), url, this.serverBasePath())
    await this.limiter.acquire(this.closing.signal)
    if (info) this.counter.record(info)
    await super.applySecurityAuthentication(context)
    this.reuseDispatcher(context)
    // Watch builds its own context and ignores this signal; every other call gets a deadline
    // and is cut off at shutdown rather than holding a worker.
    if (info?.verb !== 'watch') {
      const signals = [this.closing.signal, AbortSignal.timeout(this.requestTimeoutMs)]
      const own = context.getSignal()
      context.setSignal(AbortSignal.any(own ? [...signals, own] : signals))
    }
    if (this.userAgent) context.setHeaderParam('User-Agent', this.userAgent)
    // Last, after every wait above (rate limiter, credentials): nothing is awaited between
    // this check and the request going out.
    if (info && WRITE_VERBS.has(info.verb)) this.beforeWrite?.(info)
  }

  /** Aborts in-flight calls and waiters of the rate limiter, and closes pooled connections. */
  close(): void {
    this.closing.abort()
    this.limiter.close()
    void this.pooled?.dispatcher.close().catch(() => undefined)
    this.pooled = undefined
  }

  private serverBasePath(): string {
    const server = this.getCurrentCluster()?.server
    if (!server) return ''
    try {
      return new URL(server).pathname
    } catch {
      return ''
    }
  }

  private reuseDispatcher(context: RequestContext): void {
    const fresh = context.getDispatcher()
    if (!fresh) return
    const key = `${this.getCurrentContext()}|${this.getCurrentCluster()?.server ?? ''}`
    const now = this.clock()
    const pooled = this.pooled
    if (pooled && pooled.key === key && now - pooled.createdAt < this.dispatcherTtlMs) {
      context.setDispatcher(pooled.dispatcher)
      // The per-request agent never connected: closing it frees nothing but is tidy.
      void fresh.close().catch(() => undefined)
      return
    }
    // Old connections (a long watch) finish on the old pool; close waits for them.
    if (pooled) void pooled.dispatcher.close().catch(() => undefined)
    this.pooled = {key, dispatcher: fresh, createdAt: now}
  }
}
