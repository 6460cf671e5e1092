// Sessions -> runner processes on this machine (contract 4), level-triggered per session id:
// each pass reads the newest known session and the runner manager's actual state and does the
// one thing that brings them together. Slow things never hold a worker: the health check
// (up to 15 s) and a stop's grace period (up to 10 s) run in the background and re-enqueue the
// session when they finish; so does every runner exit.
//
//   ''/Pending, no runner        -> spawn -> Creating (ProcessSpawned)
//   Creating, healthy            -> Running + start_time (HealthCheckPassed, RunnerStarted)
//   Creating, health timeout     -> Failed (HealthCheckTimeout), runner killed
//   Creating/Running, runner gone -> Completed (exit 0) | Failed (ProcessExited: ...) |
//                                   Stopped (a stop was asked for)   + completion_time
//   Stopping                     -> SIGTERM the group, SIGKILL after the grace -> Stopped
//   terminal with a runner       -> runner stopped (the phase says it should not run)
//   deleted                      -> runner killed (its registry record goes with it)
//
// Status is written only when it differs semantically from what the session holds (phase,
// conditions parsed, times normalised), and the session worked from is the newer of the
// informer's copy and what our own last write returned: the echo of a write finds nothing to
// do, and a resync of a healthy Running session makes no API call at all. Writes that move a
// session forward (Pending -> Creating -> Running) first re-read it, so a stop the user asked
// for a moment ago is not overwritten by our older view.
import path from 'node:path'
import {ApiError} from '../../api/errors.js'
import {compareRfc3339, fromMicros} from '../../api/time.js'
import {SESSION_PHASES, TERMINAL_PHASES, type Session, type SessionStatusPatch} from '../../api/types.js'
import type {Reconciler, ReconcileRequest, ReconcileResult} from '../../controller/controller.js'
import {silentLogger, type Logger} from '../../log.js'
import {
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_STOP_GRACE_MS,
  NoFreePortError,
  RunnerCapacityError,
  RunnerExistsError,
  RunnerSpawnError,
  UnsafeSessionIdError,
  readLogTail,
  type ManagedRunner,
  type RunnerRow,
  type RunnerManager,
  type RunnerRegistry,
} from '../../process/index.js'
import {statusPatchDiff} from '../kube/status.js'
import {HealthChecks} from './health-checks.js'
import {HEALTH_CHECK_PASSED, PROCESS_SPAWNED, REASONS, RUNNER_STARTED, mergeConditions} from './conditions.js'
import {
  describeExit,
  healthTimeoutOutcome,
  lostOutcome,
  notSpawnedOutcome,
  outcomeFromExit,
  stoppedOutcome,
  unknownPhaseOutcome,
  type RecordedExit,
  type TerminalOutcome,
} from './outcome.js'
import type {StopRequests} from './stop-requests.js'
import {sessionProblem} from './validate.js'

/** The Ambient API as this reconciler uses it (RestClient fits). */
export interface SessionApi {
  patchStatus(id: string, patch: SessionStatusPatch, options?: {signal?: AbortSignal}): Promise<Session>
  get(resource: 'sessions', id: string, options?: {signal?: AbortSignal}): Promise<Session>
}

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

interface Written {
  session: Session
  /** The re-read showed the phase had moved on (e.g. a stop): nothing was written. */
  superseded: boolean
}

const KNOWN_PHASES: ReadonlySet<string> = new Set(SESSION_PHASES)
const NOT_STARTED: ReadonlySet<string> = new Set(['', 'Pending'])
/** Safety net while waiting for a background health check or stop, in case no trigger is connected. */
const WAITING_REQUEUE_MS = 2000
/** Re-evaluations after a re-read found the session had moved on, before leaving it to the queue. */
const MAX_REEVALUATIONS = 3

export function rfc3339(date: Date): string {
  return fromMicros(BigInt(date.getTime()) * 1000n)
}

export class LocalSessionReconciler implements Reconciler<Session> {
  readonly #manager: RunnerManager
  readonly #api: SessionApi
  readonly #stopRequests: StopRequests
  readonly #registry?: RunnerRegistry
  readonly #sessions?: SessionsView
  readonly #logger: Logger
  readonly #healthTimeoutMs: number
  readonly #stopGraceMs: number
  readonly #capacityRetryMs: number
  readonly #shutdownWriteTimeoutMs: number
  readonly #now: () => Date

  /** What our last write (or re-read) returned, until the informer has caught up with it. */
  readonly #latest = new Map<string, Session>()
  /** Runner exits not yet reflected in the session's status. */
  readonly #exits = new Map<string, RecordedExit>()
  /** Verdicts reached but not yet written (kept so a retried write sends the same thing). */
  readonly #outcomes = new Map<string, TerminalOutcome>()
  readonly #health: HealthChecks
  readonly #stops = new Map<string, Promise<void>>()
  /** Sessions left Pending for lack of capacity: re-enqueued whenever a runner ends. */
  readonly #waiting = new Set<string>()
  /** pid of each live runner, so an exit can be matched to a stop request. */
  readonly #pids = new Map<string, number>()
  #trigger: (id: string) => void = () => {}
  #adoption?: Promise<void>
  #shutdown?: Promise<void>
  #closed = false
  #statusWrites = 0

  constructor(options: LocalSessionReconcilerOptions) {
    this.#manager = options.manager
    this.#api = options.api
    this.#stopRequests = options.stopRequests
    this.#registry = options.registry
    this.#sessions = options.sessions
    this.#logger = (options.logger ?? silentLogger).child({reconciler: 'local-sessions'})
    this.#healthTimeoutMs = options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS
    this.#stopGraceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS
    this.#capacityRetryMs = options.capacityRetryMs ?? 5000
    this.#shutdownWriteTimeoutMs = options.shutdownWriteTimeoutMs ?? 5000
    this.#now = options.now ?? (() => new Date())
    this.#health = new HealthChecks({
      manager: this.#manager,
      timeoutMs: this.#healthTimeoutMs,
      intervalMs: options.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS,
      now: this.#now,
      onSettled: (id) => this.#trigger(id),
    })

    const remember = (info: ManagedRunner) => this.#pids.set(info.sessionId, info.pid)
    this.#manager.on('spawned', remember)
    this.#manager.on('adopted', remember)
    this.#manager.on('exited', (exit) => {
      const pid = this.#pids.get(exit.sessionId)
      this.#pids.delete(exit.sessionId)
      this.#exits.set(exit.sessionId, {...exit, pid, at: this.#now()})
      this.#trigger(exit.sessionId)
      // A slot is free: sessions waiting for one go first.
      for (const id of this.#waiting) this.#trigger(id)
    })
  }

  /** Where background work (health checks, stops, exits) asks for a pass: the controller's enqueue. */
  setTrigger(trigger: ((id: string) => void) | undefined): void {
    this.#trigger = trigger ?? (() => {})
  }

  /** Status PATCHes sent so far. */
  get statusWrites(): number {
    return this.#statusWrites
  }

  /**
   * Takes over the runners a previous ambient process left in the registry (once; every
   * reconcile waits for it so nothing is spawned twice): healthy ones are adopted, dead ones
   * are recorded as exits so their sessions reach a terminal phase, and adopted runners whose
   * session no longer exists are stopped.
   */
  adopt(): Promise<void> {
    this.#adoption ??= this.#adoptOnce()
    return this.#adoption
  }

  async #adoptOnce(): Promise<void> {
    try {
      const records = (await this.#registry?.list().catch(() => [])) ?? []
      const result = await this.#manager.adopt()
      for (const reaped of result.reaped) {
        const record = records.find((r) => r.sessionId === reaped.sessionId)
        const stderrTail = record ? await readLogTail(path.join(record.workspace, 'stderr.log'), {fromOffset: record.stderrOffset, fromIno: record.stderrIno}) : []
        this.#exits.set(reaped.sessionId, {
          sessionId: reaped.sessionId,
          pid: reaped.pid,
          exitCode: null,
          signal: null,
          stderrTail,
          adopted: true,
          stopRequested: false,
          reaped: reaped.reason,
          at: this.#now(),
        })
        this.#trigger(reaped.sessionId)
      }
      for (const info of result.adopted) {
        this.#pids.set(info.sessionId, info.pid)
        if (this.#sessions?.hasSynced?.() && !this.#sessions.get(info.sessionId)) {
          this.#logger.info({session: info.sessionId, pid: info.pid}, 'adopted runner has no session: stopping it')
          this.#stopInBackground(info.sessionId)
        }
      }
      if (result.adopted.length > 0 || result.reaped.length > 0) {
        this.#logger.info({adopted: result.adopted.map((r) => r.sessionId), reaped: result.reaped.map((r) => r.sessionId)}, 'runners from a previous run')
      }
    } catch (err) {
      // Without adoption we may spawn a second runner for a session; say so loudly, keep going.
      this.#logger.error({err}, 'cannot adopt runners from the registry')
    }
  }

  async reconcile(request: ReconcileRequest<Session>, signal: AbortSignal): Promise<ReconcileResult | void> {
    await this.adopt()
    const id = request.id
    if (!request.object) return this.#deleted(id)
    if (this.#closed) return
    const session = this.#freshest(request.object)
    try {
      return await this.#step(session, signal, 0)
    } catch (err) {
      // Deleted between the informer's copy and our write.
      if (err instanceof ApiError && err.notFound) return this.#deleted(id)
      throw err
    }
  }

  async #step(session: Session, signal: AbortSignal, depth: number): Promise<ReconcileResult | void> {
    if (depth > MAX_REEVALUATIONS) return {requeueAfterMs: WAITING_REQUEUE_MS}
    // A session with a CR belongs to Kubernetes: kube_cr_uid is written back once the CR exists.
    // Not kube_cr_name: the real server sets that to the id on every session it creates.
    if (session.kube_cr_uid) return
    const id = session.id
    const phase = session.phase ?? ''
    const runner = this.#manager.get(id)

    if (TERMINAL_PHASES.has(phase)) {
      if (runner) {
        if (!runner.stopping) this.#logger.info({session: id, phase}, 'session is over but its runner lives: stopping it')
        this.#stopInBackground(id)
        return
      }
      this.#forgetRun(id)
      return
    }

    if (phase === 'Stopping') {
      if (runner) {
        this.#stopInBackground(id)
        return {requeueAfterMs: WAITING_REQUEUE_MS}
      }
      const exit = this.#exits.get(id)
      const cached = this.#outcomes.get(id)
      const outcome =
        cached?.phase === 'Stopped'
          ? cached
          : stoppedOutcome(exit ? `runner stopped on request (${describeExit(exit)})` : 'stopped before a runner was running', rfc3339(this.#now()))
      this.#outcomes.set(id, outcome)
      return this.#writeTerminal(session, outcome, signal)
    }

    // Our own stop is under way (health timeout, or the session was restarted meanwhile): its exit comes next.
    if (runner?.stopping) return {requeueAfterMs: WAITING_REQUEUE_MS}

    if (NOT_STARTED.has(phase)) {
      if (!runner) return this.#spawn(session, signal, depth)
      // Spawned (or adopted) but Creating never got written.
      return this.#creating(session, runner, signal, depth)
    }

    if (runner) {
      if (phase === 'Running') return
      return this.#creating(session, runner, signal, depth)
    }

    return this.#writeTerminal(session, await this.#outcomeWithoutRunner(session), signal)
  }

  async #spawn(session: Session, signal: AbortSignal, depth: number): Promise<ReconcileResult | void> {
    const id = session.id
    // Whatever is remembered of an earlier run does not describe the one about to start.
    this.#forgetRun(id)
    const problem = sessionProblem(session)
    if (problem) {
      this.#logger.warn({session: id, field: problem.field}, problem.message)
      return this.#writeTerminal(session, notSpawnedOutcome(REASONS.invalidSession, problem.message, rfc3339(this.#now())), signal)
    }
    let runner: ManagedRunner
    try {
      runner = await this.#manager.spawn(session)
    } catch (err) {
      if (this.#closed) return
      if (err instanceof RunnerCapacityError || err instanceof NoFreePortError) return this.#waitForCapacity(session, err, signal, depth)
      if (err instanceof RunnerSpawnError || err instanceof UnsafeSessionIdError) {
        this.#logger.warn({session: id, err}, 'cannot start runner')
        return this.#writeTerminal(session, notSpawnedOutcome(REASONS.spawnFailed, err.message, rfc3339(this.#now())), signal)
      }
      if (err instanceof RunnerExistsError) return {requeueAfterMs: 500}
      throw err
    }
    this.#waiting.delete(id)
    this.#health.start(runner)
    return this.#creating(session, runner, signal, depth)
  }

  async #waitForCapacity(session: Session, err: RunnerCapacityError | NoFreePortError, signal: AbortSignal, depth: number): Promise<ReconcileResult | void> {
    this.#waiting.add(session.id)
    const reason = err instanceof NoFreePortError ? REASONS.noFreePort : REASONS.capacityFull
    const patch: SessionStatusPatch = {
      phase: 'Pending',
      conditions: mergeConditions(session.conditions, [{type: PROCESS_SPAWNED, status: 'False', reason, message: `${err.message}; the session starts when a runner ends`}], rfc3339(this.#now())),
    }
    const written = await this.#write(session, patch, signal, true)
    if (written.superseded) return this.#step(written.session, signal, depth + 1)
    return {requeueAfterMs: this.#capacityRetryMs}
  }

  /** The runner exists: make sure the session says Creating, then act on its health check. */
  async #creating(session: Session, runner: ManagedRunner, signal: AbortSignal, depth: number): Promise<ReconcileResult | void> {
    const id = session.id
    let current = session
    if ((session.phase ?? '') !== 'Creating') {
      const now = rfc3339(this.#now())
      const patch: SessionStatusPatch = {
        phase: 'Creating',
        conditions: mergeConditions(
          session.conditions,
          [
            {type: PROCESS_SPAWNED, status: 'True', reason: REASONS.spawned, message: `pid ${runner.pid}, port ${runner.port}`},
            {type: HEALTH_CHECK_PASSED, status: 'Unknown', reason: REASONS.checking, message: `waiting for GET /health to answer 200 (up to ${this.#healthTimeoutMs / 1000} s)`},
            {type: RUNNER_STARTED, status: 'Unknown', reason: REASONS.waitingForHealth},
          ],
          now,
        ),
      }
      const written = await this.#write(session, patch, signal, true)
      if (written.superseded) return this.#step(written.session, signal, depth + 1)
      current = written.session
    }

    let check = this.#health.get(id)
    if (!check || check.pid !== runner.pid) check = this.#health.start(runner)
    const result = check.result
    if (!result) return {requeueAfterMs: WAITING_REQUEUE_MS}
    switch (result.kind) {
      case 'healthy': {
        const at = rfc3339(result.at)
        const patch: SessionStatusPatch = {
          phase: 'Running',
          start_time: at,
          conditions: mergeConditions(
            current.conditions,
            [
              {type: HEALTH_CHECK_PASSED, status: 'True', reason: REASONS.healthy, message: 'GET /health answered 200'},
              {type: RUNNER_STARTED, status: 'True', reason: REASONS.started, message: `AG-UI server on 127.0.0.1:${runner.port}`},
            ],
            at,
          ),
        }
        const written = await this.#write(current, patch, signal, true)
        if (written.superseded) return this.#step(written.session, signal, depth + 1)
        this.#health.cancel(id)
        this.#logger.info({session: id, pid: runner.pid, port: runner.port}, 'session running')
        return
      }
      case 'timeout': {
        const cached = this.#outcomes.get(id)
        const outcome = cached?.reason === REASONS.healthCheckTimeout ? cached : healthTimeoutOutcome(result.message, rfc3339(this.#now()))
        this.#outcomes.set(id, outcome)
        this.#logger.warn({session: id, pid: runner.pid}, result.message)
        this.#stopInBackground(id)
        return this.#writeTerminal(current, outcome, signal)
      }
      case 'ended':
        // The runner is going away; its exit enqueues the next pass.
        this.#health.cancel(id)
        return {requeueAfterMs: WAITING_REQUEUE_MS}
      case 'error':
        this.#health.cancel(id)
        throw new Error(`health check of session ${id} failed: ${result.message}`)
    }
  }

  /** The verdict for a session that should have a runner and has none. */
  async #outcomeWithoutRunner(session: Session): Promise<TerminalOutcome> {
    const id = session.id
    const cached = this.#outcomes.get(id)
    if (cached) return cached
    const exit = this.#exits.get(id)
    const request = await this.#stopRequests.read(id)
    const now = rfc3339(this.#now())
    let outcome: TerminalOutcome
    if (exit) {
      const stopRequest = request && (exit.pid === undefined || request.pid === exit.pid) ? request : undefined
      outcome = outcomeFromExit(exit, rfc3339(exit.at), {stopRequest, shutdown: this.#closed})
    } else if (!KNOWN_PHASES.has(session.phase ?? '')) {
      outcome = unknownPhaseOutcome(session.phase ?? '', now)
    } else {
      outcome = lostOutcome(now, request)
    }
    this.#outcomes.set(id, outcome)
    return outcome
  }

  async #writeTerminal(session: Session, outcome: TerminalOutcome, signal: AbortSignal): Promise<void> {
    const patch: SessionStatusPatch = {
      phase: outcome.phase,
      completion_time: outcome.completionTime,
      conditions: mergeConditions(session.conditions, outcome.conditions, outcome.completionTime),
    }
    const before = session.phase ?? ''
    const written = await this.#write(session, patch, signal, false)
    if (before !== outcome.phase) {
      const log = outcome.phase === 'Failed' ? this.#logger.warn.bind(this.#logger) : this.#logger.info.bind(this.#logger)
      log({session: session.id, phase: outcome.phase, reason: outcome.reason}, `session ${outcome.phase}`)
    }
    // The verdict now lives in the API.
    if ((written.session.phase ?? '') === outcome.phase) this.#forgetRun(session.id)
  }

  /**
   * Sends the fields of `patch` that differ from `session`; nothing when none do. With `guard`,
   * re-reads the session first and writes nothing if its phase has moved on.
   */
  async #write(session: Session, patch: SessionStatusPatch, signal: AbortSignal, guard: boolean): Promise<Written> {
    let base = session
    let diff = statusPatchDiff(base, patch)
    if (Object.keys(diff).length === 0) return {session: base, superseded: false}
    // After shutdown only final phases are written: a late Creating must not follow our Stopped.
    if (this.#closed && !TERMINAL_PHASES.has(patch.phase ?? '')) return {session: base, superseded: false}
    if (guard) {
      const fresh = await this.#api.get('sessions', session.id, {signal})
      this.#remember(fresh)
      if ((fresh.phase ?? '') !== (session.phase ?? '') || fresh.kube_cr_uid) return {session: fresh, superseded: true}
      base = fresh
      diff = statusPatchDiff(base, patch)
      if (Object.keys(diff).length === 0) return {session: base, superseded: false}
    }
    this.#statusWrites++
    const updated = await this.#api.patchStatus(session.id, diff, {signal})
    this.#remember(updated)
    return {session: updated, superseded: false}
  }

  #remember(session: Session): void {
    const known = this.#latest.get(session.id)
    if (known && newerOrEqual(known, session)) return
    this.#latest.set(session.id, session)
  }

  /** The newer of the informer's copy and what our own last write returned. */
  #freshest(session: Session): Session {
    const mine = this.#latest.get(session.id)
    if (!mine) return session
    if (newerOrEqual(session, mine)) {
      this.#latest.delete(session.id)
      return session
    }
    return mine
  }

  /** The newest state of a session known outside a reconcile (TUI rows, shutdown). */
  view(id: string): Session | undefined {
    const cached = this.#sessions?.get(id)
    const mine = this.#latest.get(id)
    if (!cached) return mine
    if (!mine) return cached
    return newerOrEqual(cached, mine) ? cached : mine
  }

  #stopInBackground(id: string): void {
    this.#health.cancel(id)
    if (this.#stops.has(id)) return
    const stopping = this.#manager
      .stop(id, {graceMs: this.#stopGraceMs})
      .then(
        () => {
          this.#stops.delete(id)
          this.#trigger(id)
        },
        (err: unknown) => {
          // No trigger: the pass would only retry at once; the waiting requeue retries later.
          this.#stops.delete(id)
          this.#logger.error({err, session: id}, 'cannot stop runner')
        },
      )
    this.#stops.set(id, stopping)
  }

  /** Drops what was remembered about a session's run (its verdict is written, or a new run starts). */
  #forgetRun(id: string): void {
    this.#outcomes.delete(id)
    this.#exits.delete(id)
    this.#waiting.delete(id)
    this.#health.cancel(id)
    void this.#stopRequests.remove(id).catch((err: unknown) => this.#logger.warn({err, session: id}, 'cannot remove stop request'))
  }

  async #deleted(id: string): Promise<void> {
    this.#latest.delete(id)
    this.#forgetRun(id)
    if (this.#manager.get(id)) {
      this.#logger.info({session: id}, 'session deleted: stopping its runner')
      this.#stopInBackground(id)
    }
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
    this.#health.cancelAll()
    const exits = await this.#manager.stopAll({graceMs: this.#stopGraceMs})
    await Promise.allSettled([...this.#stops.values()])
    const deadline = AbortSignal.timeout(this.#shutdownWriteTimeoutMs)
    const results = await Promise.allSettled(
      exits.map(async (exit) => {
        const session = this.view(exit.sessionId)
        if (!session || session.kube_cr_uid || TERMINAL_PHASES.has(session.phase ?? '')) return
        // A verdict already reached (e.g. a health timeout) stands; otherwise the shutdown stopped it.
        const recorded: RecordedExit = this.#exits.get(exit.sessionId) ?? {...exit, at: this.#now()}
        const outcome = this.#outcomes.get(exit.sessionId) ?? outcomeFromExit(recorded, rfc3339(recorded.at), {shutdown: true})
        await this.#writeTerminal(session, outcome, deadline)
      }),
    )
    for (const result of results) {
      if (result.status === 'rejected') this.#logger.warn({err: result.reason}, 'cannot write the final phase of a stopped session')
    }
  }

  /** Live runners with their sessions' names and phases, for the TUI. */
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

/** `a` is at least as new as `b` (by updated_at; unparseable timestamps trust `a`). */
function newerOrEqual(a: Session, b: Session): boolean {
  try {
    return compareRfc3339(a.updated_at, b.updated_at) >= 0
  } catch {
    return true
  }
}
