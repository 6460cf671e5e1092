// Runner processes of local mode (contract 4): one per session, in its own workspace, process
// group and port, with an allowlisted environment. A runner's stdout and stderr are named pipes
// drained into rotated stdout.log / stderr.log (runner-logs.ts): bounded on disk, never holding
// the runner up while we run. Runners outlive a crash of this process, and a restarted manager
// adopts them from the registry and drains their pipes again.
import os from 'node:os'
import path from 'node:path'
import {randomBytes as cryptoRandomBytes} from 'node:crypto'
import {execa, parseCommandString} from 'execa'
import type {Session} from '../api/types.js'
import type {Logger} from '../log.js'
import {silentLogger} from '../log.js'
import {errorMessage} from '../errors.js'
import {ensurePrivateDir} from '../private-files.js'
import {TypedEmitter} from './emitter.js'
import {
  HealthCheckTimeoutError,
  RunnerCapacityError,
  RunnerExistsError,
  RunnerExitedError,
  RunnerNotFoundError,
  RunnerSpawnError,
  UnverifiedRunnerError,
} from './errors.js'
import {buildRunnerEnv} from './env.js'
import {probeHealth} from './health.js'
import {type Delay, defaultDelay, killRunner, signalGroup, terminateGroup} from './kill.js'
import {type GroupVerdict, verifyRunnerGroup} from './verify.js'
import {readLogTail} from './log-tail.js'
import {closePipeEnd, isLogPipe, removeLogPipes} from './log-pipe.js'
import {DEFAULT_LOG_FILES, DEFAULT_LOG_MAX_BYTES} from './log-rotate.js'
import {RunnerLogs, logPipesFor, type RunnerLogPipes} from './runner-logs.js'
import {DEFAULT_PORT_RANGE, type PortRange, findFreePort} from './ports.js'
import {isPidAlive, readProcStat} from './procfs.js'
import type {RunnerRecord, RunnerRegistry} from './registry.js'
import type {ManagedRunner} from './runner.js'
import {workspacePathFor} from './session-id.js'
import {type RandomBytes, generateToken} from './token.js'

export const DEFAULT_RUNNER_COMMAND = 'python local_entry.py'
export const DEFAULT_MAX_SESSIONS = 10
export const DEFAULT_STOP_GRACE_MS = 10_000
export const DEFAULT_HEALTH_TIMEOUT_MS = 15_000
export const DEFAULT_HEALTH_INTERVAL_MS = 500

// execa's types list only descriptors up to 9, but at runtime it hands any open descriptor
// straight to node:child_process (checked in its lib/stdio/handle.js), which is what we want.
// (A single literal type: execa infers its result type from the options, unions defeat it.)
const fileDescriptor = (fd: number) => fd as unknown as 3

export function defaultWorkspaceRoot(home: string = os.homedir()): string {
  return path.join(home, '.ambient', 'workspaces')
}

export interface RunnerManagerOptions {
  /** Parent of the per-session workspaces; default `~/.ambient/workspaces`. */
  workspaceRoot?: string
  /**
   * The runner command (`LOCAL_RUNNER_COMMAND`), run with the workspace as cwd, so relative
   * script paths resolve inside the workspace: configure an absolute path. A string is split
   * by execa's `parseCommandString`: on spaces, `\ ` keeps a space inside an argument, no
   * quotes, no shell expansion. Programmatic callers may pass the argv array instead.
   */
  command?: string | readonly string[]
  portRange?: PortRange
  maxSessions?: number
  /** Time between SIGTERM and SIGKILL on stop, default 10 s. */
  stopGraceMs?: number
  /** Where the allowlisted variables come from, default `process.env`. */
  hostEnv?: NodeJS.ProcessEnv
  extraEnv?: {BOSS_URL?: string; BOSS_SPACE?: string}
  /** Persists runners for adoption and other processes; without one nothing is written. */
  registry?: RunnerRegistry
  logger?: Logger
  now?: () => Date
  delay?: Delay
  randomBytes?: RandomBytes
  /** How often adopted runners (not our children) are checked for exit, default 500 ms. */
  adoptPollMs?: number
  /** How long `adopt()` waits for an adopted runner's /health, default 3 s. */
  adoptHealthTimeoutMs?: number
  /** LOCAL_RUNNER_LOG_MAX_BYTES: largest size of each log file, default 10 MiB. */
  logMaxBytes?: number
  /** LOCAL_RUNNER_LOG_FILES: log files kept per stream, the live one included, default 3. */
  logFiles?: number
  /** Output read but not yet on disk, per stream, beyond which lines are dropped; default 4 MiB. */
  maxQueuedLogBytes?: number
  /** Where the runners' log pipes live; default `<registry>/pipes`, without a registry `<workspaceRoot>/.pipes`. */
  pipeDir?: string
  /** How long an exit waits for the runner's output to reach its files, default 5 s. */
  logDrainTimeoutMs?: number
}

export interface RunnerExit {
  sessionId: string
  /** null when killed by a signal, or unknown (adopted runners are not our children). */
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** Last lines of stderr.log written by this run (at most 50). */
  stderrTail: string[]
  adopted: boolean
  /** The exit followed `stop()`/`stopAll()`: the reconciler reports Stopped, not Failed. */
  stopRequested: boolean
}

export interface ReapedRunner {
  sessionId: string
  pid: number
  port: number
  /**
   * dead: its process had ended; unhealthy: alive but not answering /health, killed;
   * refused: its record did not check out against /proc (verify.ts), nothing was signalled
   * and the record is left for the user to look at.
   */
  reason: 'dead' | 'unhealthy' | 'refused'
  /** Why, for `refused`. */
  detail?: string
}

export interface AdoptResult {
  adopted: ManagedRunner[]
  reaped: ReapedRunner[]
}

export interface RunnerManagerEvents {
  spawned: ManagedRunner
  adopted: ManagedRunner
  exited: RunnerExit
}

export interface StopOptions {
  signal?: NodeJS.Signals
  graceMs?: number
}

export interface WaitHealthyOptions {
  timeoutMs?: number
  intervalMs?: number
  signal?: AbortSignal
}

interface LiveRunner {
  info: ManagedRunner
  stderrLog: string
  /** Where this run's stderr starts (offset, in the file with this inode when known). */
  stderrStart: {offset: number; ino?: number}
  processStartTicks?: number
  /** Drains of the runner's pipes; absent for a runner adopted from a record without pipes. */
  logs?: RunnerLogs
  /** Settles once the registry file is written, so a fast exit cannot remove it before it exists. */
  recorded: Promise<void>
  done: Promise<RunnerExit>
  finish: (exit: RunnerExit) => void
  finished: boolean
  stopPromise?: Promise<RunnerExit>
  pollTimer?: NodeJS.Timeout
}

export class RunnerManager extends TypedEmitter<RunnerManagerEvents> {
  readonly workspaceRoot: string
  readonly #argv: readonly string[]
  readonly #commandText: string
  readonly #portRange: PortRange
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
  readonly #pendingPorts = new Set<number>()
  readonly #pendingSpawns = new Set<Promise<unknown>>()
  /** Port choice is check-then-claim: concurrent spawns take turns so they never pick the same port. */
  #portTurn: Promise<unknown> = Promise.resolve()
  #closed = false

  constructor(options: RunnerManagerOptions = {}) {
    super()
    this.workspaceRoot = path.resolve(options.workspaceRoot ?? defaultWorkspaceRoot())
    const command = options.command ?? DEFAULT_RUNNER_COMMAND
    this.#argv = typeof command === 'string' ? parseCommandString(command) : [...command]
    this.#commandText = typeof command === 'string' ? command : command.join(' ')
    if (this.#argv.length === 0) throw new TypeError(`\`command\` must name a program: got ${JSON.stringify(command)}`)
    this.#portRange = options.portRange ?? DEFAULT_PORT_RANGE
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
    this.#logSettings = {maxBytes: options.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES, files: options.logFiles ?? DEFAULT_LOG_FILES, maxQueuedBytes: options.maxQueuedLogBytes}
    this.#pipeDir = path.resolve(options.pipeDir ?? (this.#registry ? path.join(this.#registry.dir, 'pipes') : path.join(this.workspaceRoot, '.pipes')))
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
    const taken = new Set<number>(this.#pendingPorts)
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
    const choosing = this.#portTurn.then(async () => {
      const chosen = await findFreePort(this.#portRange, await this.#takenPorts())
      this.#pendingPorts.add(chosen)
      return chosen
    })
    this.#portTurn = choosing.catch(() => {})
    const port = await choosing
    try {
      const token = generateToken(this.#random)
      let created
      try {
        created = await RunnerLogs.create({...this.#logSettings, workspace, pipes: logPipesFor(this.#pipeDir, sessionId), logger: this.#logger})
      } catch (err) {
        throw new RunnerSpawnError(sessionId, `cannot set up its logs: ${errorMessage(err)}`, {cause: err})
      }
      const {logs, runnerEnds} = created
      let child
      try {
        const env = buildRunnerEnv({hostEnv: this.#hostEnv, session, port, workspace, token, extraEnv: this.#extraEnv})
        child = execa(this.#argv[0], this.#argv.slice(1), {
          cwd: workspace,
          env,
          extendEnv: false,
          stdin: 'ignore',
          stdout: fileDescriptor(runnerEnds.stdout),
          stderr: fileDescriptor(runnerEnds.stderr),
          // Own process group (setsid): stop() signals the whole group.
          detached: true,
          // We decide when runners die (stop/stopAll), not process exit: they may be adopted.
          cleanup: false,
          forceKillAfterDelay: false,
          buffer: false,
          reject: false,
        })
      } catch (err) {
        await Promise.all([closePipeEnd(runnerEnds.stdout), closePipeEnd(runnerEnds.stderr)])
        await logs.finish({timeoutMs: this.#logDrainTimeoutMs, delay: this.#delay})
        throw new RunnerSpawnError(sessionId, errorMessage(err), {cause: err})
      }
      // Only the runner holds the writing ends now: the pipes end when its group is gone.
      await Promise.all([closePipeEnd(runnerEnds.stdout), closePipeEnd(runnerEnds.stderr)])
      const pid = child.pid
      if (pid === undefined) {
        const result = await child
        await logs.finish({timeoutMs: this.#logDrainTimeoutMs, delay: this.#delay})
        throw new RunnerSpawnError(sessionId, result.shortMessage ?? 'no process was created')
      }
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
      const runner = this.#track(info, {stderrLog: logs.stderrLog, stderrStart: {offset: logs.stderrStart.size, ino: logs.stderrStart.ino}, processStartTicks, logs})
      runner.recorded = this.#record(runner)
      void child.then(
        (result) => {
          const signal = (result.signal ?? null) as NodeJS.Signals | null
          const exitCode = result.exitCode ?? null
          void this.#onExit(runner, exitCode, signal)
        },
        // reject: false makes this unreachable; keep the runner accounted for anyway.
        (error: unknown) => {
          this.#logger.error({err: error, sessionId}, 'runner wait failed')
          void this.#onExit(runner, null, null)
        },
      )
      await runner.recorded
      this.#logger.info({sessionId, pid, port, workspace}, 'runner spawned')
      this.emit('spawned', {...info}, (error) => this.#logger.error({err: error}, 'spawned listener threw'))
      return {...info}
    } finally {
      this.#pendingPorts.delete(port)
    }
  }

  #track(info: ManagedRunner, parts: Pick<LiveRunner, 'stderrLog' | 'stderrStart' | 'processStartTicks' | 'logs'>): LiveRunner {
    let finish!: (exit: RunnerExit) => void
    const done = new Promise<RunnerExit>((resolve) => {
      finish = resolve
    })
    const runner: LiveRunner = {info, ...parts, recorded: Promise.resolve(), done, finish, finished: false}
    this.#runners.set(info.sessionId, runner)
    return runner
  }

  async #record(runner: LiveRunner): Promise<void> {
    if (!this.#registry) return
    const {info} = runner
    const record: RunnerRecord = {
      sessionId: info.sessionId,
      pid: info.pid,
      pgid: info.pgid,
      port: info.port,
      workspace: info.workspace,
      command: info.command,
      startTime: info.startTime,
      processStartTicks: runner.processStartTicks,
      token: info.token,
      ownerPid: process.pid,
      stderrOffset: runner.stderrStart.offset,
      stderrIno: runner.stderrStart.ino,
      stdoutPipe: runner.logs?.pipes.stdout,
      stderrPipe: runner.logs?.pipes.stderr,
    }
    try {
      await this.#registry.write(record)
    } catch (err) {
      // The runner works without its record; only adoption after a crash is lost.
      this.#logger.error({err, sessionId: info.sessionId}, 'cannot record runner')
    }
  }

  /** Once the main process is gone: sweep its group, collect the stderr tail, forget it, report. */
  async #onExit(runner: LiveRunner, exitCode: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (runner.finished) return
    runner.finished = true
    if (runner.pollTimer) clearInterval(runner.pollTimer)
    const {info} = runner
    // A finished session owns no processes: whatever the runner left in its group goes too.
    // (During stop() the group is already being terminated with its grace period.)
    if (!info.stopping) await this.#sweep(runner)
    // The runner's last words may still be in its pipes: the tail is read once they are on disk.
    if (runner.logs && !(await runner.logs.finish({timeoutMs: this.#logDrainTimeoutMs, delay: this.#delay}))) {
      this.#logger.warn({sessionId: info.sessionId}, 'a process outside the runner group (setsid) still holds its log pipe: no longer drained')
    }
    const stderrTail = await readLogTail(runner.stderrLog, {fromOffset: runner.stderrStart.offset, fromIno: runner.stderrStart.ino})
    await runner.recorded
    await this.#registry?.remove(info.sessionId).catch((err: unknown) => this.#logger.warn({err}, 'cannot remove runner record'))
    if (this.#runners.get(info.sessionId) === runner) this.#runners.delete(info.sessionId)
    const exit: RunnerExit = {sessionId: info.sessionId, exitCode, signal, stderrTail, adopted: info.adopted, stopRequested: info.stopping}
    this.#logger.info({sessionId: info.sessionId, exitCode, signal, stopRequested: info.stopping}, 'runner exited')
    runner.finish(exit)
    this.emit('exited', exit, (err) => this.#logger.error({err}, 'exited listener threw'))
  }

  /**
   * SIGKILL to what the runner left in its group, once the group checks out against /proc:
   * by now the runner's pid is free and could already lead somebody else's group.
   */
  async #sweep(runner: LiveRunner): Promise<void> {
    const {info} = runner
    try {
      // Without /proc (no start ticks) our own child's group is trusted as before.
      if (!info.adopted && runner.processStartTicks === undefined) signalGroup(info.pgid, 'SIGKILL')
      else if ((await verifyRunnerGroup({pid: info.pid, pgid: info.pgid, processStartTicks: runner.processStartTicks})) === 'ours') signalGroup(info.pgid, 'SIGKILL')
    } catch (err) {
      this.#logger.warn({err, sessionId: info.sessionId}, 'cannot sweep runner process group')
    }
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
    const intervalMs = options.intervalMs ?? DEFAULT_HEALTH_INTERVAL_MS
    const deadline = Date.now() + timeoutMs
    let exited: RunnerExit | undefined
    void runner.done.then((exit) => {
      exited = exit
    })
    let lastError: string | undefined
    for (;;) {
      options.signal?.throwIfAborted()
      if (exited) throw new RunnerExitedError(sessionId, exited.exitCode, exited.stderrTail)
      const remaining = deadline - Date.now()
      const probe = await probeHealth({port: runner.info.port, token: runner.info.token, timeoutMs: Math.max(100, Math.min(2000, remaining))})
      if (probe.ok) return
      lastError = probe.error ?? `status ${probe.status}`
      if (Date.now() + intervalMs > deadline) throw new HealthCheckTimeoutError(sessionId, timeoutMs, lastError)
      await Promise.race([this.#delay(intervalMs), runner.done])
    }
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
        if (runner.info.adopted) await killRunner({pid: runner.info.pid, pgid: runner.info.pgid, processStartTicks: runner.processStartTicks}, terminate)
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
   * unknown), kills whatever is left of the others and removes their records.
   */
  async adopt(): Promise<AdoptResult> {
    const result: AdoptResult = {adopted: [], reaped: []}
    if (!this.#registry) return result
    for (const record of await this.#registry.list()) {
      if (this.#runners.has(record.sessionId)) continue
      const reaped = (reason: ReapedRunner['reason'], detail?: string): ReapedRunner => ({sessionId: record.sessionId, pid: record.pid, port: record.port, reason, ...(detail ? {detail} : {})})
      let verdict: GroupVerdict
      try {
        verdict = await verifyRunnerGroup(record, {source: `runner record ${this.#registry.fileFor(record.sessionId)}`})
      } catch (err) {
        if (!(err instanceof UnverifiedRunnerError)) throw err
        this.#logger.error({err, sessionId: record.sessionId}, 'runner record does not check out: not adopting it, not signalling it')
        result.reaped.push(reaped('refused', err.message))
        continue
      }
      const pipes = recordedPipes(record)
      if (verdict === 'gone' || !(await this.#registry.isAlive(record))) {
        // The leader is gone; children it left in the group (verified above) are not worth keeping.
        if (verdict === 'ours') await terminateGroup(record.pgid, {graceMs: 0, delay: this.#delay}).catch((err: unknown) => this.#logger.warn({err}, 'cannot kill leftovers'))
        if (pipes) await removeLogPipes([pipes.stdout, pipes.stderr])
        await this.#registry.remove(record.sessionId)
        result.reaped.push(reaped('dead'))
        continue
      }
      // Drained from now on: a runner blocked on a full pipe could not even answer /health.
      const logs = await this.#attachLogs(record, pipes)
      if (!(await this.#healthyWithin(record.port, record.token, this.#adoptHealthTimeoutMs))) {
        try {
          await killRunner(record, {graceMs: this.#stopGraceMs, delay: this.#delay})
          await logs?.finish({timeoutMs: this.#logDrainTimeoutMs, delay: this.#delay})
          await this.#registry.remove(record.sessionId)
        } catch (err) {
          this.#logger.error({err, sessionId: record.sessionId}, 'cannot kill unhealthy runner')
        }
        result.reaped.push(reaped('unhealthy'))
        continue
      }
      const info: ManagedRunner = {
        sessionId: record.sessionId,
        pid: record.pid,
        pgid: record.pgid,
        port: record.port,
        workspace: record.workspace,
        command: record.command,
        startTime: record.startTime,
        token: record.token,
        adopted: true,
        stopping: false,
      }
      const runner = this.#track(info, {
        stderrLog: path.join(record.workspace, 'stderr.log'),
        stderrStart: {offset: record.stderrOffset, ino: record.stderrIno},
        processStartTicks: record.processStartTicks,
        logs,
      })
      runner.recorded = this.#registry.write({...record, ownerPid: process.pid}).catch((err: unknown) => {
        this.#logger.warn({err}, 'cannot update adopted runner record')
      })
      this.#watchAdopted(runner)
      result.adopted.push({...info})
      this.emit('adopted', {...info}, (err) => this.#logger.error({err}, 'adopted listener threw'))
    }
    for (const reaped of result.reaped) this.#logger.warn({...reaped}, 'reaped runner record')
    return result
  }

  /** Drains an adopted runner's pipes again; without them (an older record, pipes gone) its output is not captured. */
  async #attachLogs(record: RunnerRecord, pipes: RunnerLogPipes | undefined): Promise<RunnerLogs | undefined> {
    if (!pipes) return undefined
    if (!(await isLogPipe(pipes.stdout)) || !(await isLogPipe(pipes.stderr))) {
      this.#logger.warn({sessionId: record.sessionId, pipes}, 'adopted runner has no log pipes any more: its output is lost, and it blocks once a pipe is full')
      return undefined
    }
    try {
      return await RunnerLogs.attach({...this.#logSettings, workspace: record.workspace, pipes, logger: this.#logger})
    } catch (err) {
      this.#logger.warn({err, sessionId: record.sessionId}, 'cannot drain the log pipes of an adopted runner')
      return undefined
    }
  }

  /**
   * Lets go of every runner without stopping it, as a crash of this process would: their pipes
   * are no longer drained (a runner blocks once one is full, until another manager adopts it),
   * adopted runners are no longer watched, records stay, later exits are not reported. No new
   * runner starts. For handing runners over to another ambient process, and for tests.
   */
  detach(): void {
    this.#closed = true
    for (const runner of this.#runners.values()) {
      runner.finished = true
      if (runner.pollTimer) clearInterval(runner.pollTimer)
      runner.logs?.release()
    }
    this.#runners.clear()
  }

  async #healthyWithin(port: number, token: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const probe = await probeHealth({port, token, timeoutMs: Math.max(100, Math.min(2000, deadline - Date.now()))})
      if (probe.ok) return true
      if (Date.now() + DEFAULT_HEALTH_INTERVAL_MS > deadline) return false
      await this.#delay(Math.min(DEFAULT_HEALTH_INTERVAL_MS, Math.max(1, deadline - Date.now())))
    }
  }

  #watchAdopted(runner: LiveRunner): void {
    let checking = false
    runner.pollTimer = setInterval(() => {
      if (checking || runner.finished) return
      checking = true
      isPidAlive(runner.info.pid, runner.processStartTicks)
        .then((alive) => {
          if (!alive) return this.#onExit(runner, null, null)
        })
        .catch((err: unknown) => this.#logger.warn({err}, 'adopted runner check failed'))
        .finally(() => {
          checking = false
        })
    }, this.#adoptPollMs)
    runner.pollTimer.unref()
  }
}


/** The log pipes a record names, when it names both (older records have none). */
function recordedPipes(record: RunnerRecord): RunnerLogPipes | undefined {
  return record.stdoutPipe && record.stderrPipe ? {stdout: record.stdoutPipe, stderr: record.stderrPipe} : undefined
}
