// One runner process of local mode, as every layer sees it: the registry persists it, the
// manager supervises it, `ambient runners ls` and the dashboard show it. The other shapes are
// narrowed from this one; views are built field by field (runnerView), so the runner's token,
// the proxy's credential, never reaches one, not even as an extra property of a spread.
import {z} from 'zod'

export const RunnerSchema = z.object({
  sessionId: z.string(),
  pid: z.number().int().positive(),
  /** Equal to pid: every runner leads its own process group. */
  pgid: z.number().int().positive(),
  port: z.number().int().min(1).max(65535),
  workspace: z.string(),
  /** The runner command as configured (LOCAL_RUNNER_COMMAND). */
  command: z.string(),
  /** When it was spawned, ISO 8601 UTC. */
  startTime: z.string(),
  /** Sent by the proxy as `X-Ambient-Session-Token`; secret. */
  token: z.string(),
})

export type Runner = z.infer<typeof RunnerSchema>

/** What may be shown of a runner: everything but its token. */
export type RunnerView = Omit<Runner, 'token'>

/** A runner this process supervises (RunnerManager). */
export interface ManagedRunner extends Runner {
  /** Found alive by `adopt()` rather than spawned by this manager: its exit code is unknown. */
  adopted: boolean
  /** `stop()` was called. */
  stopping: boolean
}

/** A live runner with its session's name and phase: a row of `ambient run`'s dashboard. */
export type RunnerRow = Pick<RunnerView, 'sessionId' | 'pid' | 'port' | 'startTime'> & {name?: string; phase: string}

/** A registry record as `ambient runners ls` reports it. */
export interface RunnerStatus extends RunnerView {
  uptimeSeconds: number | undefined
  /** The runner's main process runs (not a zombie, not a recycled pid). */
  alive: boolean
  /** GET /health answered 200; undefined when not alive (not probed). */
  healthy: boolean | undefined
  /** The ambient process that supervises it. */
  ownerPid: number
  ownerAlive: boolean
}

/** The runner without its token, copied field by field. */
export function runnerView(runner: RunnerView): RunnerView {
  const {sessionId, pid, pgid, port, workspace, command, startTime} = runner
  return {sessionId, pid, pgid, port, workspace, command, startTime}
}

/** How a supervised runner ended, as the manager reports it. */
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
