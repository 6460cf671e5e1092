// The base of every command: `--json` (oclif prints the returned value, errors too), config
// resolution with the documented precedence, the mapping of typed errors to stable exit
// codes (2 for invalid configuration, 1 for everything else), and the last line of defence
// against terminal escape injection: every human line, error message and JSON document a
// command prints passes the sanitizer (views sanitize their cells too, so layouts hold).
import {format} from 'node:util'
import {Command, Errors, Flags, ux} from '@oclif/core'
import {loadConfig, type Overrides, type ResolvedConfig} from '../config/index.js'
import {AmbientError, ConfigError, ExitCode} from '../errors.js'
import {createLogger, type Logger, type LogLevel} from '../log.js'
import {sanitizeLines, terminalSafeJson} from '../tui/sanitize.js'

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

  /** Resolves configuration once per command run; flags given here take precedence. */
  protected loadSettings(overrides: Overrides = {}): ResolvedConfig {
    this.resolved ??= loadConfig({overrides})
    return this.resolved
  }

  protected createLogger(level: LogLevel, name = 'ambient', file?: string): Logger {
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
    if (err instanceof ConfigError) {
      return super.catch(new Errors.CLIError(err.message, {exit: ExitCode.config}))
    }
    if (err instanceof AmbientError && !(err instanceof Errors.CLIError)) {
      return super.catch(new Errors.CLIError(err.message, {exit: err.exitCode ?? ExitCode.failure}))
    }
    return super.catch(err)
  }
}
