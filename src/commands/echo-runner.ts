import {Flags} from '@oclif/core'
import {AmbientCommand} from '../lib/cli/base.js'
import {createLogger, type LogLevel} from '../lib/log.js'

export default class EchoRunner extends AmbientCommand {
  static override summary = 'Run the built-in echo runner: an AG-UI runner that echoes the last user message.'
  static override description =
    `Serves the HTTP surface of a local-mode runner on 127.0.0.1:$AGUI_PORT: GET /health, POST / (a run, as Server-Sent Events), GET / (the live event stream), POST /interrupt, GET /mcp/status and /repos/status. With AGUI_TOKEN set, every request must carry it in X-Ambient-Session-Token (the AG-UI proxy adds it).

Runs until SIGTERM or SIGINT, then exits 0. \`ambient run --mode local --embedded\` uses it as the runner command when LOCAL_RUNNER_COMMAND is not set.`
  static override examples = [
    'AGUI_PORT=9100 <%= config.bin %> echo-runner',
    '<%= config.bin %> echo-runner --port 0',
    'LOCAL_RUNNER_COMMAND="$(command -v node) $(pwd)/bin/run.js echo-runner" <%= config.bin %> run --mode local',
  ]
  static override enableJsonFlag = false
  static override flags = {
    port: Flags.integer({min: 0, max: 65_535, description: 'Port to listen on (env AGUI_PORT; 0: any free port).'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(EchoRunner)
    // No settings file here: a runner's environment is allowlisted, and a broken user setting
    // must not stop it from starting. Logs go to stderr (the runner's stderr.log).
    const level: LogLevel = flags['log-level'] ?? 'warn'
    const logger = createLogger({level, name: 'echo-runner', pretty: false})
    const env = flags.port === undefined ? process.env : {...process.env, AGUI_PORT: String(flags.port)}
    const {runEchoMain} = await import('../lib/runner/index.js')
    const code = await runEchoMain({env, logger, onListening: (url) => this.log(`echo runner listening on ${url}`)})
    logger.flush()
    if (code !== 0) this.exit(code)
  }
}
