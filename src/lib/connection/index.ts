// The connection to the Ambient API server, built from resolved settings: a REST client (lists,
// writes), a gRPC client (watch streams), and one informer per resource over them. Shared by
// `ambient run`, `watch`, `diff` and the resource commands.
import type {GrpcClient} from '../api/grpc.js'
import {RestClient} from '../api/rest.js'
import type {ObjectMeta, ResourceName, ResourceTypes} from '../api/types.js'
import {TokenSource, type Config} from '../config/index.js'
import type {Informer, InformerMetrics} from '../informer/index.js'
import type {Logger} from '../log.js'

export interface ClientFromConfigOptions {
  /** A token from the command line: wins over AMBIENT_API_TOKEN_FILE and AMBIENT_API_TOKEN. */
  token?: string
  logger?: Logger
  timeoutMs?: number
}

function tokenSource(config: Config, token: string | undefined): TokenSource {
  return token ? new TokenSource({token}) : TokenSource.fromConfig(config)
}

/** REST client from resolved settings (AMBIENT_API_SERVER_URL, AMBIENT_API_BASE_PATH, token). */
export function restClientFromConfig(config: Config, options: ClientFromConfigOptions = {}): RestClient {
  const tokens = tokenSource(config, options.token)
  return new RestClient({
    baseUrl: config.AMBIENT_API_SERVER_URL,
    basePath: config.AMBIENT_API_BASE_PATH,
    token: () => tokens.get(),
    timeoutMs: options.timeoutMs,
    logger: options.logger,
  })
}

/** gRPC client from resolved settings (AMBIENT_GRPC_SERVER_ADDR, AMBIENT_GRPC_USE_TLS, token). */
export async function grpcClientFromConfig(config: Config, options: ClientFromConfigOptions = {}): Promise<GrpcClient> {
  const tokens = tokenSource(config, options.token)
  const {GrpcClient} = await import('../api/grpc.js')
  const addr = config.AMBIENT_GRPC_SERVER_ADDR
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host || 'localhost'
  return new GrpcClient({
    address: `${host}:${addr.port}`,
    tls: config.AMBIENT_GRPC_USE_TLS,
    token: () => tokens.get(),
    timeoutMs: options.timeoutMs,
    logger: options.logger,
  })
}

export type WatchFlag = 'stream' | 'poll'

export interface ApiConnection {
  rest: RestClient
  grpc?: GrpcClient
  informer<R extends ResourceName>(resource: R, metrics?: InformerMetrics): Promise<Informer<ResourceTypes[R]>>
  /** Any other REST resource (e.g. the older generation's `workflows`, `tasks`): polled. */
  pollingInformer<T extends ObjectMeta>(resource: string): Promise<Informer<T>>
  close(): void
}

export async function connectApi(config: Config, options: {watch: WatchFlag; logger: Logger}): Promise<ApiConnection> {
  const rest = restClientFromConfig(config, {logger: options.logger})
  const grpc = options.watch === 'stream' ? await grpcClientFromConfig(config, {logger: options.logger}) : undefined
  const [{createSources, restOnlySource}, {Informer}] = await Promise.all([import('../api/sources.js'), import('../informer/index.js')])
  const sources = createSources({rest, grpc, watch: options.watch})
  return {
    rest,
    grpc,
    async informer<R extends ResourceName>(resource: R, metrics?: InformerMetrics) {
      return new Informer<ResourceTypes[R]>({
        source: sources[resource],
        logger: options.logger,
        watchMode: options.watch,
        pollIntervalMs: config.POLL_INTERVAL_SECONDS * 1000,
        confirmRelistAfterMs: config.WATCH_RELIST_DELAY_SECONDS * 1000,
        metrics,
      })
    },
    async pollingInformer<T extends ObjectMeta>(resource: string) {
      return new Informer<T>({
        source: restOnlySource<T>(rest, resource),
        logger: options.logger,
        watchMode: 'poll',
        pollIntervalMs: config.POLL_INTERVAL_SECONDS * 1000,
      })
    },
    close: () => grpc?.close(),
  }
}
