// The base of every command: `--json` (oclif prints the returned value, errors too), config
// resolution with the documented precedence, and the mapping of typed errors to stable exit
// codes (2 for invalid configuration, 1 for everything else).
import {Command, Errors, Flags} from '@oclif/core'
import {loadConfig, type Overrides, type ResolvedConfig} from '../config/index.js'
import {AmbientError, ConfigError, ExitCode} from '../errors.js'
import {createLogger, type Logger, type LogLevel} from '../log.js'

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

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof ConfigError) {
      return super.catch(new Errors.CLIError(err.message, {exit: ExitCode.config}))
    }
    if (err instanceof AmbientError && !(err instanceof Errors.CLIError)) {
      return super.catch(new Errors.CLIError(err.message, {exit: err.exitCode ?? ExitCode.failure}))
    }
    return super.catch(err)
  }
}
