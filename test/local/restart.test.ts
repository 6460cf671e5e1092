import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {spawn} from 'node:child_process'
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {RunnerRegistry, runnerRegistryDir} from '../../src/lib/process/index.js'
import {RUNNER_STARTED} from '../../src/lib/reconcilers/local/index.js'
import {
  condition,
  createSession,
  killGroups,
  leftovers,
  requestExit,
  startApi,
  startPlane,
  tempDir,
  waitFor,
  waitForPhase,
  type Api,
  type Plane,
} from './harness.js'

let api: Api
let root: {dir: string; cleanup: () => Promise<void>}
let live: Plane[] = []
const allPids = new Set<number>()

beforeEach(async () => {
  api = await startApi()
  root = await tempDir('local-restart')
})

afterEach(async () => {
  for (const plane of live) await plane.stop().catch(() => {})
  live = []
  await killGroups(allPids)
  allPids.clear()
  await api.close()
  await root.cleanup()
})

const dirs = () => ({stateDir: path.join(root.dir, 'state'), workspaceRoot: path.join(root.dir, 'workspaces')})

async function plane(): Promise<Plane> {
  const started = await startPlane(api, {...dirs(), stopGraceMs: 2000})
  started.local.manager.on('spawned', (info) => allPids.add(info.pid))
  live.push(started)
  return started
}

/** Simulates a crash of `ambient run`: it stops reconciling and its runners live on. */
async function crash(p: Plane): Promise<void> {
  live = live.filter((other) => other !== p)
  await p.abandon()
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], {stdio: 'ignore'})
  const pid = child.pid ?? 0
  await new Promise((resolve) => child.once('exit', resolve))
  return pid
}

describe('local mode after a restart', () => {
  it('adopts live runners without spawning duplicates or writing anything', async () => {
    const first = await plane()
    const sessions = await Promise.all([0, 1, 2].map((i) => createSession(api, {name: `kept ${i}`})))
    for (const s of sessions) await waitForPhase(api, s.id, 'Running')
    const before = new Map(first.local.manager.list().map((r) => [r.sessionId, r.pid]))
    await crash(first)

    const second = await plane()
    await waitFor(() => second.adopted === 3, 'the three runners to be adopted')
    await waitFor(() => second.controller.stats().succeeded >= 3 && second.controller.stats().queueDepth === 0, 'a pass over each session')
    expect(second.spawned).toBe(0)
    expect(new Map(second.local.manager.list().map((r) => [r.sessionId, r.pid]))).toEqual(before)
    expect(second.calls.statusPatches).toBe(0)
    for (const s of sessions) expect((await api.client.get('sessions', s.id)).phase).toBe('Running')

    // The adopted runners are the second plane's to stop.
    await api.client.stop(sessions[0].id)
    await waitForPhase(api, sessions[0].id, 'Stopped')
    expect(await leftovers([before.get(sessions[0].id) ?? 0])).toEqual([])
    await second.stop()
    expect(await leftovers(before.values())).toEqual([])
  })

  it('notices an adopted runner exiting and never leaves its session Running', async () => {
    const first = await plane()
    const session = await createSession(api)
    await waitForPhase(api, session.id, 'Running')
    await crash(first)
    const second = await plane()
    await waitFor(() => second.adopted === 1, 'adoption')
    await requestExit(path.join(dirs().workspaceRoot, session.id), 0)
    const failed = await waitForPhase(api, session.id, 'Failed')
    // Not our child: its exit status cannot be read, and the condition says so.
    expect(condition(failed, RUNNER_STARTED)?.reason).toBe('ProcessExited: exit status unknown')
    expect(condition(failed, RUNNER_STARTED)?.message).toContain('line 60')
  })

  it('reaps runners found dead, fails their sessions, and stops runners whose session was deleted', async () => {
    const first = await plane()
    const orphan = await createSession(api, {name: 'orphan'})
    await waitForPhase(api, orphan.id, 'Running')
    const orphanPid = first.local.manager.get(orphan.id)?.pid ?? 0
    await crash(first)
    await api.client.delete('sessions', orphan.id)

    // A Running session whose runner died while nothing supervised it (record left behind)...
    const dead = await createSession(api, {name: 'dead'})
    await api.client.patchStatus(dead.id, {phase: 'Running'})
    const workspace = path.join(dirs().workspaceRoot, dead.id)
    await mkdir(workspace, {recursive: true})
    await writeFile(path.join(workspace, 'stderr.log'), 'old run\nTraceback: boom\n')
    const pid = await deadPid()
    await new RunnerRegistry({dir: runnerRegistryDir(dirs().stateDir)}).write({
      sessionId: dead.id,
      pid,
      pgid: pid,
      port: 1,
      workspace,
      command: 'gone',
      startTime: new Date().toISOString(),
      token: 'x',
      ownerPid: pid,
      stderrOffset: 'old run\n'.length,
    })
    // ...and one that has no record at all.
    const lost = await createSession(api, {name: 'lost'})
    await api.client.patchStatus(lost.id, {phase: 'Creating'})

    const second = await plane()
    const failed = await waitForPhase(api, dead.id, 'Failed')
    expect(condition(failed, RUNNER_STARTED)).toMatchObject({status: 'False', reason: 'RunnerLost'})
    expect(condition(failed, RUNNER_STARTED)?.message).toContain('Traceback: boom')
    expect(condition(failed, RUNNER_STARTED)?.message).not.toContain('old run')
    const lostNow = await waitForPhase(api, lost.id, 'Failed')
    expect(condition(lostNow, RUNNER_STARTED)?.reason).toBe('RunnerLost')

    await waitFor(async () => (await leftovers([orphanPid])).length === 0, 'the orphaned runner to be stopped')
    await waitFor(() => second.local.manager.list().length === 0, 'the manager to forget it')
    await waitFor(async () => (await second.local.registry.list()).length === 0, 'its record to go')
    expect(second.spawned).toBe(0)
  })
})
