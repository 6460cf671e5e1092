// An Ambient API server inside the CLI process (`ambient api-server`, `ambient run
// --embedded`). Its address and token go to the settings file so that commands in other
// shells on this machine find it without flags.
import {randomBytes} from 'node:crypto'
import type {Overrides} from '../config/index.js'
import {openSettingsStore} from '../config/index.js'
import type {Logger} from '../log.js'
import type {ApiServer} from '../server/index.js'

export interface EmbeddedServerOptions {
  host?: string
  port: number
  grpcPort: number
  token?: string
  /** Who the token belongs to (created_by_user_id of new sessions); default the OS user. */
  username?: string
  dbPath?: string
  basePath: string
  /** Write URL, gRPC address and token to the settings file (default true). */
  remember?: boolean
  logger: Logger
}

export interface EmbeddedServer {
  server: ApiServer
  token: string
  generatedToken: boolean
  /** Settings that point clients at this server (highest precedence). */
  overrides: Overrides
  close(): Promise<void>
}

export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const token = options.token ?? randomBytes(24).toString('base64url')
  const {startApiServer} = await import('../server/index.js')
  const server = await startApiServer({
    host: options.host ?? '127.0.0.1',
    port: options.port,
    grpcPort: options.grpcPort,
    token,
    username: options.username,
    basePath: options.basePath,
    dbPath: options.dbPath,
    logger: options.logger,
  })
  const overrides: Overrides = {
    AMBIENT_API_SERVER_URL: server.url,
    AMBIENT_API_BASE_PATH: options.basePath,
    AMBIENT_GRPC_SERVER_ADDR: server.grpcAddress,
    AMBIENT_GRPC_USE_TLS: false,
    AMBIENT_API_TOKEN: token,
  }
  if (options.remember ?? true) {
    const store = openSettingsStore()
    try {
      store.update({
        AMBIENT_API_SERVER_URL: server.url,
        AMBIENT_API_BASE_PATH: options.basePath,
        AMBIENT_GRPC_SERVER_ADDR: server.grpcAddress,
        AMBIENT_API_TOKEN: token,
        AMBIENT_GRPC_USE_TLS: undefined,
      })
    } catch (err) {
      // The caller never gets the server to close.
      await server.close()
      throw err
    }
    options.logger.info({path: store.path}, 'stored the server address and token in the settings file')
  }
  return {server, token, generatedToken: options.token === undefined, overrides, close: () => server.close()}
}
