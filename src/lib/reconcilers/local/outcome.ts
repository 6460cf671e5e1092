// How a runner's end becomes a session's terminal status: Completed for exit 0, Failed with
// `ProcessExited: exit code N` (or the signal) and the stderr tail otherwise, Stopped whenever
// the end was asked for (a stop of the session, `ambient runners kill`, shutdown). Pure
// functions over what the runner manager reported, so every verdict is testable alone.
import {HEALTH_CHECK_PASSED, PROCESS_SPAWNED, REASONS, RUNNER_STARTED, type ConditionUpdate} from './conditions.js'
import type {StopRequest} from './stop-requests.js'

export type TerminalPhase = 'Completed' | 'Failed' | 'Stopped'

/** A runner exit as the reconciler keeps it until the session's status says so. */
export interface RecordedExit {
  sessionId: string
  /** The runner's pid, when known (to match a stop request to the run it was meant for). */
  pid?: number
  /** null when killed by a signal, or unknown (adopted runners are not our children). */
  exitCode: number | null
  signal: NodeJS.Signals | null
  stderrTail: readonly string[]
  adopted: boolean
  /** This process stopped it (session Stopping, deleted, shutdown...). */
  stopRequested: boolean
  /**
   * Found by adoption at start: already dead, alive but not healthy (then killed), or named
   * by a record that did not check out against /proc (then neither adopted nor signalled).
   */
  reaped?: 'dead' | 'unhealthy' | 'refused'
  at: Date
}

export interface TerminalOutcome {
  phase: TerminalPhase
  /** The verdict's reason (also the RunnerStarted condition's reason). */
  reason: string
  message: string
  /** RFC 3339, fixed when the verdict is reached so a retried write sends the same value. */
  completionTime: string
  conditions: ConditionUpdate[]
}

/** "exit code 3", "signal SIGKILL", or "exit status unknown". */
export function describeExit(exit: Pick<RecordedExit, 'exitCode' | 'signal'>): string {
  if (exit.exitCode !== null) return `exit code ${exit.exitCode}`
  if (exit.signal) return `signal ${exit.signal}`
  return 'exit status unknown'
}

function withTail(summary: string, tail: readonly string[]): string {
  if (tail.length === 0) return summary
  return `${summary}\nlast ${tail.length} line(s) of stderr:\n${tail.join('\n')}`
}

function terminal(phase: TerminalPhase, reason: string, message: string, completionTime: string, extra: ConditionUpdate[] = []): TerminalOutcome {
  return {
    phase,
    reason,
    message,
    completionTime,
    conditions: [...extra, {type: RUNNER_STARTED, status: 'False', reason, message}],
  }
}

function stopped(message: string, completionTime: string): TerminalOutcome {
  return terminal('Stopped', REASONS.stopped, message, completionTime)
}

function stopRequestMessage(request: StopRequest): string {
  return `stopped with ${request.signal} by ${request.requestedBy} at ${request.requestedAt}`
}

export interface ExitOutcomeOptions {
  /** A stop request on disk for this run (`ambient runners kill` from another shell). */
  stopRequest?: StopRequest
  /** The exit was caused by this process shutting down. */
  shutdown?: boolean
}

/** The terminal status a runner exit means. */
export function outcomeFromExit(exit: RecordedExit, completionTime: string, options: ExitOutcomeOptions = {}): TerminalOutcome {
  const how = describeExit(exit)
  if (options.shutdown && exit.stopRequested) return stopped(`ambient run shut down and stopped the runner (${how})`, completionTime)
  if (options.stopRequest) return stopped(`${stopRequestMessage(options.stopRequest)} (${how})`, completionTime)
  if (exit.stopRequested) return stopped(`runner stopped on request (${how})`, completionTime)
  if (exit.reaped === 'unhealthy') {
    const message = 'the runner found after a restart did not answer GET /health and was killed'
    return terminal('Failed', REASONS.healthCheckTimeout, withTail(message, exit.stderrTail), completionTime, [
      {type: HEALTH_CHECK_PASSED, status: 'False', reason: REASONS.healthCheckTimeout, message},
    ])
  }
  if (exit.reaped === 'refused') {
    return terminal(
      'Failed',
      REASONS.runnerLost,
      withTail(
        "the runner record found after a restart did not check out against /proc (see ambient's log), so its process was neither adopted nor signalled",
        exit.stderrTail,
      ),
      completionTime,
    )
  }
  if (exit.reaped === 'dead') {
    return terminal(
      'Failed',
      REASONS.runnerLost,
      withTail('the runner exited while ambient was not running (exit status unknown)', exit.stderrTail),
      completionTime,
    )
  }
  if (exit.exitCode === 0) return terminal('Completed', REASONS.completed, 'runner exited with code 0', completionTime)
  const reason = `ProcessExited: ${how}`
  const summary =
    exit.adopted && exit.exitCode === null ? `${reason} (the runner was adopted after a restart, so its exit status cannot be read)` : reason
  return terminal('Failed', reason, withTail(summary, exit.stderrTail), completionTime)
}

/** No runner and no exit on record: ambient was not running when it ended, or it never existed here. */
export function lostOutcome(completionTime: string, stopRequest?: StopRequest): TerminalOutcome {
  if (stopRequest) return stopped(stopRequestMessage(stopRequest), completionTime)
  return terminal(
    'Failed',
    REASONS.runnerLost,
    'no runner process exists for this session (it ended while ambient was not running, or its record was removed)',
    completionTime,
  )
}

export function healthTimeoutOutcome(detail: string, completionTime: string): TerminalOutcome {
  return terminal('Failed', REASONS.healthCheckTimeout, detail, completionTime, [
    {type: HEALTH_CHECK_PASSED, status: 'False', reason: REASONS.healthCheckTimeout, message: detail},
  ])
}

/** Stopping with no runner (never spawned, or already gone). */
export function stoppedOutcome(message: string, completionTime: string): TerminalOutcome {
  return stopped(message, completionTime)
}

/** The session could not get a runner at all (bad data, command not found...). */
export function notSpawnedOutcome(reason: string, message: string, completionTime: string): TerminalOutcome {
  return {phase: 'Failed', reason, message, completionTime, conditions: [{type: PROCESS_SPAWNED, status: 'False', reason, message}]}
}

export function unknownPhaseOutcome(phase: string, completionTime: string): TerminalOutcome {
  return terminal('Failed', REASONS.unknownPhase, `phase ${JSON.stringify(phase)} is not a session phase and no runner exists`, completionTime)
}
