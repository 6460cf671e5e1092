// The controller's contract with reconcilers (controller-runtime's reconcile package) and its
// public shapes: the request, the result, errors, options, stats.
import type {ObjectMeta} from '../api/types.js'
import {AmbientError} from '../errors.js'
import type {Logger} from '../log.js'
import type {Clock} from '../workqueue/clock.js'
import type {WorkQueueMetricsProvider} from '../workqueue/metrics.js'
import type {RateLimiter} from '../workqueue/rate-limiters.js'
import type {Informer} from '../informer/informer.js'

export interface ReconcileRequest<T extends ObjectMeta> {
  /** `resource/id`, the work queue key. */
  key: string
  resource: string
  id: string
  /** The latest cached object; undefined when it no longer exists. */
  object: T | undefined
  /** For a deleted object: the last state the informer saw, when known. */
  deleted?: T
}

export interface ReconcileResult {
  /** Reconcile again after this long, even without a change (no backoff, no error). */
  requeueAfterMs?: number
}

export interface Reconciler<T extends ObjectMeta> {
  /** Brings the world in line with the object; throws to retry, throws TerminalError to stop. */
  reconcile(request: ReconcileRequest<T>, signal: AbortSignal): Promise<ReconcileResult | void>
}

/** A failure retrying cannot fix (invalid spec, ...): recorded and counted, never retried. */
export class TerminalError extends AmbientError {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, 'ERR_TERMINAL', options)
  }
}

export class ControllerError extends AmbientError {
  constructor(message: string) {
    super(message, 'ERR_CONTROLLER')
  }
}

export type ReconcileOutcome = 'success' | 'error' | 'requeue' | 'terminal'
export const RECONCILE_OUTCOMES: readonly ReconcileOutcome[] = ['success', 'error', 'requeue', 'terminal']

/** What a controller reports; src/lib/controller/metrics.ts implements it on prom-client. */
export interface ControllerMetricsHooks extends WorkQueueMetricsProvider {
  /** Called once per controller so its series start at 0. */
  registerController(controller: string): void
  reconciled(controller: string, outcome: ReconcileOutcome, seconds: number): void
  reconcileRetried(controller: string): void
  reconcileGivenUp(controller: string): void
  activeWorkers(controller: string, count: number): void
}

export interface ResyncOptions {
  /** Re-enqueue period while an object needs attention (default 30 s). */
  attentionMs: number
  /** Re-enqueue period once stable (default 5 min). */
  stableMs: number
  /** Objects created less than this long ago need attention (default 2 h). */
  recentMs: number
  /** Granularity of the resync wheel (default 1 s). */
  tickMs: number
}

export interface ControllerOptions<T extends ObjectMeta> {
  name: string
  /** Started and stopped by its owner (several controllers may share one). */
  informer: Informer<T>
  reconciler: Reconciler<T>
  /** Concurrent reconciles (default 2, WORKER_COUNT); never two for one key. */
  workers?: number
  /** Default: per-key 5 ms -> 1000 s exponential, max'ed with 10/s burst 100. */
  rateLimiter?: RateLimiter<string>
  /** Failed passes retried before giving up on a key (default 15). */
  maxRetries?: number
  logger?: Logger
  metrics?: ControllerMetricsHooks
  resync?: Partial<ResyncOptions>
  /** Whether an object is in flux (e.g. a non-terminal phase) and needs frequent resyncs. */
  needsAttention?: (object: T) => boolean
  /** How long stop waits for in-flight reconciles before aborting their signal (default 20 s). */
  gracePeriodMs?: number
  clock?: Clock
  /** Overrides clock.now. */
  now?: () => number
}

export interface ControllerStats {
  name: string
  running: boolean
  /** Keys waiting for a worker. */
  queueDepth: number
  /** Keys waiting for a retry or requeue-after delay. */
  waiting: number
  inFlight: number
  /** Passes that returned without error (with or without requeueAfter). */
  succeeded: number
  requeued: number
  /** Passes that threw (not terminal). */
  failed: number
  terminal: number
  retries: number
  givenUp: number
  /** Deleted objects whose deletion is not reconciled yet. */
  tombstones: number
  /** Objects on the resync wheel. */
  scheduled: number
  lastError?: string
}

export interface ObjectError {
  message: string
  terminal: boolean
  at: number
}
