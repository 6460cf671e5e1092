// Typed errors with stable codes, so callers branch on `code` and the CLI maps them to exit codes.

export class AmbientError extends Error {
  /** Exit code when this error ends a command; 1 unless a subclass says otherwise. */
  readonly exitCode?: number

  constructor(
    message: string,
    readonly code: string,
    options?: {cause?: unknown},
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Invalid configuration: the CLI exits 2 and names the variable. */
export class ConfigError extends AmbientError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message, 'ERR_CONFIG')
  }

  override readonly exitCode = 2
}

/** Stable process exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  /** Invalid configuration or usage. */
  config: 2,
} as const

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
