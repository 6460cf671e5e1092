// Starting one runner process: its log pipes, then the command in its workspace, in its own
// process group, with only the allowlisted environment. What the manager does with it after
// (records, exit, stop) is manager.ts.
import {execa} from 'execa'
import type {Logger} from '../log.js'
import {errorMessage} from '../errors.js'
import {RunnerSpawnError} from './errors.js'
import type {Delay} from './kill.js'
import {closePipeEnd} from './log-pipe.js'
import {RunnerLogs, logPipesFor, type RunnerLogSettings} from './runner-logs.js'

// execa's types list only descriptors up to 9, but at runtime it hands any open descriptor
// straight to node:child_process (checked in its lib/stdio/handle.js), which is what we want.
// (A single literal type: execa infers its result type from the options, unions defeat it.)
const fileDescriptor = (fd: number) => fd as unknown as 3

export interface LaunchOptions {
  sessionId: string
  argv: readonly string[]
  workspace: string
  env: NodeJS.ProcessEnv
  /** Where the runner's stdout and stderr pipes are made. */
  pipeDir: string
  logSettings: RunnerLogSettings
  /** How long a failed start waits for the runner's output to reach its files. */
  logDrainTimeoutMs: number
  delay: Delay
  logger: Logger
}

export interface Launched {
  pid: number
  logs: RunnerLogs
  /** Settles when the main process has exited; never rejects. */
  exited: Promise<{exitCode: number | null; signal: NodeJS.Signals | null}>
}

/** Resolves once the process exists; RunnerSpawnError when it cannot be started. */
export async function launchRunner(options: LaunchOptions): Promise<Launched> {
  const {sessionId, argv, workspace, logDrainTimeoutMs: timeoutMs, delay} = options
  const [program, ...args] = argv
  if (program === undefined) throw new RunnerSpawnError(sessionId, 'no command')
  let created: Awaited<ReturnType<typeof RunnerLogs.create>>
  try {
    created = await RunnerLogs.create({...options.logSettings, workspace, pipes: logPipesFor(options.pipeDir, sessionId), logger: options.logger})
  } catch (err) {
    throw new RunnerSpawnError(sessionId, `cannot set up its logs: ${errorMessage(err)}`, {cause: err})
  }
  const {logs, runnerEnds} = created
  const closeRunnerEnds = () => Promise.all([closePipeEnd(runnerEnds.stdout), closePipeEnd(runnerEnds.stderr)])
  let child: ReturnType<typeof execa>
  try {
    child = execa(program, args, {
      cwd: workspace,
      env: options.env,
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
    await closeRunnerEnds()
    await logs.finish({timeoutMs, delay})
    throw new RunnerSpawnError(sessionId, errorMessage(err), {cause: err})
  }
  // Only the runner holds the writing ends now: the pipes end when its group is gone.
  await closeRunnerEnds()
  const pid = child.pid
  if (pid === undefined) {
    const result = await child
    await logs.finish({timeoutMs, delay})
    throw new RunnerSpawnError(sessionId, result.shortMessage ?? 'no process was created')
  }
  const exited = child.then(
    (result) => ({exitCode: result.exitCode ?? null, signal: (result.signal ?? null) as NodeJS.Signals | null}),
    // reject: false makes this unreachable; keep the runner accounted for anyway.
    (error: unknown) => {
      options.logger.error({err: error, sessionId}, 'runner wait failed')
      return {exitCode: null, signal: null}
    },
  )
  return {pid, logs, exited}
}
