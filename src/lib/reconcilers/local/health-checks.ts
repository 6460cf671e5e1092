// The contract's health check (GET /health answering 200 within 15 s, every 500 ms) runs in
// the background, one per runner, so a reconcile worker is never held for 15 s: the
// reconciler starts a check, returns, and is re-enqueued when the check settles.
import {errorMessage} from '../../errors.js'
import {HealthCheckTimeoutError, RunnerExitedError, RunnerNotFoundError, type ManagedRunner, type RunnerManager} from '../../process/index.js'

export type HealthResult =
  | {kind: 'healthy'; at: Date}
  | {kind: 'timeout'; message: string}
  /** The runner exited or is being stopped: its exit says what happened. */
  | {kind: 'ended'}
  | {kind: 'error'; message: string}

export interface HealthCheck {
  /** The run it checks: a check of an earlier run of the session does not count. */
  pid: number
  /** Undefined while the check runs. */
  result?: HealthResult
}

export interface HealthChecksOptions {
  manager: RunnerManager
  timeoutMs: number
  intervalMs: number
  now: () => Date
  /** Called when a check settles (not when cancelled). */
  onSettled: (sessionId: string) => void
}

export class HealthChecks {
  readonly #options: HealthChecksOptions
  readonly #checks = new Map<string, HealthCheck & {controller: AbortController}>()

  constructor(options: HealthChecksOptions) {
    this.#options = options
  }

  get(sessionId: string): HealthCheck | undefined {
    return this.#checks.get(sessionId)
  }

  /** Starts checking `runner`, replacing any check of the session. */
  start(runner: ManagedRunner): HealthCheck {
    const id = runner.sessionId
    this.cancel(id)
    const controller = new AbortController()
    const check: HealthCheck & {controller: AbortController} = {pid: runner.pid, controller}
    this.#checks.set(id, check)
    const {manager, timeoutMs, intervalMs, now, onSettled} = this.#options
    manager
      .waitHealthy(id, {timeoutMs, intervalMs, signal: controller.signal})
      .then(
        () => {
          check.result = {kind: 'healthy', at: now()}
        },
        (err: unknown) => {
          check.result = classify(err, controller.signal.aborted)
        },
      )
      .finally(() => {
        if (!controller.signal.aborted && this.#checks.get(id) === check) onSettled(id)
      })
    return check
  }

  /** Stops and forgets the session's check. */
  cancel(sessionId: string): void {
    this.#checks.get(sessionId)?.controller.abort()
    this.#checks.delete(sessionId)
  }

  cancelAll(): void {
    for (const id of [...this.#checks.keys()]) this.cancel(id)
  }
}

function classify(err: unknown, aborted: boolean): HealthResult {
  if (err instanceof HealthCheckTimeoutError) {
    const last = err.lastError ? ` (last error: ${err.lastError})` : ''
    return {kind: 'timeout', message: `GET /health did not answer 200 within ${err.timeoutMs / 1000} s${last}; the runner was killed`}
  }
  if (aborted || err instanceof RunnerExitedError || err instanceof RunnerNotFoundError) return {kind: 'ended'}
  return {kind: 'error', message: errorMessage(err)}
}
