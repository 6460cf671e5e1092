// The API clients as informer sources (src/lib/informer/source.ts): lists are read over REST,
// every page (the contract's list-sync), changes come from the gRPC watch streams. With
// `watch: 'poll'`, or for the older server generation, a source has no watch and the
// informer follows it by listing and diffing on updated_at.
import {AmbientError} from '../errors.js'
import type {ResourceSource} from './watch-source.js'
import type {GrpcClient} from './grpc.js'
import type {ListAllOptions, RestClient} from './rest.js'
import type {ObjectMeta, ResourceName, ResourceTypes} from './types.js'

export type WatchStrategy = 'stream' | 'poll'

export interface CreateSourcesOptions {
  rest: RestClient
  /** Required when watch is 'stream'. */
  grpc?: GrpcClient
  watch: WatchStrategy
  /** Paging of the REST lists (pageSize, concurrency, filters). */
  list?: Omit<ListAllOptions, 'signal'>
}

export type ApiSources = {[R in ResourceName]: ResourceSource<ResourceTypes[R]>}

export function createSources(options: CreateSourcesOptions): ApiSources {
  const {rest, grpc, watch, list} = options
  if (watch === 'stream' && !grpc) {
    throw new AmbientError('watch streams need a gRPC client: pass `grpc` or use watch: poll', 'ERR_SOURCES_NO_GRPC')
  }
  function source<R extends ResourceName>(resource: R): ResourceSource<ResourceTypes[R]> {
    const out: ResourceSource<ResourceTypes[R]> = {
      resource,
      list: (signal, onPage) => rest.listAll(resource, {...list, signal, onPage}),
    }
    // The server's headers come with its first event (grpc-go), so nothing waits for them:
    // the informer lists at once and confirms with a second list (see informer.ts).
    if (watch === 'stream' && grpc) out.watch = (signal) => grpc.watch(resource, signal)
    return out
  }
  return {sessions: source('sessions'), projects: source('projects'), project_settings: source('project_settings')}
}

/** A poll-only source for any REST resource, e.g. `workflows` of the older generation. */
export function restOnlySource<T extends ObjectMeta = ObjectMeta>(
  rest: RestClient,
  resource: string,
  list: Omit<ListAllOptions, 'signal'> = {},
): ResourceSource<T> {
  return {resource, list: (signal, onPage) => rest.listAll<T>(resource, {...list, signal, onPage})}
}
