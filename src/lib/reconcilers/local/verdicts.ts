// The terminal verdict of a session from what its run remembers (an exit, a verdict already
// reached, a stop request on disk), and its write. A verdict is kept in the run until written,
// so a retried write sends the same phase, reason and completion_time.
import {SESSION_PHASES, type Session, type SessionStatusPatch} from '../../api/types.js'
import type {RunnerExit} from '../../process/index.js'
import {mergeConditions} from './conditions.js'
import {rfc3339, type LocalContext} from './context.js'
import {describeExit, lostOutcome, outcomeFromExit, stoppedOutcome, unknownPhaseOutcome, type RecordedExit, type TerminalOutcome} from './outcome.js'
import type {SessionRun} from './session-run.js'

const KNOWN_PHASES: ReadonlySet<string> = new Set(SESSION_PHASES)

/** Stopping and no runner: Stopped, saying how the runner ended if it was running. */
export function stoppingVerdict(run: SessionRun, now: Date): TerminalOutcome {
  const cached = run.outcome
  const exit = run.exit
  const outcome =
    cached?.phase === 'Stopped'
      ? cached
      : stoppedOutcome(exit ? `runner stopped on request (${describeExit(exit)})` : 'stopped before a runner was running', rfc3339(now))
  run.outcome = outcome
  return outcome
}

/** The verdict for a session that should have a runner and has none. */
export async function verdictWithoutRunner(ctx: LocalContext, run: SessionRun, session: Session): Promise<TerminalOutcome> {
  if (run.outcome) return run.outcome
  const exit = run.exit
  const request = await ctx.stopRequests.read(session.id)
  const now = rfc3339(ctx.now())
  let outcome: TerminalOutcome
  if (exit) {
    const stopRequest = request && (exit.pid === undefined || request.pid === exit.pid) ? request : undefined
    outcome = outcomeFromExit(exit, rfc3339(exit.at), {stopRequest, shutdown: ctx.closed()})
  } else if (!KNOWN_PHASES.has(session.phase ?? '')) {
    outcome = unknownPhaseOutcome(session.phase ?? '', now)
  } else {
    outcome = lostOutcome(now, request)
  }
  run.outcome = outcome
  return outcome
}

/** A runner stopped by shutdown: a verdict already reached (e.g. a health timeout) stands. */
export function shutdownVerdict(run: SessionRun | undefined, exit: RunnerExit, now: Date): TerminalOutcome {
  const recorded: RecordedExit = run?.exit ?? {...exit, at: now}
  return run?.outcome ?? outcomeFromExit(recorded, rfc3339(recorded.at), {shutdown: true})
}

export async function writeTerminal(ctx: LocalContext, session: Session, outcome: TerminalOutcome, signal: AbortSignal): Promise<void> {
  const patch: SessionStatusPatch = {
    phase: outcome.phase,
    completion_time: outcome.completionTime,
    conditions: mergeConditions(session.conditions, outcome.conditions, outcome.completionTime),
  }
  const before = session.phase ?? ''
  const written = await ctx.writes.write(session, patch, signal, false)
  if (before !== outcome.phase) {
    const log = outcome.phase === 'Failed' ? ctx.logger.warn.bind(ctx.logger) : ctx.logger.info.bind(ctx.logger)
    log({session: session.id, phase: outcome.phase, reason: outcome.reason}, `session ${outcome.phase}`)
  }
  // The verdict now lives in the API.
  if ((written.session.phase ?? '') === outcome.phase) ctx.forgetRun(session.id)
}
