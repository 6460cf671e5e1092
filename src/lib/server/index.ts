// The embedded Ambient API server: REST and gRPC over one store, for local use, tests and
// benchmarks. On the wire it behaves like the real (rh-trex based) server; see the contract.
import type {Server as HttpServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import os from 'node:os'
import {silentLogger, type Logger} from '../log.js'
import {GrpcApi, type WatchMode} from './grpc/server.js'
import {createRestServer} from './rest/server.js'
import {STORE_RESOURCES} from './schema.js'
import {SqliteBacking} from './sqlite.js'
import {Store} from './store.js'

export {Store} from './store.js'
export type {ChangeEvent, ChangeListener, CreateInputs, PatchInputs, StoreOptions} from './store.js'
export type {StoreResource, StoreTypes, User} from './schema.js'
export {ApiServerError, ERROR_CODE_PREFIX} from './errors.js'
export type {WatchMode} from './grpc/server.js'

export const DEFAULT_BASE_PATH = '/api/ambient/v1'

export interface ApiServerOptions {
  /** Listen address for both servers; default 127.0.0.1. */
  host?: string
  /** REST port; default 8000, 0 = ephemeral. */
  port?: number
  /** gRPC port; default 8001, 0 = ephemeral. */
  grpcPort?: number
  /** Bearer token required on every REST and gRPC call. */
  token: string
  /**
   * The user the token belongs to (the real server takes it from the caller's JWT): every
   * session created through this server gets it as created_by_user_id, whatever the request
   * says, and a User with this username (and name) is in /users from the start. Default: the
   * operating-system user's name, else "ambient".
   */
  username?: string
  basePath?: string
  /** SQLite file; default in memory only. */
  dbPath?: string
  logger?: Logger
  /** RFC 3339 microsecond timestamps; default a MicrosecondClock. */
  clock?: () => string
  /** REST request body limit (413 above it); default 1 MiB. */
  maxBodyBytes?: number
  /** Watch notices a stream may lag behind before RESOURCE_EXHAUSTED; default 100000. */
  maxPendingWatchEvents?: number
  /** Fill llm_model/llm_temperature/llm_max_tokens defaults on create like the real server; default true. */
  llmDefaults?: boolean
  /** Aborting it closes the server (same as close()). */
  signal?: AbortSignal
}

export interface ApiServer {
  /** http://HOST:PORT, without the base path. */
  url: string
  /** HOST:PORT of the gRPC server. */
  grpcAddress: string
  basePath: string
  /** The token's user (see ApiServerOptions.username). */
  username: string
  /** Direct access for tests and benchmarks; its writes emit watch events too. */
  store: Store
  /** Ends every open watch stream with UNAVAILABLE, like the real server's broker going away. */
  killWatchStreams(): void
  /** 'unimplemented' answers new watch calls with UNIMPLEMENTED, like the older generation. */
  setWatchMode(mode: WatchMode): void
  close(): Promise<void>
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  if (!options.token) throw new TypeError('startApiServer: `token` must be a non-empty string')
  const username = options.username ?? defaultUsername()
  if (!username) throw new TypeError('startApiServer: `username` must be a non-empty string')
  const host = options.host ?? '127.0.0.1'
  const basePath = (options.basePath ?? DEFAULT_BASE_PATH).replace(/\/+$/, '')
  const logger = options.logger ?? silentLogger

  const backing = options.dbPath ? await SqliteBacking.open(options.dbPath, STORE_RESOURCES) : undefined
  const store = new Store({
    basePath,
    backing,
    logger,
    clock: options.clock,
    llmDefaults: options.llmDefaults,
  })
  try {
    if (!store.findUser(username)) store.create('users', {username, name: username})
  } catch (err) {
    store.close()
    throw err
  }

  const http = createRestServer({store, token: options.token, username, basePath, logger, maxBodyBytes: options.maxBodyBytes})
  const grpc = new GrpcApi({store, token: options.token, username, logger, maxPendingWatchEvents: options.maxPendingWatchEvents})

  let restPort: number
  let grpcPort: number
  try {
    restPort = await listen(http, host, options.port ?? 8000)
    grpcPort = await grpc.listen(host, options.grpcPort ?? 8001)
  } catch (err) {
    http.close()
    http.closeAllConnections()
    grpc.server.forceShutdown()
    store.close()
    throw err
  }
  const hostForUrl = host.includes(':') ? `[${host}]` : host
  logger.info({rest: restPort, grpc: grpcPort, basePath, db: options.dbPath ?? ':memory:'}, 'API server listening')

  let closing: Promise<void> | undefined
  const api: ApiServer = {
    url: `http://${hostForUrl}:${restPort}`,
    grpcAddress: `${hostForUrl}:${grpcPort}`,
    basePath,
    username,
    store,
    killWatchStreams: () => grpc.killWatchStreams(),
    setWatchMode: (mode) => grpc.setWatchMode(mode),
    close: () => {
      closing ??= (async () => {
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()))
        http.closeIdleConnections()
        await grpc.close()
        // Requests still running after the gRPC grace period are cut.
        http.closeAllConnections()
        await httpClosed
        store.close()
      })()
      return closing
    },
  }
  if (options.signal) {
    const onAbort = () => {
      api.close().catch((err: unknown) => logger.error({err}, 'API server close failed'))
    }
    if (options.signal.aborted) onAbort()
    else options.signal.addEventListener('abort', onAbort, {once: true})
  }
  return api
}

function defaultUsername(): string {
  try {
    return os.userInfo().username || 'ambient'
  } catch {
    // No passwd entry for this uid (common in containers).
    return 'ambient'
  }
}

function listen(server: HttpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
  })
}
