// Clients and informers for commands that follow the API server (`run`, `watch`): REST for
// the list-sync, gRPC for the watch streams, one informer per resource.
import type {GrpcClient} from '../api/grpc.js'
import type {RestClient} from '../api/rest.js'
import type {ObjectMeta, ResourceName, ResourceTypes} from '../api/types.js'
import type {Config} from '../config/index.js'
import type {Informer, InformerMetrics} from '../informer/index.js'
import type {Logger} from '../log.js'
import {grpcClientFromConfig, restClientFromConfig} from './client.js'

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
