// The base of every command: `--json` (oclif prints the returned value, errors too), config
// resolution with the documented precedence, the mapping of typed errors to stable exit
// codes (2 for invalid configuration, 1 for everything else), and the last line of defence
// against terminal escape injection: every human line, error message and JSON document a
// command prints passes the sanitizer (views sanitize their cells too, so layouts hold). How a
// failure is reported on stderr is decided in one place, src/lib/cli/fatal.ts.
import path from 'node:path'
import {format} from 'node:util'
import {Command, Errors, Flags, ux} from '@oclif/core'
import {ensureDir, loadConfig, type Overrides, type ResolvedConfig} from '../config/index.js'
import {AmbientError, ConfigError, ExitCode} from '../errors.js'
import {createLogger, type Logger, type LogLevel} from '../log.js'
import {sanitizeLines, terminalSafeJson} from '../util/sanitize.js'
import {markShownAsJson, toCliError} from './fatal.js'
import {restoreShell} from './shell.js'

export abstract class AmbientCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    'log-level': Flags.option({
      options: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      description: 'Log level (env LOG_LEVEL).',
      helpGroup: 'GLOBAL',
    })(),
  }

  private resolved?: ResolvedConfig

  protected override async init(): Promise<void> {
    restoreShell()
    await super.init()
  }

  /** Resolves configuration once per command run; flags given here take precedence. */
  protected loadSettings(overrides: Overrides = {}): ResolvedConfig {
    this.resolved ??= loadConfig({overrides})
    return this.resolved
  }

  /** `file`: the live views' log, under AMBIENT_STATE_DIR/logs (created now, named if it cannot be). */
  protected createLogger(level: LogLevel, name = 'ambient', file?: string): Logger {
    if (file) ensureDir({dir: path.dirname(file), variable: 'AMBIENT_STATE_DIR', purpose: 'the log file of the live view'})
    return createLogger({level, name, file})
  }

  /** Human output: control characters shown escaped, lines kept. */
  override log(message = '', ...args: unknown[]): void {
    super.log(sanitizeLines(args.length > 0 ? format(message, ...args) : message))
  }

  /** --json output: the same JSON, with DEL, C1 and bidi characters written as \u escapes. */
  protected override logJson(json: unknown): void {
    ux.stdout(terminalSafeJson(ux.colorizeJson(json, {pretty: true, theme: this.config.theme?.json})))
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    // oclif prints the message to stderr; under --json it goes out as JSON (kept exact).
    if (!this.jsonEnabled() && typeof err.message === 'string') err.message = sanitizeLines(err.message)
    let cli: Error = err
    if (err instanceof ConfigError) cli = toCliError(err, ExitCode.config)
    else if (err instanceof AmbientError && !(err instanceof Errors.CLIError)) cli = toCliError(err, err.exitCode ?? ExitCode.failure)
    // Without --json oclif rethrows; with it, it prints {"error": ...} on stdout and returns.
    await super.catch(cli)
    // Either way the process ends in bin/run.js, which reports fatal errors in one place.
    markShownAsJson(cli)
    throw cli
  }
}
