// The Ambient API clients: REST (lists, writes), gRPC (watch streams, status writes) and
// their adaptation to the informer's ResourceSource seam.
export * from './types.js'
export * from './errors.js'
export {RestClient, DEFAULT_BASE_PATH, LEGACY_BASE_PATH} from './rest.js'
export type {RestClientOptions, RequestOptions, ListCallOptions, ListAllOptions, SpecTypes} from './rest.js'
export {fetchAllPages, type FetchAllPagesOptions} from './paging.js'
export {GrpcClient, DEFAULT_CHANNEL_OPTIONS, httpStatusOf} from './grpc.js'
export type {GrpcClientOptions, GrpcCallOptions, GrpcListAllOptions, GrpcPage, GrpcWatch} from './grpc.js'
export {createSources, restOnlySource} from './sources.js'
export type {ApiSources, CreateSourcesOptions, WatchStrategy} from './sources.js'
