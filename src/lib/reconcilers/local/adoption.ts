// Taking over the runners a previous ambient process left in the registry: healthy ones are
// adopted, dead ones are recorded as exits so their sessions reach a terminal phase (with the
// stderr tail of their last run), and adopted runners whose session no longer exists are stopped.
import path from 'node:path'
import type {Logger} from '../../log.js'
import {readLogTail, type RunnerManager, type RunnerRegistry} from '../../process/index.js'
import type {SessionRuns} from './session-run.js'

export interface AdoptionOptions {
  manager: RunnerManager
  registry?: RunnerRegistry
  runs: SessionRuns
  /** The session is known not to exist (the sessions cache has synced and lacks it): its runner is stopped. */
  sessionGone: (id: string) => boolean
  logger: Logger
  now: () => Date
  trigger: (id: string) => void
}

export async function adoptRunners(options: AdoptionOptions): Promise<void> {
  const {manager, registry, runs, logger, now, trigger} = options
  try {
    const records = (await registry?.list().catch(() => [])) ?? []
    const result = await manager.adopt()
    for (const reaped of result.reaped) {
      const record = records.find((r) => r.sessionId === reaped.sessionId)
      const stderrTail = record
        ? await readLogTail(path.join(record.workspace, 'stderr.log'), {fromOffset: record.stderrOffset, fromIno: record.stderrIno})
        : []
      runs.for(reaped.sessionId).exit = {
        sessionId: reaped.sessionId,
        pid: reaped.pid,
        exitCode: null,
        signal: null,
        stderrTail,
        adopted: true,
        stopRequested: false,
        reaped: reaped.reason,
        at: now(),
      }
      trigger(reaped.sessionId)
    }
    for (const info of result.adopted) {
      const run = runs.for(info.sessionId)
      run.pid = info.pid
      if (options.sessionGone(info.sessionId)) {
        logger.info({session: info.sessionId, pid: info.pid}, 'adopted runner has no session: stopping it')
        run.stopRunner()
      }
    }
    if (result.adopted.length > 0 || result.reaped.length > 0) {
      logger.info({adopted: result.adopted.map((r) => r.sessionId), reaped: result.reaped.map((r) => r.sessionId)}, 'runners from a previous run')
    }
  } catch (err) {
    // Without adoption we may spawn a second runner for a session; say so loudly, keep going.
    logger.error({err}, 'cannot adopt runners from the registry')
  }
}
