// What `ambient runners kill` does, from any shell: the on-disk registry is the shared truth
// about runners, whether or not the `ambient run` that started them is still alive. The stop
// request it leaves first is local mode's (the reconciler reads it), hence this folder.
import {errorMessage} from '../../errors.js'
import {
  RunnerNotFoundError,
  RunnerRegistryError,
  isPidAlive,
  removeLogPipes,
  terminateGroup,
  verifyRunnerGroup,
  type RunnerRecord,
  type RunnerRegistry,
  type RunnerView,
} from '../../process/index.js'
import type {StopRequests} from './stop-requests.js'

export interface KillLocalRunnerOptions {
  registry: RunnerRegistry
  stopRequests: StopRequests
  sessionId: string
  /** First signal, default SIGTERM; SIGKILL follows after `graceMs`. */
  signal?: NodeJS.Signals
  /** Default 10 000 ms. */
  graceMs?: number
  /** Shown in the session's condition, default "`ambient runners kill` (pid N)". */
  requestedBy?: string
  now?: () => Date
}

/** What `runners kill` reports of a runner it stopped. */
export interface KilledRunner extends Pick<RunnerView, 'sessionId' | 'pid' | 'port'> {
  /** Something of the runner's process group was alive. */
  wasAlive: boolean
  /** SIGKILL was needed after the grace period. */
  escalated: boolean
  /** An `ambient run` supervised it (that process writes the session's phase). */
  supervised: boolean
}

/**
 * Stops one runner from outside the process that owns it: checks the record against /proc
 * (UnverifiedRunnerError naming the record file when it does not check out: nothing is
 * signalled and the record stays), notes the stop request (so the session becomes Stopped,
 * not Completed or Failed), then TERM -> grace -> KILL to its process group, then removes its
 * registry record (the owner, if alive, would do the same).
 */
export async function killLocalRunner(options: KillLocalRunnerOptions): Promise<KilledRunner> {
  const {registry, sessionId} = options
  const record = await registry.read(sessionId)
  if (!record) throw new RunnerNotFoundError(sessionId)
  const signal = options.signal ?? 'SIGTERM'
  const alive = (await verifyRunnerGroup(record, {source: `runner record ${registry.fileFor(sessionId)}`})) === 'ours'
  const supervised = record.ownerPid !== process.pid && (await isPidAlive(record.ownerPid))
  if (alive) {
    await options.stopRequests.write({
      sessionId,
      pid: record.pid,
      signal,
      requestedBy: options.requestedBy ?? `\`ambient runners kill\` (pid ${process.pid})`,
      requestedAt: (options.now ?? (() => new Date()))().toISOString(),
    })
  }
  const result = alive ? await terminateGroup(record.pgid, {signal, graceMs: options.graceMs ?? 10_000}) : {wasAlive: false, escalated: false}
  await removeIfSame(registry, record)
  // With nobody supervising it, nobody else removes the runner's log pipes.
  if (!supervised && record.stdoutPipe && record.stderrPipe) await removeLogPipes([record.stdoutPipe, record.stderrPipe]).catch(() => {})
  return {sessionId, pid: record.pid, port: record.port, wasAlive: result.wasAlive, escalated: result.escalated, supervised}
}

/** Removes the record unless a newer run of the session has replaced it meanwhile. */
async function removeIfSame(registry: RunnerRegistry, record: RunnerRecord): Promise<void> {
  try {
    const current = await registry.read(record.sessionId)
    if (current && current.pid === record.pid) await registry.remove(record.sessionId)
  } catch (err) {
    throw new RunnerRegistryError(`runner of session ${record.sessionId} is stopped, but its record could not be removed: ${errorMessage(err)}`, {
      cause: err,
    })
  }
}
