// Everything local mode remembers about one session between passes (its runner's pid, the
// exit not yet written, the verdict reached, its background health check and stop, the
// status our last write returned) lives in one SessionRun, so nothing of a session can be
// forgotten in one place and kept in another. SessionRuns creates them on demand and drops
// one only when it holds nothing (release), which the reconciler asks for after each pass.
import type {Session} from '../../api/types.js'
import type {Logger} from '../../log.js'
import type {ManagedRunner, RunnerExit, RunnerManager} from '../../process/index.js'
import {startHealthCheck, type HealthCheck} from './health-checks.js'
import type {RecordedExit, TerminalOutcome} from './outcome.js'

export interface SessionRunSettings {
  manager: Pick<RunnerManager, 'stop' | 'waitHealthy'>
  /** Contract: 15 s, probing every 500 ms. */
  healthTimeoutMs: number
  healthIntervalMs: number
  /** SIGTERM -> SIGKILL delay when stopping, contract: 10 s. */
  stopGraceMs: number
  now: () => Date
  logger: Logger
  /** Asks for a pass over a session once background work settles (the controller's enqueue). */
  trigger: (sessionId: string) => void
}

export class SessionRun {
  readonly id: string
  /** pid of the live runner, so its exit can be matched to a stop request. */
  pid?: number
  /** The runner's exit, until the session's status says so. */
  exit?: RecordedExit
  /** A verdict reached but not yet written (kept so a retried write sends the same thing). */
  outcome?: TerminalOutcome
  /** Left Pending for lack of capacity: tried again whenever a runner ends. */
  waitingForCapacity = false
  /** What our last write (or re-read) returned, until the informer has caught up with it. */
  latest?: Session
  #health?: HealthCheck
  #stop?: Promise<void>
  readonly #settings: SessionRunSettings

  constructor(id: string, settings: SessionRunSettings) {
    this.id = id
    this.#settings = settings
  }

  /** The check of `runner`, started unless one of this very run is under way or settled. */
  healthCheck(runner: Pick<ManagedRunner, 'sessionId' | 'pid'>): HealthCheck {
    if (this.#health?.pid === runner.pid) return this.#health
    return this.startHealthCheck(runner)
  }

  /** Starts checking `runner`, replacing any check of an earlier run. */
  startHealthCheck(runner: Pick<ManagedRunner, 'sessionId' | 'pid'>): HealthCheck {
    this.cancelHealthCheck()
    const {manager, healthTimeoutMs, healthIntervalMs, now, trigger} = this.#settings
    const check = startHealthCheck(runner, {
      manager,
      timeoutMs: healthTimeoutMs,
      intervalMs: healthIntervalMs,
      now,
      onSettled: () => trigger(this.id),
    })
    this.#health = check
    return check
  }

  cancelHealthCheck(): void {
    this.#health?.cancel()
    this.#health = undefined
  }

  /** Stops the runner in the background (once at a time); its end asks for a pass. */
  stopRunner(): void {
    this.cancelHealthCheck()
    if (this.#stop) return
    const {manager, stopGraceMs, trigger, logger} = this.#settings
    this.#stop = manager.stop(this.id, {graceMs: stopGraceMs}).then(
      () => {
        this.#stop = undefined
        trigger(this.id)
      },
      (err: unknown) => {
        // No trigger: the pass would only retry at once; the waiting requeue retries later.
        this.#stop = undefined
        logger.error({err, session: this.id}, 'cannot stop runner')
      },
    )
  }

  /** The background stop under way, if any. */
  get stopping(): Promise<void> | undefined {
    return this.#stop
  }

  recordExit(exit: RunnerExit): void {
    this.exit = {...exit, pid: this.pid, at: this.#settings.now()}
    this.pid = undefined
  }

  /**
   * Forgets the run: its verdict is written, or a new run starts. What belongs to the runner
   * process (its pid, a stop under way) and to the session (`latest`) stays.
   */
  endRun(): void {
    this.exit = undefined
    this.outcome = undefined
    this.waitingForCapacity = false
    this.cancelHealthCheck()
  }

  /** Nothing left to remember: the object may go. */
  get idle(): boolean {
    return this.pid === undefined && !this.exit && !this.outcome && !this.waitingForCapacity && !this.latest && !this.#health && !this.#stop
  }
}

export class SessionRuns {
  readonly #runs = new Map<string, SessionRun>()
  readonly #settings: SessionRunSettings

  constructor(settings: SessionRunSettings) {
    this.#settings = settings
  }

  get(id: string): SessionRun | undefined {
    return this.#runs.get(id)
  }

  /** The session's run, created when there is none. */
  for(id: string): SessionRun {
    let run = this.#runs.get(id)
    if (!run) {
      run = new SessionRun(id, this.#settings)
      this.#runs.set(id, run)
    }
    return run
  }

  /** The one place a run is dropped: when it holds nothing any more. */
  release(id: string): void {
    if (this.#runs.get(id)?.idle) this.#runs.delete(id)
  }

  values(): IterableIterator<SessionRun> {
    return this.#runs.values()
  }

  get size(): number {
    return this.#runs.size
  }
}
