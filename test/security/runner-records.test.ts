// Issue 10, case 6: a runner record decides which process group gets SIGTERM and SIGKILL, so
// before any signal it is checked against /proc: start ticks present and equal to the
// process's, the recorded pid leading its own group (pgid === pid), the process ours (uid).
// A record that fails is refused with an error naming it; the process group it points at
// lives on. The victims here are real process groups this test starts.
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {RunnerManager, RunnerRegistry, isPidAlive, killRunner, readProcStat, type RunnerRecord} from '../../src/lib/process/index.js'
import {StopRequests, killLocalRunner} from '../../src/lib/reconcilers/local/index.js'
import {randomPortRange, tempDir, waitFor} from '../process/helpers.js'

let root: {dir: string; cleanup: () => Promise<void>}
let registry: RunnerRegistry
let stopRequests: StopRequests
const groups: number[] = []

interface Victim {
  /** Leads its own process group (and session). */
  leader: number
  /** A second member of the leader's group. */
  member: number
}

/** An unrelated process group: a leader and one member, both idle until killed. */
async function victim(options: {uid?: number} = {}): Promise<Victim> {
  const script = [
    "const {spawn} = require('node:child_process')",
    "const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], {stdio: 'ignore'})",
    'process.stdout.write(String(child.pid) + "\\n")',
    'setInterval(() => {}, 1 << 30)',
  ].join('\n')
  const child = spawn(process.execPath, ['-e', script], {
    detached: true,
    cwd: '/',
    stdio: ['ignore', 'pipe', 'ignore'],
    ...(options.uid === undefined ? {} : {uid: options.uid, gid: options.uid}),
  })
  const leader = child.pid ?? 0
  groups.push(leader)
  const member = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())))
    child.once('error', reject)
  })
  child.stdout.destroy()
  child.unref()
  await waitFor(async () => (await readProcStat(member))?.pgrp === leader, 'the member in its group')
  return {leader, member}
}

async function ticks(pid: number): Promise<number> {
  const stat = await readProcStat(pid)
  if (!stat) throw new Error(`no /proc/${pid}/stat`)
  return stat.startTicks
}

function record(sessionId: string, fields: Pick<RunnerRecord, 'pid' | 'pgid'> & Partial<RunnerRecord>): RunnerRecord {
  return {
    sessionId,
    port: 1,
    workspace: path.join(root.dir, 'ws', sessionId),
    command: 'forged',
    startTime: new Date().toISOString(),
    token: 'forged-token',
    ownerPid: 999_999,
    stderrOffset: 0,
    ...fields,
  }
}

async function bothAlive(v: Victim): Promise<boolean> {
  return (await isPidAlive(v.leader)) && (await isPidAlive(v.member))
}

beforeEach(async () => {
  root = await tempDir('records')
  registry = new RunnerRegistry({dir: path.join(root.dir, 'state', 'runners')})
  stopRequests = new StopRequests({dir: path.join(root.dir, 'state', 'stop-requests')})
})

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  await root.cleanup()
})

/** What `ambient runners kill <id>` does with the record. */
function runnersKill(sessionId: string): Promise<unknown> {
  return killLocalRunner({registry, stopRequests, sessionId, graceMs: 200})
}

describe('runner records are verified before any signal', () => {
  it('refuses a record without start ticks, naming it; the group lives', async () => {
    const v = await victim()
    await registry.write(record('noticks', {pid: v.leader, pgid: v.leader}))
    await expect(runnersKill('noticks')).rejects.toMatchObject({
      code: 'ERR_RUNNER_UNVERIFIED',
      message: expect.stringMatching(new RegExp(`${registry.dir}/noticks\\.json.*processStartTicks`)),
    })
    expect(await bothAlive(v)).toBe(true)
    // Nothing was asked of the owner either, and the record stays for the user to look at.
    expect(await stopRequests.read('noticks')).toBeUndefined()
    expect(await registry.read('noticks')).toBeDefined()
  })

  it('refuses a record whose pgid is not its pid', async () => {
    const v = await victim()
    await registry.write(record('othergroup', {pid: v.member, pgid: v.leader, processStartTicks: await ticks(v.member)}))
    await expect(runnersKill('othergroup')).rejects.toMatchObject({
      code: 'ERR_RUNNER_UNVERIFIED',
      message: expect.stringMatching(/othergroup\.json.*pgid/),
    })
    expect(await bothAlive(v)).toBe(true)
  })

  it('refuses a record whose pid does not lead its own process group', async () => {
    const v = await victim()
    // pid === pgid on paper, but that process is a member of another group.
    await registry.write(record('notleader', {pid: v.member, pgid: v.member, processStartTicks: await ticks(v.member)}))
    await expect(killRunner({pid: v.member, pgid: v.member, processStartTicks: await ticks(v.member)}, {graceMs: 200})).rejects.toMatchObject({
      code: 'ERR_RUNNER_UNVERIFIED',
    })
    await expect(runnersKill('notleader')).rejects.toMatchObject({
      code: 'ERR_RUNNER_UNVERIFIED',
      message: expect.stringMatching(/notleader\.json.*lead/),
    })
    expect(await bothAlive(v)).toBe(true)
  })

  it("refuses a record naming another user's process group, even with the right start ticks", async () => {
    const v = await victim({uid: 65534})
    await registry.write(record('theirs', {pid: v.leader, pgid: v.leader, processStartTicks: await ticks(v.leader)}))
    await expect(runnersKill('theirs')).rejects.toMatchObject({
      code: 'ERR_RUNNER_UNVERIFIED',
      message: expect.stringMatching(/theirs\.json.*uid 65534/),
    })
    expect(await bothAlive(v)).toBe(true)
  })

  it('treats a record whose pid now has other start ticks as a runner long gone: nothing signalled, record removed', async () => {
    const v = await victim()
    await registry.write(record('recycled', {pid: v.leader, pgid: v.leader, processStartTicks: (await ticks(v.leader)) - 1}))
    await expect(runnersKill('recycled')).resolves.toMatchObject({wasAlive: false, escalated: false})
    expect(await bothAlive(v)).toBe(true)
    expect(await registry.read('recycled')).toBeUndefined()
  })

  it('with the leader gone, stops what it left in its group, but not a group member older than the record', async () => {
    const left = await victim()
    const leaderTicks = await ticks(left.leader)
    const memberTicks = await ticks(left.member)
    process.kill(left.leader, 'SIGKILL')
    // Dead and reaped: a zombie still holds the pid (with its own start ticks), and a record
    // with other ticks is then a recycled pid, not a runner whose leader is gone.
    await waitFor(() => !existsSync(`/proc/${left.leader}`), 'the leader to die and be reaped')
    // The record claims a runner that started after the member: the member is not its child.
    await registry.write(record('younger', {pid: left.leader, pgid: left.leader, processStartTicks: memberTicks + 1}))
    await expect(runnersKill('younger')).rejects.toMatchObject({
      code: 'ERR_RUNNER_UNVERIFIED',
      message: expect.stringMatching(/not started by this runner/),
    })
    expect(await isPidAlive(left.member)).toBe(true)
    // The true record: the member is the runner's leftover, and goes.
    await registry.write(record('leftover', {pid: left.leader, pgid: left.leader, processStartTicks: leaderTicks}))
    await expect(runnersKill('leftover')).resolves.toMatchObject({wasAlive: true})
    expect(await isPidAlive(left.member)).toBe(false)
  })

  it('a restarted manager neither adopts nor signals forged records, and reports them', async () => {
    const victims = await Promise.all([victim(), victim(), victim({uid: 65534})])
    await registry.write(record('adopt-noticks', {pid: victims[0].leader, pgid: victims[0].leader}))
    await registry.write(
      record('adopt-othergroup', {pid: victims[1].member, pgid: victims[1].leader, processStartTicks: await ticks(victims[1].member)}),
    )
    await registry.write(record('adopt-theirs', {pid: victims[2].leader, pgid: victims[2].leader, processStartTicks: await ticks(victims[2].leader)}))
    const manager = new RunnerManager({
      workspaceRoot: path.join(root.dir, 'ws'),
      command: ['true'],
      portRange: randomPortRange(),
      registry,
      adoptHealthTimeoutMs: 300,
      stopGraceMs: 200,
    })
    try {
      const result = await manager.adopt()
      expect(result.adopted).toEqual([])
      expect(result.reaped.map((r) => [r.sessionId, r.reason]).sort()).toEqual([
        ['adopt-noticks', 'refused'],
        ['adopt-othergroup', 'refused'],
        ['adopt-theirs', 'refused'],
      ])
      for (const v of victims) expect(await bothAlive(v)).toBe(true)
    } finally {
      await manager.stopAll({graceMs: 200})
    }
    for (const v of victims) expect(await bothAlive(v)).toBe(true)
  })
})
