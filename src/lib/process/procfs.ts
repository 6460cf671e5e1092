// Process liveness from /proc. `kill(pid, 0)` succeeds for zombies (in this sandbox a killed
// grandchild can stay a zombie for ever, nobody reaps it) and for a recycled pid, so we read
// /proc/<pid>/stat: state Z/X means dead, and field 22 (start time in clock ticks since boot)
// tells a recycled pid from the process we started. Without /proc (macOS) we fall back to
// signal 0, which cannot see either case.
import {readFile, readdir, stat} from 'node:fs/promises'
import {existsSync} from 'node:fs'

export interface ProcStat {
  pid: number
  comm: string
  /** One letter: R S D Z T t X I ... */
  state: string
  ppid: number
  pgrp: number
  session: number
  /** Field 22: start time after boot, in clock ticks. */
  startTicks: number
}

export const HAS_PROC = existsSync('/proc/self/stat')

/** Parses a /proc/<pid>/stat line; `comm` may contain spaces and parentheses, so split after the last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) return undefined
  const pid = Number(text.slice(0, open).trim())
  const rest = text.slice(close + 2).split(' ')
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const startTicks = Number(rest[19])
  if (!Number.isInteger(pid) || rest.length < 20 || !Number.isFinite(startTicks)) return undefined
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '',
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
    startTicks,
  }
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  if (!HAS_PROC) return undefined
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

/** The user a process runs as (the owner of /proc/<pid>); undefined when it is gone. */
export async function readProcUid(pid: number): Promise<number | undefined> {
  if (!HAS_PROC) return undefined
  try {
    return (await stat(`/proc/${pid}`)).uid
  } catch {
    return undefined
  }
}

export function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x'
}

function signalZeroAlive(target: number): boolean {
  try {
    process.kill(target, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** True when `pid` runs (not a zombie) and, when given, started at `startTicks`. */
export async function isPidAlive(pid: number, startTicks?: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false
  if (!HAS_PROC) return signalZeroAlive(pid)
  const stat = await readProcStat(pid)
  if (!stat || isDeadState(stat.state)) return false
  return startTicks === undefined || stat.startTicks === startTicks
}

/** Live (non-zombie) members of process group `pgid`. */
export async function groupMembers(pgid: number): Promise<ProcStat[]> {
  if (!HAS_PROC) {
    return signalZeroAlive(-pgid) ? [{pid: pgid, comm: '', state: '?', ppid: 0, pgrp: pgid, session: 0, startTicks: 0}] : []
  }
  let entries: string[]
  try {
    entries = await readdir('/proc')
  } catch {
    return []
  }
  const members: ProcStat[] = []
  await Promise.all(
    entries.map(async (name) => {
      if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) return
      const stat = await readProcStat(Number(name))
      if (stat && stat.pgrp === pgid && !isDeadState(stat.state)) members.push(stat)
    }),
  )
  return members
}

export async function isGroupAlive(pgid: number): Promise<boolean> {
  return (await groupMembers(pgid)).length > 0
}
