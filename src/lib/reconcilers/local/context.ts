// What the steps of the local reconciler (spawn.ts, startup.ts, verdicts.ts) share: the
// components they act through and the way back into the decision when a session moved on.
import {fromMicros} from '../../api/time.js'
import type {Session} from '../../api/types.js'
import type {ReconcileResult} from '../../controller/controller.js'
import type {Logger} from '../../log.js'
import type {RunnerManager} from '../../process/index.js'
import type {SessionRuns} from './session-run.js'
import type {StatusWrites} from './status-writes.js'
import type {StopRequests} from './stop-requests.js'

/** Safety net while waiting for a background health check or stop, in case no trigger is connected. */
export const WAITING_REQUEUE_MS = 2000

export type StepResult = Promise<ReconcileResult | void>

export interface LocalContext {
  readonly manager: RunnerManager
  readonly stopRequests: StopRequests
  readonly runs: SessionRuns
  readonly writes: StatusWrites
  readonly logger: Logger
  readonly now: () => Date
  readonly healthTimeoutMs: number
  /** How soon a session left Pending for lack of capacity is tried again. */
  readonly capacityRetryMs: number
  /** Shutdown has begun: no runner starts, only final phases are written. */
  closed(): boolean
  /** Decides again, for a session found to have moved on (`depth` bounds the loop). */
  step(session: Session, signal: AbortSignal, depth: number): StepResult
  /** Drops what is remembered of the session's run, and its stop request. */
  forgetRun(id: string): void
}

export function rfc3339(date: Date): string {
  return fromMicros(BigInt(date.getTime()) * 1000n)
}
