import {Flags} from '@oclif/core'
import {AmbientCommand} from '../lib/cli/base.js'
import {shutdownSignal} from '../lib/cli/signals.js'
import {waitForAbort} from '../lib/util/abort.js'

export default class ProxyCommand extends AmbientCommand {
  static override summary = 'Run the AG-UI reverse proxy alone, routing to the local runners of the registry.'
  static override description =
    `Routes /sessions/{id}/agui/events (Server-Sent Events, unbuffered), /agui/run, /agui/interrupt, /health, /mcp/status and /repos/status to the runner of session {id}, found in <AMBIENT_STATE_DIR>/runners: any runner started by \`ambient run --mode local\`, in this shell or another. The proxy's own health is GET /health. Unknown session: 404; runner unreachable: 502.

It answers only Host headers localhost, 127.0.0.1 and [::1] with its port, and the names in LOCAL_PROXY_ALLOWED_HOSTS (else 421: a web page cannot reach it by DNS rebinding), and refuses browser requests from another site that run or interrupt agents unless they come from CORS_ALLOWED_ORIGIN (403).

\`ambient run --mode local\` runs the same proxy itself; use this command when it does not (or to serve another address). Runs until SIGINT/SIGTERM. With --json, prints one READY line with the URL.`
  static override examples = [
    '<%= config.bin %> proxy',
    '<%= config.bin %> proxy --addr 127.0.0.1:9090 --cors-origin http://localhost:5173',
    '<%= config.bin %> proxy --addr 127.0.0.1:0 --json',
  ]
  static override flags = {
    addr: Flags.string({description: 'Listen address host:port (env LOCAL_PROXY_ADDR, default 127.0.0.1:9080).'}),
    'cors-origin': Flags.string({description: 'The one origin browsers may call from (env CORS_ALLOWED_ORIGIN, default http://localhost:3000).'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ProxyCommand)
    const {config} = this.loadSettings({LOCAL_PROXY_ADDR: flags.addr, CORS_ALLOWED_ORIGIN: flags['cors-origin'], LOG_LEVEL: flags['log-level']})
    const logger = this.createLogger(config.LOG_LEVEL, 'proxy')
    const [{startAguiProxy}, {RunnerRegistry, registryResolver, runnerRegistryDir}] = await Promise.all([
      import('../lib/proxy/index.js'),
      import('../lib/process/index.js'),
    ])
    const registry = new RunnerRegistry({dir: runnerRegistryDir(config.AMBIENT_STATE_DIR), logger})
    const shutdown = shutdownSignal()
    try {
      const proxy = await startAguiProxy({
        host: config.LOCAL_PROXY_ADDR.host || '127.0.0.1',
        port: config.LOCAL_PROXY_ADDR.port,
        corsOrigin: config.CORS_ALLOWED_ORIGIN,
        allowedHosts: config.LOCAL_PROXY_ALLOWED_HOSTS,
        resolve: registryResolver(registry),
        logger,
        signal: shutdown.signal,
      })
      // oclif mutes this.log under --json; the READY line is what scripts wait for.
      if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify({type: 'READY', url: proxy.url, registry: registry.dir})}\n`)
      else this.log(`AG-UI proxy on ${proxy.url} (runners from ${registry.dir})`)
      await waitForAbort(shutdown.signal)
      await proxy.close()
    } finally {
      shutdown.dispose()
      logger.flush()
    }
  }
}
