import {Flags} from '@oclif/core'
import {AmbientCommand} from '../lib/cli/base.js'
import {startEmbeddedServer} from '../lib/cli/embedded.js'
import {shutdownSignal} from '../lib/cli/signals.js'
import {waitForAbort} from '../lib/util/abort.js'

export default class ApiServer extends AmbientCommand {
  static override summary = 'Run an Ambient API server (REST + gRPC watch) on this machine.'
  static override description =
    `Speaks the Ambient API contract: REST under the base path and the ambient.v1 gRPC services with watch streams. State is in memory unless --db names a SQLite file.

Without --token a token is generated and printed. The token belongs to one user (--user, default the operating-system user): sessions created through this server record that user as created_by_user_id, and the user is listed under /users. The server's URL, gRPC address and token are stored in the settings file so that the other commands on this machine find it without flags (--no-remember turns that off).`
  static override examples = [
    '<%= config.bin %> api-server',
    '<%= config.bin %> api-server --db ~/.ambient/api.db --port 8000 --grpc-port 8001',
    '<%= config.bin %> api-server --token s3cret --port 0 --grpc-port 0 --json',
  ]
  static override flags = {
    host: Flags.string({default: '127.0.0.1', description: 'Interface to listen on.'}),
    port: Flags.integer({default: 8000, min: 0, max: 65_535, description: 'REST port (0: any free port).'}),
    'grpc-port': Flags.integer({default: 8001, min: 0, max: 65_535, description: 'gRPC port (0: any free port).'}),
    token: Flags.string({description: 'Bearer token clients must send; generated when absent.'}),
    user: Flags.string({description: 'Username the token belongs to (default: the operating-system user).'}),
    db: Flags.string({description: 'SQLite file that keeps state across restarts.'}),
    'base-path': Flags.string({description: 'REST base path.', default: '/api/ambient/v1'}),
    remember: Flags.boolean({description: 'Store the URL and token in the settings file.', default: true, allowNo: true}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ApiServer)
    if (flags.user !== undefined && flags.user.trim() === '') this.error('`--user` must not be empty', {exit: 2})
    const {config} = this.loadSettings({LOG_LEVEL: flags['log-level']})
    const logger = this.createLogger(config.LOG_LEVEL, 'api-server')
    const embedded = await startEmbeddedServer({
      host: flags.host,
      port: flags.port,
      grpcPort: flags['grpc-port'],
      token: flags.token,
      username: flags.user,
      basePath: flags['base-path'],
      dbPath: flags.db,
      remember: flags.remember,
      logger,
    })
    const {server} = embedded
    const shutdown = shutdownSignal()
    try {
      const ready = {
        type: 'READY',
        url: server.url,
        basePath: flags['base-path'],
        grpcAddress: server.grpcAddress,
        ...(embedded.generatedToken ? {token: embedded.token} : {}),
      }
      // oclif mutes this.log under --json; the READY line is the one thing scripts wait for.
      if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(ready)}\n`)
      else {
        this.log(`REST  ${server.url}${flags['base-path']}`)
        this.log(`gRPC  ${server.grpcAddress}`)
        if (embedded.generatedToken) this.log(`token ${embedded.token}`)
      }
      await waitForAbort(shutdown.signal)
      logger.info({signal: shutdown.received()}, 'shutting down')
    } finally {
      shutdown.dispose()
      await embedded.close()
    }
  }
}
