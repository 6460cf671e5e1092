// Local-mode runner processes: spawn, watch, stop, persist and adopt.
export * from './errors.js'
export {isSafeSessionId, assertSafeSessionId, workspacePathFor} from './session-id.js'
export {TypedEmitter, type Listener} from './emitter.js'
export {buildRunnerEnv, slugify, isHostEnvAllowed, HOST_ENV_NAMES, HOST_ENV_PREFIXES, type RunnerEnvInput} from './env.js'
export {parsePortRange, isPortFree, findFreePort, PortClaims, DEFAULT_PORT_RANGE, type PortRange} from './ports.js'
export {SESSION_TOKEN_HEADER, generateToken, tokenMatches} from './token.js'
export {probeHealth, type HealthProbe, type ProbeOptions} from './health.js'
export {readLogTail, STDERR_TAIL_LINES, type LogTailOptions} from './log-tail.js'
export {RotatingLog, DEFAULT_LOG_MAX_BYTES, DEFAULT_LOG_FILES, type LogSink, type LogPosition, type RotatingLogOptions} from './log-rotate.js'
export {LogDrain, DEFAULT_MAX_QUEUED_LOG_BYTES, type LogDrainOptions, type LogDrainStats} from './log-drain.js'
export {createLogPipes, openPipeReader, removeLogPipes, isLogPipe} from './log-pipe.js'
export {RunnerLogs, logPipesFor, type RunnerLogPipes, type RunnerLogSettings} from './runner-logs.js'
export {parseProcStat, readProcStat, readProcUid, isPidAlive, groupMembers, isGroupAlive, type ProcStat} from './procfs.js'
export {killRunner, terminateGroup, signalGroup, type TerminateGroupOptions, type TerminateResult} from './kill.js'
export {verifyRunnerGroup, type RunnerProcessRef, type GroupVerdict, type VerifyRunnerOptions} from './verify.js'
export {
  RunnerSchema,
  runnerView,
  type Runner,
  type RunnerView,
  type ManagedRunner,
  type RunnerExit,
  type RunnerRow,
  type RunnerStatus,
} from './runner.js'
export {
  RunnerRegistry,
  registryResolver,
  defaultRunnerStateDir,
  runnerRegistryDir,
  type RunnerRecord,
  type RunnerRegistryOptions,
} from './registry.js'
export {describeRunners, type DescribeRunnersOptions} from './status.js'
export {RunnerManager, type RunnerManagerOptions, type RunnerManagerEvents, type StopOptions, type WaitHealthyOptions} from './manager.js'
export {
  DEFAULT_RUNNER_COMMAND,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_STOP_GRACE_MS,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_HEALTH_INTERVAL_MS,
  defaultWorkspaceRoot,
} from './defaults.js'
export type {ReapedRunner, AdoptResult} from './adopt.js'
