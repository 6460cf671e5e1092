// Before a signal goes to a runner's process group, the record naming the group is checked
// against /proc: kill(-pgid) reaches every member of the group (as root, anyone's), so a
// stale, hand-edited or forged record must never make us signal a group we did not start.
// Every runner we spawn leads its own group and session (setsid), and its record holds the
// start ticks of its pid read right after the spawn: that is what a record must match.
import {UnverifiedRunnerError} from './errors.js'
import {HAS_PROC, groupMembers, isDeadState, readProcStat, readProcUid} from './procfs.js'

/** What names a runner's processes: a registry record fits. */
export interface RunnerProcessRef {
  pid: number
  pgid: number
  /** Field 22 of /proc/<pid>/stat at spawn time: tells our process from a recycled pid. */
  processStartTicks?: number
}

/** `ours`: something of the runner's group lives and checks out. `gone`: nothing of it is left. */
export type GroupVerdict = 'ours' | 'gone'

export interface VerifyRunnerOptions {
  /** Names the record in errors (its file). */
  source?: string
  /** The user the runner must run as; default our effective uid. */
  uid?: number
}

/**
 * Whether the group of `ref` is a runner of ours that is still there, or gone. When anything
 * it names still lives, the record must check out, else UnverifiedRunnerError: start ticks
 * present (and equal to the live pid's, or the runner is gone and its pid reused), pgid ===
 * pid, the pid leading its own group and session, and every live process of the group ours
 * and started by the runner (its session, not older than it). A record naming nothing alive
 * is `gone` whatever it says: there is nothing it could make us signal.
 */
export async function verifyRunnerGroup(ref: RunnerProcessRef, options: VerifyRunnerOptions = {}): Promise<GroupVerdict> {
  const refuse = (problem: string) => new UnverifiedRunnerError(options.source ?? `runner record of pid ${ref.pid}`, problem)
  const {pid, pgid, processStartTicks: ticks} = ref
  // kill(-1) would reach every process we may signal, kill(-0) our own group.
  if (!Number.isInteger(pid) || pid <= 1 || !Number.isInteger(pgid) || pgid <= 1) throw refuse(`pid ${pid} / pgid ${pgid} cannot be a runner's`)
  if (!HAS_PROC) throw refuse('without /proc its process cannot be checked')
  const leader = await readProcStat(pid)
  const members = await groupMembers(pgid)
  if ((!leader || isDeadState(leader.state)) && members.length === 0) return 'gone'

  if (pgid !== pid) throw refuse(`pgid ${pgid} differs from pid ${pid}, but a runner always leads its own process group`)
  if (ticks === undefined) throw refuse(`it has no processStartTicks, so its process cannot be told from another one that reuses pid ${pid}`)
  const uid = options.uid ?? process.geteuid?.()
  const checkOwner = async (member: number, what: string) => {
    const owner = await readProcUid(member)
    if (owner !== undefined && uid !== undefined && owner !== uid) throw refuse(`${what} belongs to uid ${owner}, not to this user (uid ${uid})`)
  }
  if (leader) {
    // Another start time: the runner ended and its pid went to a new process. Its group is
    // gone too: a pid is not handed out again while any process still has it as group id.
    if (leader.startTicks !== ticks) return 'gone'
    if (leader.pgrp !== pid || leader.session !== pid) {
      throw refuse(`process ${pid} does not lead its own process group and session (its group is ${leader.pgrp}, its session ${leader.session})`)
    }
    await checkOwner(pid, `process ${pid}`)
  }
  // Without a live leader only its members speak for the group: each must have been started
  // by the runner (its session, not older than it) as this user.
  for (const member of members) {
    if (member.pid === pid) continue
    if (member.session !== pid || member.startTicks < ticks) throw refuse(`process ${member.pid} in group ${pid} was not started by this runner`)
    await checkOwner(member.pid, `process ${member.pid} in group ${pid}`)
  }
  return members.length > 0 ? 'ours' : 'gone'
}
