// The two log streams of one runner: its stdout and stderr named pipes (log-pipe.ts), each
// drained (log-drain.ts) into its rotated file in the workspace (log-rotate.ts). Made at
// spawn, reattached by a restarted manager when it adopts the runner, finished when the runner
// is gone, let go without draining on detach.
import path from 'node:path'
import type {Logger} from '../log.js'
import type {Delay} from './kill.js'
import {DEFAULT_MAX_QUEUED_LOG_BYTES, LogDrain} from './log-drain.js'
import {closePipeEnd, createLogPipes, openPipeForRunner, openPipeReader, removeLogPipes} from './log-pipe.js'
import {DEFAULT_LOG_FILES, DEFAULT_LOG_MAX_BYTES, type LogPosition, RotatingLog} from './log-rotate.js'
import {present} from '../util/present.js'

export interface RunnerLogSettings {
  /** LOCAL_RUNNER_LOG_MAX_BYTES: the largest size of each log file, default 10 MiB. */
  maxBytes?: number
  /** LOCAL_RUNNER_LOG_FILES: files kept per stream, the live one included, default 3. */
  files?: number
  /** Output read but not yet on disk, per stream, beyond which lines are dropped; default 4 MiB. */
  maxQueuedBytes?: number
}

export interface RunnerLogPipes {
  stdout: string
  stderr: string
}

export interface RunnerLogsOptions extends RunnerLogSettings {
  workspace: string
  pipes: RunnerLogPipes
  logger: Logger
}

const STREAMS = ['stdout', 'stderr'] as const

/** `<dir>/<session id>.stdout` and `.stderr`. */
export function logPipesFor(dir: string, sessionId: string): RunnerLogPipes {
  return {stdout: path.join(dir, `${sessionId}.stdout`), stderr: path.join(dir, `${sessionId}.stderr`)}
}

export class RunnerLogs {
  readonly pipes: RunnerLogPipes
  /** Where this run's stderr starts (file inode and offset), for the failure tail. */
  readonly stderrStart: LogPosition
  readonly stderrLog: string
  readonly #drains: LogDrain[]
  readonly #logger: Logger

  private constructor(parts: {pipes: RunnerLogPipes; stderrStart: LogPosition; stderrLog: string; drains: LogDrain[]; logger: Logger}) {
    this.pipes = parts.pipes
    this.stderrStart = parts.stderrStart
    this.stderrLog = parts.stderrLog
    this.#drains = parts.drains
    this.#logger = parts.logger
  }

  /**
   * New pipes for a runner about to start, drained from now on. `runnerEnds` are the
   * descriptors to give the runner as stdout and stderr: close them once it is spawned.
   */
  static async create(options: RunnerLogsOptions): Promise<{logs: RunnerLogs; runnerEnds: {stdout: number; stderr: number}}> {
    const paths = [options.pipes.stdout, options.pipes.stderr]
    await createLogPipes(paths)
    const opened: number[] = []
    try {
      for (const file of paths) opened.push(await openPipeForRunner(file))
      const logs = await RunnerLogs.attach(options)
      return {logs, runnerEnds: {stdout: present(opened[0], 'the stdout pipe'), stderr: present(opened[1], 'the stderr pipe')}}
    } catch (err) {
      await Promise.all(opened.map((fd) => closePipeEnd(fd).catch(() => {})))
      await removeLogPipes(paths)
      throw err
    }
  }

  /** Drains the pipes of a runner that runs already (adoption after a restart). */
  static async attach(options: RunnerLogsOptions): Promise<RunnerLogs> {
    const drains: LogDrain[] = []
    const positions: LogPosition[] = []
    try {
      for (const stream of STREAMS) {
        const sink = new RotatingLog({
          file: path.join(options.workspace, `${stream}.log`),
          maxBytes: options.maxBytes ?? DEFAULT_LOG_MAX_BYTES,
          files: options.files ?? DEFAULT_LOG_FILES,
        })
        positions.push(await sink.open())
        const source = await openPipeReader(options.pipes[stream]).catch(async (err: unknown) => {
          await sink.close()
          throw err
        })
        drains.push(
          new LogDrain({
            source,
            sink,
            name: stream,
            maxQueuedBytes: options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_LOG_BYTES,
            onError: (err) => options.logger.warn({err, stream, workspace: options.workspace}, 'runner log: output lost'),
          }),
        )
      }
    } catch (err) {
      for (const drain of drains) drain.close()
      throw err
    }
    return new RunnerLogs({
      pipes: options.pipes,
      stderrStart: present(positions[1], 'the stderr log position'),
      stderrLog: path.join(options.workspace, 'stderr.log'),
      drains,
      logger: options.logger,
    })
  }

  /**
   * Once the runner's group is gone: waits (at most `timeoutMs`) for both pipes to end and their
   * output to reach the files, then removes the pipes. False when a pipe stayed open: a process
   * that left the group (setsid) still holds it; it is no longer drained.
   */
  async finish(options: {timeoutMs: number; delay: Delay}): Promise<boolean> {
    const drained = await Promise.race([
      Promise.all(this.#drains.map((d) => d.done)).then(() => true),
      options.delay(options.timeoutMs).then(() => false),
    ])
    if (!drained) for (const drain of this.#drains) drain.close()
    await removeLogPipes([this.pipes.stdout, this.pipes.stderr])
    const [stdout, stderr] = this.#drains.map((drain) => drain.stats())
    if (!stdout || !stderr) return drained
    if (stdout.bytesDropped + stderr.bytesDropped > 0) {
      this.#logger.warn(
        {
          stdoutDropped: stdout.bytesDropped,
          stderrDropped: stderr.bytesDropped,
          stdoutRead: stdout.bytesIn,
          stderrRead: stderr.bytesIn,
          pipes: this.pipes,
        },
        'runner wrote faster than its logs could be written: output dropped (marked in the log files)',
      )
    }
    return drained
  }

  /** Stops reading without waiting or removing anything: the runner lives on for another manager. */
  release(): void {
    for (const drain of this.#drains) drain.close()
  }
}
