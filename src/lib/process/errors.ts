// Typed failures of local runner management, so the reconciler and the CLI branch on `code`.
import {AmbientError} from '../errors.js'

/** A session id that is not a single safe path segment (it could escape the workspace root). */
export class UnsafeSessionIdError extends AmbientError {
  constructor(readonly sessionId: string) {
    super(
      `session id ${JSON.stringify(sessionId)} is not a safe path segment (letters, digits, '.', '_', '-'; starting with a letter or digit; at most 128)`,
      'ERR_UNSAFE_SESSION_ID',
    )
  }
}

/** `maxSessions` runners are already alive. */
export class RunnerCapacityError extends AmbientError {
  constructor(readonly maxSessions: number) {
    super(`at most ${maxSessions} local runners may run at once (LOCAL_MAX_SESSIONS)`, 'ERR_RUNNER_CAPACITY')
  }
}

/** Every port of the range is taken. */
export class NoFreePortError extends AmbientError {
  constructor(
    readonly from: number,
    readonly to: number,
  ) {
    super(`no free port in ${from}-${to} (LOCAL_PORT_RANGE)`, 'ERR_NO_FREE_PORT')
  }
}

export class RunnerExistsError extends AmbientError {
  constructor(readonly sessionId: string) {
    super(`a runner for session ${sessionId} is already running`, 'ERR_RUNNER_EXISTS')
  }
}

export class RunnerNotFoundError extends AmbientError {
  constructor(readonly sessionId: string) {
    super(`no runner for session ${sessionId}`, 'ERR_RUNNER_NOT_FOUND')
  }
}

/** The runner did not answer `GET /health` with 200 in time (contract: `HealthCheckTimeout`). */
export class HealthCheckTimeoutError extends AmbientError {
  constructor(
    readonly sessionId: string,
    readonly timeoutMs: number,
    readonly lastError?: string,
  ) {
    super(`runner of session ${sessionId} not healthy after ${timeoutMs} ms${lastError ? `: ${lastError}` : ''}`, 'ERR_HEALTH_CHECK_TIMEOUT')
  }
}

/** The runner exited while we were waiting for it. */
export class RunnerExitedError extends AmbientError {
  constructor(
    readonly sessionId: string,
    readonly processExitCode: number | null,
    readonly stderrTail: string[],
  ) {
    super(
      `runner of session ${sessionId} exited${processExitCode === null ? '' : ` with code ${processExitCode}`} before it was healthy`,
      'ERR_RUNNER_EXITED',
    )
  }
}

/** The runner command could not be started at all (missing binary, bad cwd...). */
export class RunnerSpawnError extends AmbientError {
  constructor(
    readonly sessionId: string,
    message: string,
    options?: {cause?: unknown},
  ) {
    super(`cannot start runner of session ${sessionId}: ${message}`, 'ERR_RUNNER_SPAWN', options)
  }
}

/** A registry file that cannot be read or written. */
export class RunnerRegistryError extends AmbientError {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, 'ERR_RUNNER_REGISTRY', options)
  }
}

/** A process did not go away even after SIGKILL (should not happen outside a broken kernel/sandbox). */
export class RunnerKillTimeoutError extends AmbientError {
  constructor(
    readonly pgid: number,
    readonly waitedMs: number,
  ) {
    super(`process group ${pgid} still alive ${waitedMs} ms after SIGKILL`, 'ERR_RUNNER_KILL_TIMEOUT')
  }
}

/** A runner record that does not check out against /proc: nothing is signalled. */
export class UnverifiedRunnerError extends AmbientError {
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}; refusing to signal it (if no runner of it is left, remove the record)`, 'ERR_RUNNER_UNVERIFIED')
  }
}

/** A runner's log pipe that cannot be made or opened. */
export class RunnerLogPipeError extends AmbientError {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, 'ERR_RUNNER_LOG_PIPE', options)
  }
}
