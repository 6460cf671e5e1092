// After a restart, the registry names runners a previous ambient process left behind. Each
// record is checked against /proc before anything is signalled (verify.ts); live, healthy
// runners are handed back to the manager to adopt (their pipes drained again), the others are
// reaped: what is left of a dead one's group is killed, an unhealthy one is stopped, a record
// that does not check out is refused and left for the user to look at.
import type {Logger} from '../log.js'
import {UnverifiedRunnerError} from './errors.js'
import {pollHealth} from './health.js'
import {DEFAULT_HEALTH_INTERVAL_MS} from './defaults.js'
import {type Delay, killRunner, terminateGroup} from './kill.js'
import {isLogPipe, removeLogPipes} from './log-pipe.js'
import type {RunnerRecord, RunnerRegistry} from './registry.js'
import {RunnerLogs, type RunnerLogPipes, type RunnerLogSettings} from './runner-logs.js'
import type {ManagedRunner} from './runner.js'
import {type GroupVerdict, verifyRunnerGroup} from './verify.js'

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

export interface ReviewRecordsOptions {
  registry: RunnerRegistry
  /** Sessions whose runner the manager already has: their records are skipped. */
  known: (sessionId: string) => boolean
  /** Called for each runner to take over, in registry order, with its pipes' drains. */
  adopt: (record: RunnerRecord, logs: RunnerLogs | undefined) => ManagedRunner
  /** How long a runner may take to answer /health. */
  healthTimeoutMs: number
  /** SIGTERM -> SIGKILL for an unhealthy runner. */
  stopGraceMs: number
  logSettings: RunnerLogSettings
  logDrainTimeoutMs: number
  delay: Delay
  logger: Logger
}

export async function reviewRecords(options: ReviewRecordsOptions): Promise<AdoptResult> {
  const {registry, logger, delay} = options
  const result: AdoptResult = {adopted: [], reaped: []}
  for (const record of await registry.list()) {
    if (options.known(record.sessionId)) continue
    const reaped = (reason: ReapedRunner['reason'], detail?: string): ReapedRunner => ({
      sessionId: record.sessionId,
      pid: record.pid,
      port: record.port,
      reason,
      ...(detail ? {detail} : {}),
    })
    let verdict: GroupVerdict
    try {
      verdict = await verifyRunnerGroup(record, {source: `runner record ${registry.fileFor(record.sessionId)}`})
    } catch (err) {
      if (!(err instanceof UnverifiedRunnerError)) throw err
      logger.error({err, sessionId: record.sessionId}, 'runner record does not check out: not adopting it, not signalling it')
      result.reaped.push(reaped('refused', err.message))
      continue
    }
    const pipes = recordedPipes(record)
    if (verdict === 'gone' || !(await registry.isAlive(record))) {
      // The leader is gone; children it left in the group (verified above) are not worth keeping.
      if (verdict === 'ours')
        await terminateGroup(record.pgid, {graceMs: 0, delay}).catch((err: unknown) => logger.warn({err}, 'cannot kill leftovers'))
      if (pipes) await removeLogPipes([pipes.stdout, pipes.stderr])
      await registry.remove(record.sessionId)
      result.reaped.push(reaped('dead'))
      continue
    }
    // Drained from now on: a runner blocked on a full pipe could not even answer /health.
    const logs = await attachLogs(options, record, pipes)
    if (!(await healthyWithin(record, options))) {
      try {
        await killRunner(record, {graceMs: options.stopGraceMs, delay})
        await logs?.finish({timeoutMs: options.logDrainTimeoutMs, delay})
        await registry.remove(record.sessionId)
      } catch (err) {
        logger.error({err, sessionId: record.sessionId}, 'cannot kill unhealthy runner')
      }
      result.reaped.push(reaped('unhealthy'))
      continue
    }
    result.adopted.push(options.adopt(record, logs))
  }
  for (const reaped of result.reaped) logger.warn({...reaped}, 'reaped runner record')
  return result
}

/** Drains an adopted runner's pipes again; without them (an older record, pipes gone) its output is not captured. */
async function attachLogs(options: ReviewRecordsOptions, record: RunnerRecord, pipes: RunnerLogPipes | undefined): Promise<RunnerLogs | undefined> {
  const {logger} = options
  if (!pipes) return undefined
  if (!(await isLogPipe(pipes.stdout)) || !(await isLogPipe(pipes.stderr))) {
    logger.warn(
      {sessionId: record.sessionId, pipes},
      'adopted runner has no log pipes any more: its output is lost, and it blocks once a pipe is full',
    )
    return undefined
  }
  try {
    return await RunnerLogs.attach({...options.logSettings, workspace: record.workspace, pipes, logger})
  } catch (err) {
    logger.warn({err, sessionId: record.sessionId}, 'cannot drain the log pipes of an adopted runner')
    return undefined
  }
}

async function healthyWithin(record: RunnerRecord, options: Pick<ReviewRecordsOptions, 'healthTimeoutMs' | 'delay'>): Promise<boolean> {
  const poll = await pollHealth({
    port: record.port,
    token: record.token,
    timeoutMs: options.healthTimeoutMs,
    intervalMs: DEFAULT_HEALTH_INTERVAL_MS,
    delay: options.delay,
  })
  return poll.ok
}

/** The log pipes a record names, when it names both (older records have none). */
function recordedPipes(record: RunnerRecord): RunnerLogPipes | undefined {
  return record.stdoutPipe && record.stderrPipe ? {stdout: record.stdoutPipe, stderr: record.stderrPipe} : undefined
}
