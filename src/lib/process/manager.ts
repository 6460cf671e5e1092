// Runner processes of local mode (contract 4): one per session, in its own workspace, process
// group and port, with an allowlisted environment. A runner's stdout and stderr are named pipes
// drained into rotated stdout.log / stderr.log (runner-logs.ts): bounded on disk, never holding
// the runner up while we run. Runners outlive a crash of this process, and a restarted manager
// adopts them from the registry and drains their pipes again.
import path from 'node:path'
import {randomBytes as cryptoRandomBytes} from 'node:crypto'
import {parseCommandString} from 'execa'
import type {Session} from '../api/types.js'
import type {Logger} from '../log.js'
import {silentLogger} from '../log.js'
import {errorMessage} from '../errors.js'
import {ensurePrivateDir} from '../private-files.js'
import {reviewRecords, type AdoptResult} from './adopt.js'
import {
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_RUNNER_COMMAND,
  DEFAULT_STOP_GRACE_MS,
  defaultWorkspaceRoot,
} from './defaults.js'
import {TypedEmitter} from './emitter.js'
import type {RunnerManagerEvents, RunnerManagerOptions, StopOptions, WaitHealthyOptions} from './manager-options.js'
import {HealthCheckTimeoutError, RunnerCapacityError, RunnerExistsError, RunnerExitedError, RunnerNotFoundError, RunnerSpawnError} from './errors.js'
import {buildRunnerEnv} from './env.js'
import {pollHealth} from './health.js'
import {type Delay, defaultDelay, killRunner, terminateGroup} from './kill.js'
import {LiveRunner, type LiveRunnerParts} from './live-runner.js'
import {launchRunner} from './launch.js'
import {DEFAULT_LOG_FILES, DEFAULT_LOG_MAX_BYTES} from './log-rotate.js'
import type {RunnerLogs} from './runner-logs.js'
import {DEFAULT_PORT_RANGE, PortClaims} from './ports.js'
import {readProcStat} from './procfs.js'
import type {RunnerRecord, RunnerRegistry} from './registry.js'
import type {ManagedRunner, RunnerExit} from './runner.js'
import {workspacePathFor} from './session-id.js'
import {type RandomBytes, generateToken} from './token.js'

export type {RunnerManagerEvents, RunnerManagerOptions, StopOptions, WaitHealthyOptions} from './manager-options.js'

export class RunnerManager extends TypedEmitter<RunnerManagerEvents> {
  readonly workspaceRoot: string
  readonly #argv: readonly string[]
  readonly #commandText: string
  readonly #ports: PortClaims
  readonly #maxSessions: number
  readonly #stopGraceMs: number
  readonly #hostEnv: NodeJS.ProcessEnv
  readonly #extraEnv: {BOSS_URL?: string; BOSS_SPACE?: string}
  readonly #registry?: RunnerRegistry
  readonly #logger: Logger
  readonly #now: () => Date
  readonly #delay: Delay
  readonly #random: RandomBytes
  readonly #adoptPollMs: number
  readonly #adoptHealthTimeoutMs: number
  readonly #logSettings: {maxBytes: number; files: number; maxQueuedBytes?: number}
  readonly #pipeDir: string
  readonly #logDrainTimeoutMs: number

  readonly #runners = new Map<string, LiveRunner>()
  /** Session ids and ports claimed by spawns still in progress. */
  readonly #pendingSessions = new Set<string>()
  readonly #pendingSpawns = new Set<Promise<unknown>>()
  #closed = false

  constructor(options: RunnerManagerOptions = {}) {
    super()
    this.workspaceRoot = path.resolve(options.workspaceRoot ?? defaultWorkspaceRoot())
    const command = options.command ?? DEFAULT_RUNNER_COMMAND
    this.#argv = typeof command === 'string' ? parseCommandString(command) : [...command]
    this.#commandText = typeof command === 'string' ? command : command.join(' ')
    if (this.#argv.length === 0) throw new TypeError(`\`command\` must name a program: got ${JSON.stringify(command)}`)
    this.#ports = new PortClaims(options.portRange ?? DEFAULT_PORT_RANGE)
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS
    if (!Number.isInteger(this.#maxSessions) || this.#maxSessions < 1) {
      throw new TypeError(`\`maxSessions\` must be a positive integer: got ${String(options.maxSessions)}`)
    }
    this.#stopGraceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS
    this.#hostEnv = options.hostEnv ?? process.env
    this.#extraEnv = options.extraEnv ?? {}
    this.#registry = options.registry
    this.#logger = options.logger ?? silentLogger
    this.#now = options.now ?? (() => new Date())
    this.#delay = options.delay ?? defaultDelay
    this.#random = options.randomBytes ?? cryptoRandomBytes
    this.#adoptPollMs = options.adoptPollMs ?? 500
    this.#adoptHealthTimeoutMs = options.adoptHealthTimeoutMs ?? 3000
    this.#logSettings = {
      maxBytes: options.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES,
      files: options.logFiles ?? DEFAULT_LOG_FILES,
      maxQueuedBytes: options.maxQueuedLogBytes,
    }
    this.#pipeDir = path.resolve(
      options.pipeDir ?? (this.#registry ? path.join(this.#registry.dir, 'pipes') : path.join(this.workspaceRoot, '.pipes')),
    )
    this.#logDrainTimeoutMs = options.logDrainTimeoutMs ?? 5000
  }

  /** Live runners (spawned or adopted), copies. */
  list(): ManagedRunner[] {
    return [...this.#runners.values()].map((runner) => ({...runner.info}))
  }

  get(sessionId: string): ManagedRunner | undefined {
    const runner = this.#runners.get(sessionId)
    return runner ? {...runner.info} : undefined
  }

  /** Port and token of a live runner: the shape the AG-UI proxy's `resolve` wants. */
  resolve(sessionId: string): {port: number; token: string} | undefined {
    const runner = this.#runners.get(sessionId)
    return runner && !runner.finished ? {port: runner.info.port, token: runner.info.token} : undefined
  }

  /** Starts the runner of `session`. Resolves once the process exists (not once it is healthy). */
  async spawn(session: Session): Promise<ManagedRunner> {
    if (this.#closed) throw new RunnerSpawnError(session.id, 'the runner manager is shut down')
    const workspace = workspacePathFor(this.workspaceRoot, session.id)
    if (this.#runners.has(session.id) || this.#pendingSessions.has(session.id)) throw new RunnerExistsError(session.id)
    if (this.#runners.size + this.#pendingSessions.size >= this.#maxSessions) throw new RunnerCapacityError(this.#maxSessions)
    this.#pendingSessions.add(session.id)
    const spawning = this.#spawn(session, workspace)
    this.#pendingSpawns.add(spawning)
    try {
      return await spawning
    } finally {
      this.#pendingSpawns.delete(spawning)
      this.#pendingSessions.delete(session.id)
    }
  }

  async #takenPorts(): Promise<Set<number>> {
    const taken = new Set<number>()
    for (const runner of this.#runners.values()) taken.add(runner.info.port)
    // Runners of another ambient process sharing the registry may be between bind attempts;
    // our own runners' ports are known already, so their records are not read again.
    if (this.#registry) {
      const known = (id: string): boolean => this.#runners.has(id) || this.#pendingSessions.has(id)
      for (const record of await this.#registry.list({skip: known}).catch(() => [])) {
        if (await this.#registry.isAlive(record)) taken.add(record.port)
      }
    }
    return taken
  }

  async #spawn(session: Session, workspace: string): Promise<ManagedRunner> {
    const sessionId = session.id
    try {
      ensurePrivateDir(workspace)
      ensurePrivateDir(this.#pipeDir)
    } catch (err) {
      throw new RunnerSpawnError(sessionId, errorMessage(err), {cause: err})
    }
    const port = await this.#ports.claim(() => this.#takenPorts())
    try {
      const token = generateToken(this.#random)
      const {pid, logs, exited} = await launchRunner({
        sessionId,
        argv: this.#argv,
        workspace,
        env: buildRunnerEnv({hostEnv: this.#hostEnv, session, port, workspace, token, extraEnv: this.#extraEnv}),
        pipeDir: this.#pipeDir,
        logSettings: this.#logSettings,
        logDrainTimeoutMs: this.#logDrainTimeoutMs,
        delay: this.#delay,
        logger: this.#logger,
      })
      const processStartTicks = (await readProcStat(pid))?.startTicks
      const info: ManagedRunner = {
        sessionId,
        pid,
        pgid: pid,
        port,
        workspace,
        command: this.#commandText,
        startTime: this.#now().toISOString(),
        token,
        adopted: false,
        stopping: false,
      }
      const runner = this.#track(info, {
        stderrLog: logs.stderrLog,
        stderrStart: {offset: logs.stderrStart.size, ino: logs.stderrStart.ino},
        processStartTicks,
        logs,
      })
      runner.recorded = this.#record(runner)
      void exited.then(({exitCode, signal}) => this.#onExit(runner, exitCode, signal))
      await runner.recorded
      this.#logger.info({sessionId, pid, port, workspace}, 'runner spawned')
      this.emit('spawned', {...info}, (error) => this.#logger.error({err: error}, 'spawned listener threw'))
      return {...info}
    } finally {
      this.#ports.release(port)
    }
  }

  #track(info: ManagedRunner, parts: LiveRunnerParts): LiveRunner {
    const runner = new LiveRunner(info, parts)
    this.#runners.set(info.sessionId, runner)
    return runner
  }

  async #record(runner: LiveRunner): Promise<void> {
    if (!this.#registry) return
    try {
      await this.#registry.write(runner.record())
    } catch (err) {
      // The runner works without its record; only adoption after a crash is lost.
      this.#logger.error({err, sessionId: runner.info.sessionId}, 'cannot record runner')
    }
  }

  /** Once the main process is gone: sweep its group, collect the stderr tail, forget it, report. */
  async #onExit(runner: LiveRunner, exitCode: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (!runner.end()) return
    const {info} = runner
    // A finished session owns no processes: whatever the runner left in its group goes too.
    // (During stop() the group is already being terminated with its grace period.)
    if (!info.stopping) await runner.sweep(this.#logger)
    const stderrTail = await runner.lastWords({timeoutMs: this.#logDrainTimeoutMs, delay: this.#delay, logger: this.#logger})
    await runner.recorded
    await this.#registry?.remove(info.sessionId).catch((err: unknown) => this.#logger.warn({err}, 'cannot remove runner record'))
    if (this.#runners.get(info.sessionId) === runner) this.#runners.delete(info.sessionId)
    const exit: RunnerExit = {sessionId: info.sessionId, exitCode, signal, stderrTail, adopted: info.adopted, stopRequested: info.stopping}
    this.#logger.info({sessionId: info.sessionId, exitCode, signal, stopRequested: info.stopping}, 'runner exited')
    runner.report(exit)
    this.emit('exited', exit, (err) => this.#logger.error({err}, 'exited listener threw'))
  }

  /**
   * Polls `GET /health` (with the token) until 200. Throws HealthCheckTimeoutError after
   * `timeoutMs`, RunnerExitedError as soon as the runner exits, RunnerNotFoundError for an
   * unknown session, the signal's reason when aborted.
   */
  async waitHealthy(runnerOrId: ManagedRunner | string, options: WaitHealthyOptions = {}): Promise<void> {
    const sessionId = typeof runnerOrId === 'string' ? runnerOrId : runnerOrId.sessionId
    const runner = this.#runners.get(sessionId)
    if (!runner) throw new RunnerNotFoundError(sessionId)
    const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS
    let exited: RunnerExit | undefined
    void runner.done.then((exit) => {
      exited = exit
    })
    const poll = await pollHealth({
      port: runner.info.port,
      token: runner.info.token,
      timeoutMs,
      intervalMs: options.intervalMs ?? DEFAULT_HEALTH_INTERVAL_MS,
      delay: this.#delay,
      signal: options.signal,
      check: () => {
        if (exited) throw new RunnerExitedError(sessionId, exited.exitCode, exited.stderrTail)
      },
      wake: runner.done,
    })
    if (!poll.ok) throw new HealthCheckTimeoutError(sessionId, timeoutMs, poll.lastError)
  }

  /**
   * Stops a runner: `signal` (default SIGTERM) to its group, SIGKILL after `graceMs`, resolves
   * with its exit once no member of the group is left. Undefined when no such runner lives.
   * A process that called setsid()/setpgid() has left the group and is not reached.
   */
  async stop(sessionId: string, options: StopOptions = {}): Promise<RunnerExit | undefined> {
    const runner = this.#runners.get(sessionId)
    if (!runner) return undefined
    runner.info.stopping = true
    runner.stopPromise ??= (async () => {
      const graceMs = options.graceMs ?? this.#stopGraceMs
      try {
        const terminate = {signal: options.signal ?? 'SIGTERM', graceMs, delay: this.#delay}
        // An adopted runner is not our child: its record is checked against /proc again first.
        if (runner.info.adopted)
          await killRunner({pid: runner.info.pid, pgid: runner.info.pgid, processStartTicks: runner.processStartTicks}, terminate)
        else await terminateGroup(runner.info.pgid, terminate)
      } catch (err) {
        this.#logger.error({err, sessionId}, 'runner group did not die')
        throw err
      }
      // Our child is reaped by Node and reported by execa; an adopted one is not our child.
      if (runner.info.adopted) void this.#onExit(runner, null, null)
      return runner.done
    })()
    return runner.stopPromise
  }

  /** Shutdown: no new spawns, waits for spawns in flight, stops every runner. */
  async stopAll(options: StopOptions = {}): Promise<RunnerExit[]> {
    this.#closed = true
    await Promise.allSettled([...this.#pendingSpawns])
    const results = await Promise.allSettled([...this.#runners.keys()].map((id) => this.stop(id, options)))
    const exits: RunnerExit[] = []
    for (const result of results) {
      if (result.status === 'fulfilled' && result.value) exits.push(result.value)
      else if (result.status === 'rejected') this.#logger.error({err: result.reason}, 'runner stop failed')
    }
    return exits
  }

  /**
   * After a restart: takes over the registry's runners that are alive and healthy (they are
   * not our children, so their exit is noticed by polling /proc and their exit code is
   * unknown), kills whatever is left of the others and removes their records (adopt.ts).
   */
  async adopt(): Promise<AdoptResult> {
    const registry = this.#registry
    if (!registry) return {adopted: [], reaped: []}
    return reviewRecords({
      registry,
      known: (id) => this.#runners.has(id),
      adopt: (record, logs) => this.#adopt(registry, record, logs),
      healthTimeoutMs: this.#adoptHealthTimeoutMs,
      stopGraceMs: this.#stopGraceMs,
      logSettings: this.#logSettings,
      logDrainTimeoutMs: this.#logDrainTimeoutMs,
      delay: this.#delay,
      logger: this.#logger,
    })
  }

  #adopt(registry: RunnerRegistry, record: RunnerRecord, logs: RunnerLogs | undefined): ManagedRunner {
    const {sessionId, pid, pgid, port, workspace, command, startTime, token} = record
    const info: ManagedRunner = {sessionId, pid, pgid, port, workspace, command, startTime, token, adopted: true, stopping: false}
    const runner = this.#track(info, {
      stderrLog: path.join(record.workspace, 'stderr.log'),
      stderrStart: {offset: record.stderrOffset, ino: record.stderrIno},
      processStartTicks: record.processStartTicks,
      logs,
    })
    runner.recorded = registry.write({...record, ownerPid: process.pid}).catch((err: unknown) => {
      this.#logger.warn({err}, 'cannot update adopted runner record')
    })
    runner.watch(this.#adoptPollMs, () => this.#onExit(runner, null, null), this.#logger)
    this.emit('adopted', {...info}, (err) => this.#logger.error({err}, 'adopted listener threw'))
    return {...info}
  }

  /**
   * Lets go of every runner without stopping it, as a crash of this process would: their pipes
   * are no longer drained (a runner blocks once one is full, until another manager adopts it),
   * adopted runners are no longer watched, records stay, later exits are not reported. No new
   * runner starts. For handing runners over to another ambient process, and for tests.
   */
  detach(): void {
    this.#closed = true
    for (const runner of this.#runners.values()) runner.release()
    this.#runners.clear()
  }
}
