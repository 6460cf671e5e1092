// What a RunnerManager (manager.ts) is built with, and what it tells its listeners.
import type {Logger} from '../log.js'
import type {Delay} from './kill.js'
import type {PortRange} from './ports.js'
import type {RunnerRegistry} from './registry.js'
import type {ManagedRunner, RunnerExit} from './runner.js'
import type {RandomBytes} from './token.js'

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
