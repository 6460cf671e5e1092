// Stopping a runner means stopping its whole process group: TERM, a grace period, then KILL,
// and only then "gone" (checked in /proc, where a zombie counts as gone). Works on any group,
// ours or one started by another ambient process, so `ambient runners kill` can use it.
// A descendant that called setsid()/setpgid() left the group and is NOT reached: no
// process-group based tool can find it; the runner itself must not do that.
import {setTimeout as sleep} from 'node:timers/promises'
import {groupMembers, readProcStat} from './procfs.js'
import {RunnerKillTimeoutError} from './errors.js'

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

/** What `killRunner` needs to know about a runner: a registry record fits. */
export interface RunnerProcessRef {
  pid: number
  pgid: number
  /** Field 22 of /proc/<pid>/stat at spawn time, to avoid signalling a recycled pid's group. */
  processStartTicks?: number
}

/**
 * Whether the group of `ref` still has members that are really ours. Linux does not hand out
 * a pid that is still in use as a process-group id, so while any member of our group lives,
 * `pgid` names our group. Once the whole group is gone, `pgid` may be recycled as a new
 * process's pid: if a live leader with a different start time holds it, it is not ours.
 */
export async function runnerGroupAlive(ref: RunnerProcessRef): Promise<boolean> {
  const leader = await readProcStat(ref.pgid)
  if (leader && leader.state !== 'Z' && leader.pgrp === ref.pgid && ref.pid === ref.pgid && ref.processStartTicks !== undefined && leader.startTicks !== ref.processStartTicks) {
    return false
  }
  return (await groupMembers(ref.pgid)).length > 0
}

/**
 * Stops a runner from any process (the one that spawned it or `ambient runners kill`):
 * checks the group is still ours, then TERM → grace → KILL → gone.
 */
export async function killRunner(ref: RunnerProcessRef, options: TerminateGroupOptions = {}): Promise<TerminateResult> {
  if (!(await runnerGroupAlive(ref))) return {wasAlive: false, escalated: false}
  return terminateGroup(ref.pgid, options)
}
