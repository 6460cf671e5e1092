// Sessions -> runner processes on this machine (contract 4), level-triggered per session id:
// each pass reads the newest known session and the runner manager's actual state and does the
// one thing that brings them together. Slow things never hold a worker: the health check
// (up to 15 s) and a stop's grace period (up to 10 s) run in the background and re-enqueue the
// session when they finish; so does every runner exit.
//
//   ''/Pending, no runner        -> spawn -> Creating (ProcessSpawned)                spawn.ts
//   Creating, healthy            -> Running + start_time (HealthCheckPassed, RunnerStarted)
//   Creating, health timeout     -> Failed (HealthCheckTimeout), runner killed        startup.ts
//   Creating/Running, runner gone -> Completed (exit 0) | Failed (ProcessExited: ...) |
//                                   Stopped (a stop was asked for)   + completion_time verdicts.ts
//   Stopping                     -> SIGTERM the group, SIGKILL after the grace -> Stopped
//   terminal with a runner       -> runner stopped (the phase says it should not run)
//   deleted                      -> runner killed (its registry record goes with it)
//
// This file only dispatches. What is remembered of each session lives in its SessionRun
// (session-run.ts), dropped after a pass once it holds nothing; status writes are in
// status-writes.ts: a resync of a healthy Running session makes no API call at all.
import {ApiError} from '../../api/errors.js'
import {TERMINAL_PHASES, type Session} from '../../api/types.js'
import type {Reconciler, ReconcileRequest, ReconcileResult} from '../../controller/controller.js'
import {silentLogger, type Logger} from '../../log.js'
import {
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_STOP_GRACE_MS,
  type ManagedRunner,
  type RunnerManager,
  type RunnerRegistry,
  type RunnerRow,
} from '../../process/index.js'
import {adoptRunners} from './adoption.js'
import {WAITING_REQUEUE_MS, type LocalContext, type StepResult} from './context.js'
import {SessionRuns} from './session-run.js'
import {spawnRunner} from './spawn.js'
import {advanceCreating} from './startup.js'
import {StatusWrites, type SessionApi} from './status-writes.js'
import type {StopRequests} from './stop-requests.js'
import {shutdownVerdict, stoppingVerdict, verdictWithoutRunner, writeTerminal} from './verdicts.js'

export type {SessionApi} from './status-writes.js'

/** What the reconciler reads from the sessions informer outside a reconcile (Informer fits). */
export interface SessionsView {
  get(id: string): Session | undefined
  hasSynced?(): boolean
}

export interface LocalSessionReconcilerOptions {
  manager: RunnerManager
  api: SessionApi
  stopRequests: StopRequests
  /** The manager's registry: read at adoption for the stderr tail of runners found dead. */
  registry?: RunnerRegistry
  /** The sessions cache: finds adopted runners whose session is gone, names runners for the TUI. */
  sessions?: SessionsView
  logger?: Logger
  /** Contract: 15 s, probing every 500 ms. */
  healthTimeoutMs?: number
  healthIntervalMs?: number
  /** SIGTERM -> SIGKILL delay when stopping, contract: 10 s. */
  stopGraceMs?: number
  /** How soon a session left Pending for lack of capacity is tried again, default 5 s. */
  capacityRetryMs?: number
  /** How long shutdown waits for its final status writes, default 5 s. */
  shutdownWriteTimeoutMs?: number
  now?: () => Date
}

const NOT_STARTED: ReadonlySet<string> = new Set(['', 'Pending'])
/** Re-evaluations after a re-read found the session had moved on, before leaving it to the queue. */
const MAX_REEVALUATIONS = 3

export class LocalSessionReconciler implements Reconciler<Session> {
  readonly #manager: RunnerManager
  readonly #registry?: RunnerRegistry
  readonly #sessions?: SessionsView
  readonly #logger: Logger
  readonly #stopGraceMs: number
  readonly #shutdownWriteTimeoutMs: number
  readonly #now: () => Date
  readonly #runs: SessionRuns
  readonly #writes: StatusWrites
  readonly #ctx: LocalContext
  #trigger: (id: string) => void = () => {}
  #adoption?: Promise<void>
  #shutdown?: Promise<void>
  #closed = false

  constructor(options: LocalSessionReconcilerOptions) {
    this.#manager = options.manager
    this.#registry = options.registry
    this.#sessions = options.sessions
    this.#logger = (options.logger ?? silentLogger).child({reconciler: 'local-sessions'})
    this.#stopGraceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS
    this.#shutdownWriteTimeoutMs = options.shutdownWriteTimeoutMs ?? 5000
    this.#now = options.now ?? (() => new Date())
    const healthTimeoutMs = options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS
    this.#runs = new SessionRuns({
      manager: this.#manager,
      healthTimeoutMs,
      healthIntervalMs: options.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS,
      stopGraceMs: this.#stopGraceMs,
      now: this.#now,
      logger: this.#logger,
      trigger: (id) => this.#trigger(id),
    })
    this.#writes = new StatusWrites({api: options.api, runs: this.#runs, closed: () => this.#closed})
    this.#ctx = {
      manager: this.#manager,
      stopRequests: options.stopRequests,
      runs: this.#runs,
      writes: this.#writes,
      logger: this.#logger,
      now: this.#now,
      healthTimeoutMs,
      capacityRetryMs: options.capacityRetryMs ?? 5000,
      closed: () => this.#closed,
      step: (session, signal, depth) => this.#step(session, signal, depth),
      forgetRun: (id) => this.#forgetRun(id),
    }

    const remember = (info: ManagedRunner) => {
      this.#runs.for(info.sessionId).pid = info.pid
    }
    this.#manager.on('spawned', remember)
    this.#manager.on('adopted', remember)
    this.#manager.on('exited', (exit) => {
      this.#runs.for(exit.sessionId).recordExit(exit)
      this.#trigger(exit.sessionId)
      // A slot is free: sessions waiting for one go first.
      for (const run of this.#runs.values()) if (run.waitingForCapacity) this.#trigger(run.id)
    })
  }

  /** Where background work (health checks, stops, exits) asks for a pass: the controller's enqueue. */
  setTrigger(trigger: ((id: string) => void) | undefined): void {
    this.#trigger = trigger ?? (() => {})
  }

  /** Status PATCHes sent so far. */
  get statusWrites(): number {
    return this.#writes.count
  }

  /** Sessions something is remembered about (runner, exit, verdict, pending work, unseen write). */
  get trackedSessions(): number {
    return this.#runs.size
  }

  /**
   * Takes over the runners a previous ambient process left in the registry (once; every
   * reconcile waits for it so nothing is spawned twice).
   */
  adopt(): Promise<void> {
    this.#adoption ??= adoptRunners({
      manager: this.#manager,
      registry: this.#registry,
      runs: this.#runs,
      sessionGone: (id) => this.#sessions?.hasSynced?.() === true && !this.#sessions.get(id),
      logger: this.#logger,
      now: this.#now,
      trigger: (id) => this.#trigger(id),
    })
    return this.#adoption
  }

  async reconcile(request: ReconcileRequest<Session>, signal: AbortSignal): Promise<ReconcileResult | void> {
    await this.adopt()
    const id = request.id
    try {
      if (!request.object) return this.#deleted(id)
      if (this.#closed) return
      const session = this.#writes.freshest(request.object)
      try {
        return await this.#step(session, signal, 0)
      } catch (err) {
        // Deleted between the informer's copy and our write.
        if (err instanceof ApiError && err.notFound) return this.#deleted(id)
        throw err
      }
    } finally {
      // One pass per session at a time (the work queue): nothing else holds its run now.
      this.#runs.release(id)
    }
  }

  async #step(session: Session, signal: AbortSignal, depth: number): StepResult {
    if (depth > MAX_REEVALUATIONS) return {requeueAfterMs: WAITING_REQUEUE_MS}
    // A session with a CR belongs to Kubernetes: kube_cr_uid is written back once the CR exists.
    // Not kube_cr_name: the real server sets that to the id on every session it creates.
    if (session.kube_cr_uid) return
    const id = session.id
    const phase = session.phase ?? ''
    const runner = this.#manager.get(id)
    const run = this.#runs.for(id)

    if (TERMINAL_PHASES.has(phase)) {
      if (runner) {
        if (!runner.stopping) this.#logger.info({session: id, phase}, 'session is over but its runner lives: stopping it')
        run.stopRunner()
        return
      }
      this.#forgetRun(id)
      return
    }

    if (phase === 'Stopping') {
      if (runner) {
        run.stopRunner()
        return {requeueAfterMs: WAITING_REQUEUE_MS}
      }
      return writeTerminal(this.#ctx, session, stoppingVerdict(run, this.#now()), signal)
    }

    // Our own stop is under way (health timeout, or the session was restarted meanwhile): its exit comes next.
    if (runner?.stopping) return {requeueAfterMs: WAITING_REQUEUE_MS}

    if (NOT_STARTED.has(phase)) {
      if (!runner) return spawnRunner(this.#ctx, run, session, signal, depth)
      // Spawned (or adopted) but Creating never got written.
      return advanceCreating(this.#ctx, run, session, runner, signal, depth)
    }

    if (runner) {
      if (phase === 'Running') return
      return advanceCreating(this.#ctx, run, session, runner, signal, depth)
    }

    return writeTerminal(this.#ctx, session, await verdictWithoutRunner(this.#ctx, run, session), signal)
  }

  /** Drops what was remembered about a session's run (its verdict is written, or a new run starts). */
  #forgetRun(id: string): void {
    this.#runs.get(id)?.endRun()
    void this.#ctx.stopRequests.remove(id).catch((err: unknown) => this.#logger.warn({err, session: id}, 'cannot remove stop request'))
  }

  async #deleted(id: string): Promise<void> {
    const run = this.#runs.get(id)
    if (run) run.latest = undefined
    this.#forgetRun(id)
    if (this.#manager.get(id)) {
      this.#logger.info({session: id}, 'session deleted: stopping its runner')
      this.#runs.for(id).stopRunner()
    }
  }

  /** The newest state of a session known outside a reconcile (TUI rows, shutdown). */
  view(id: string): Session | undefined {
    return this.#writes.newest(id, this.#sessions?.get(id))
  }

  /**
   * Stops every runner (no new ones start) and, since the controllers have stopped by then,
   * writes the resulting phases itself, so no session is left saying Running. Idempotent.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#shutdownOnce()
    return this.#shutdown
  }

  async #shutdownOnce(): Promise<void> {
    this.#closed = true
    for (const run of this.#runs.values()) run.cancelHealthCheck()
    const exits = await this.#manager.stopAll({graceMs: this.#stopGraceMs})
    await Promise.allSettled([...this.#runs.values()].map((run) => run.stopping))
    const deadline = AbortSignal.timeout(this.#shutdownWriteTimeoutMs)
    const results = await Promise.allSettled(
      exits.map(async (exit) => {
        const session = this.view(exit.sessionId)
        if (!session || session.kube_cr_uid || TERMINAL_PHASES.has(session.phase ?? '')) return
        await writeTerminal(this.#ctx, session, shutdownVerdict(this.#runs.get(exit.sessionId), exit, this.#now()), deadline)
      }),
    )
    for (const result of results) {
      if (result.status === 'rejected') this.#logger.warn({err: result.reason}, 'cannot write the final phase of a stopped session')
    }
  }

  /** Live runners with their sessions' names and phases, for the TUI (no tokens). */
  runnerRows(): RunnerRow[] {
    return this.#manager.list().map((runner) => {
      const session = this.view(runner.sessionId)
      const phase = session?.phase ?? ''
      return {
        sessionId: runner.sessionId,
        name: session?.name,
        phase: runner.stopping && !TERMINAL_PHASES.has(phase) ? 'Stopping' : phase,
        pid: runner.pid,
        port: runner.port,
        startTime: runner.startTime,
      }
    })
  }
}
