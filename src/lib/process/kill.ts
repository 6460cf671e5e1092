// Stopping a runner means stopping its whole process group: TERM, a grace period, then KILL,
// and only then "gone" (checked in /proc, where a zombie counts as gone). Works on any group,
// ours or one started by another ambient process, so `ambient runners kill` can use it; a
// group named by a record is verified first (verify.ts).
// A descendant that called setsid()/setpgid() left the group and is NOT reached: no
// process-group based tool can find it; the runner itself must not do that.
import {setTimeout as sleep} from 'node:timers/promises'
import {groupMembers} from './procfs.js'
import {RunnerKillTimeoutError} from './errors.js'
import {type RunnerProcessRef, type VerifyRunnerOptions, verifyRunnerGroup} from './verify.js'

export type {RunnerProcessRef} from './verify.js'

export type Delay = (ms: number) => Promise<void>
export const defaultDelay: Delay = (ms) => sleep(ms)

export interface TerminateGroupOptions {
  /** First signal, default SIGTERM. */
  signal?: NodeJS.Signals
  /** Time between the first signal and SIGKILL, default 10000 ms. */
  graceMs?: number
  /** How long to wait for the group to vanish after SIGKILL before failing, default 10000 ms. */
  killWaitMs?: number
  pollMs?: number
  delay?: Delay
}

export interface TerminateResult {
  /** Whether anything of the group was alive when we started. */
  wasAlive: boolean
  /** Whether SIGKILL was needed. */
  escalated: boolean
}

/** Sends `signal` to every member of the group; a vanished group is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw err
  }
}

async function waitGroupGone(pgid: number, timeoutMs: number, pollMs: number, delay: Delay): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if ((await groupMembers(pgid)).length === 0) return true
    if (Date.now() >= deadline) return false
    await delay(Math.min(pollMs, Math.max(1, deadline - Date.now())))
  }
}

/** TERM (or `signal`) to the group, KILL after `graceMs`, resolve once no member is left. */
export async function terminateGroup(pgid: number, options: TerminateGroupOptions = {}): Promise<TerminateResult> {
  const graceMs = options.graceMs ?? 10_000
  const pollMs = options.pollMs ?? 50
  const delay = options.delay ?? defaultDelay
  if ((await groupMembers(pgid)).length === 0) return {wasAlive: false, escalated: false}
  signalGroup(pgid, options.signal ?? 'SIGTERM')
  if (await waitGroupGone(pgid, graceMs, pollMs, delay)) return {wasAlive: true, escalated: false}
  signalGroup(pgid, 'SIGKILL')
  const killWaitMs = options.killWaitMs ?? 10_000
  if (!(await waitGroupGone(pgid, killWaitMs, pollMs, delay))) throw new RunnerKillTimeoutError(pgid, killWaitMs)
  return {wasAlive: true, escalated: true}
}

/**
 * Stops a runner from any process (the one that spawned it or `ambient runners kill`): checks
 * the record against /proc first (UnverifiedRunnerError when it does not check out, and then
 * nothing is signalled), then TERM -> grace -> KILL -> gone.
 */
export async function killRunner(ref: RunnerProcessRef, options: TerminateGroupOptions & VerifyRunnerOptions = {}): Promise<TerminateResult> {
  if ((await verifyRunnerGroup(ref, options)) === 'gone') return {wasAlive: false, escalated: false}
  return terminateGroup(ref.pgid, options)
}
