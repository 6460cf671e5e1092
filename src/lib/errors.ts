// Typed errors with stable codes, so callers branch on `code` and the CLI maps them to exit codes.

export class AmbientError extends Error {
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
