// One runner the manager supervises: what it is (ManagedRunner), where this run's stderr
// starts, its log drains, and the promise of its exit. Everything here touches only this
// runner's processes and files; the manager keeps the map, the registry and the events.
import type {Logger} from '../log.js'
import {type Delay, signalGroup} from './kill.js'
import {readLogTail} from './log-tail.js'
import {isPidAlive} from './procfs.js'
import type {RunnerRecord} from './registry.js'
import type {RunnerLogs} from './runner-logs.js'
import type {ManagedRunner, RunnerExit} from './runner.js'
import {verifyRunnerGroup} from './verify.js'

export interface LiveRunnerParts {
  stderrLog: string
  /** Where this run's stderr starts (offset, in the file with this inode when known). */
  stderrStart: {offset: number; ino?: number}
  /** Field 22 of /proc/<pid>/stat at spawn: tells our process from a recycled pid. */
  processStartTicks?: number
  /** Drains of the runner's pipes; absent for a runner adopted from a record without pipes. */
  logs?: RunnerLogs
}

export class LiveRunner implements LiveRunnerParts {
  readonly info: ManagedRunner
  readonly stderrLog: string
  readonly stderrStart: {offset: number; ino?: number}
  readonly processStartTicks?: number
  readonly logs?: RunnerLogs
  /** Settles once the registry file is written, so a fast exit cannot remove it before it exists. */
  recorded: Promise<void> = Promise.resolve()
  readonly done: Promise<RunnerExit>
  stopPromise?: Promise<RunnerExit>
  #finish!: (exit: RunnerExit) => void
  #finished = false
  #pollTimer?: NodeJS.Timeout

  constructor(info: ManagedRunner, parts: LiveRunnerParts) {
    this.info = info
    this.stderrLog = parts.stderrLog
    this.stderrStart = parts.stderrStart
    this.processStartTicks = parts.processStartTicks
    this.logs = parts.logs
    this.done = new Promise<RunnerExit>((resolve) => {
      this.#finish = resolve
    })
  }

  get finished(): boolean {
    return this.#finished
  }

  /** Marks the runner finished and stops watching it; false when it already was. */
  end(): boolean {
    if (this.#finished) return false
    this.#finished = true
    if (this.#pollTimer) clearInterval(this.#pollTimer)
    return true
  }

  /** Settles `done` with the runner's exit. */
  report(exit: RunnerExit): void {
    this.#finish(exit)
  }

  /** Lets go without stopping it: no more watching, pipes no longer drained. */
  release(): void {
    this.end()
    this.logs?.release()
  }

  /** An adopted runner is not our child: polls /proc and calls `onGone` once it has ended. */
  watch(pollMs: number, onGone: () => Promise<void>, logger: Logger): void {
    let checking = false
    this.#pollTimer = setInterval(() => {
      if (checking || this.#finished) return
      checking = true
      isPidAlive(this.info.pid, this.processStartTicks)
        .then((alive) => {
          if (!alive) return onGone()
        })
        .catch((err: unknown) => logger.warn({err}, 'adopted runner check failed'))
        .finally(() => {
          checking = false
        })
    }, pollMs)
    this.#pollTimer.unref()
  }

  /**
   * SIGKILL to what the runner left in its group, once the group checks out against /proc:
   * by now the runner's pid is free and could already lead somebody else's group.
   */
  async sweep(logger: Logger): Promise<void> {
    const {info} = this
    try {
      // Without /proc (no start ticks) our own child's group is trusted as before.
      if (!info.adopted && this.processStartTicks === undefined) signalGroup(info.pgid, 'SIGKILL')
      else if ((await verifyRunnerGroup({pid: info.pid, pgid: info.pgid, processStartTicks: this.processStartTicks})) === 'ours')
        signalGroup(info.pgid, 'SIGKILL')
    } catch (err) {
      logger.warn({err, sessionId: info.sessionId}, 'cannot sweep runner process group')
    }
  }

  /** The last lines of this run's stderr, read once its pipes have reached the disk. */
  async lastWords(options: {timeoutMs: number; delay: Delay; logger: Logger}): Promise<string[]> {
    const {timeoutMs, delay, logger} = options
    if (this.logs && !(await this.logs.finish({timeoutMs, delay}))) {
      logger.warn({sessionId: this.info.sessionId}, 'a process outside the runner group (setsid) still holds its log pipe: no longer drained')
    }
    return readLogTail(this.stderrLog, {fromOffset: this.stderrStart.offset, fromIno: this.stderrStart.ino})
  }

  /** Its registry record, owned by this process. */
  record(): RunnerRecord {
    const {sessionId, pid, pgid, port, workspace, command, startTime, token} = this.info
    return {
      sessionId,
      pid,
      pgid,
      port,
      workspace,
      command,
      startTime,
      processStartTicks: this.processStartTicks,
      token,
      ownerPid: process.pid,
      stderrOffset: this.stderrStart.offset,
      stderrIno: this.stderrStart.ino,
      stdoutPipe: this.logs?.pipes.stdout,
      stderrPipe: this.logs?.pipes.stderr,
    }
  }
}
