// The two user requests the Ambient API records before whatever runs the session has seen
// them: POST /sessions/{id}/stop sets Stopping, POST /start sets Pending again. Until the run
// (an AgenticSession's status, ...) reflects the request, its older phase must not be copied
// back over it. The kube reconciler and `ambient diff` both decide by these functions.
import {compareRfc3339} from './time.js'
import {TERMINAL_PHASES, type Session, type SessionStatusPatch} from './types.js'

/** What the session's run reports: its phase and, once over, when it ended. */
export interface ObservedRun {
  phase?: string
  completionTime?: string
}

export type PhaseRequest = 'stop' | 'restart'

/**
 * A session not yet in a terminal phase is in flux: its controller resyncs it often (30 s
 * rather than 5 min), so a missed event never leaves it stuck.
 */
export function sessionInFlight(session: Pick<Partial<Session>, 'phase'>): boolean {
  return !TERMINAL_PHASES.has(session.phase ?? '')
}

/**
 * The request the session holds that `run` has not taken up: `stop` while the session says
 * Stopping and the run is neither stopping nor over; `restart` when the session says Pending
 * and was updated after the run had completed.
 */
export function pendingPhaseRequest(session: Pick<Partial<Session>, 'phase' | 'updated_at'>, run: ObservedRun): PhaseRequest | undefined {
  const phase = run.phase ?? ''
  if (session.phase === 'Stopping' && phase !== 'Stopping' && !TERMINAL_PHASES.has(phase)) return 'stop'
  if (session.phase === 'Pending' && restartedAfter(session, run)) return 'restart'
  return undefined
}

/** Pending set after the run finished: the user started the session again. */
function restartedAfter(session: Pick<Partial<Session>, 'updated_at'>, run: ObservedRun): boolean {
  if (!TERMINAL_PHASES.has(run.phase ?? '') || !run.completionTime) return false
  try {
    return compareRfc3339(session.updated_at, run.completionTime) > 0
  } catch {
    // An unreadable timestamp proves nothing: no restart.
    return false
  }
}

/**
 * `patch` (the run's status, to be copied onto the session) without its phase and completion
 * time when writing them would overwrite a request the run has not taken up yet.
 */
export function keepPendingRequest(
  session: Pick<Partial<Session>, 'phase' | 'updated_at'>,
  patch: SessionStatusPatch,
  run: ObservedRun,
): SessionStatusPatch {
  if (!patch.phase || !pendingPhaseRequest(session, run)) return patch
  const kept = {...patch}
  delete kept.phase
  delete kept.completion_time
  return kept
}
