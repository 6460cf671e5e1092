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
  readonly pid: number
  /** Undefined while the check runs. */
  readonly result?: HealthResult
  /** Stops the check; `onSettled` is then never called. */
  cancel(): void
}

export interface HealthCheckOptions {
  manager: Pick<RunnerManager, 'waitHealthy'>
  timeoutMs: number
  intervalMs: number
  now: () => Date
  /** Called once when the check settles (not when cancelled). */
  onSettled: () => void
}

/** Starts checking `runner` in the background. */
export function startHealthCheck(runner: Pick<ManagedRunner, 'sessionId' | 'pid'>, options: HealthCheckOptions): HealthCheck {
  const controller = new AbortController()
  const {manager, timeoutMs, intervalMs, now, onSettled} = options
  let result: HealthResult | undefined
  manager
    .waitHealthy(runner.sessionId, {timeoutMs, intervalMs, signal: controller.signal})
    .then(
      () => {
        result = {kind: 'healthy', at: now()}
      },
      (err: unknown) => {
        result = classify(err, controller.signal.aborted)
      },
    )
    .finally(() => {
      if (!controller.signal.aborted) onSettled()
    })
  return {
    pid: runner.pid,
    get result() {
      return result
    },
    cancel: () => controller.abort(),
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
