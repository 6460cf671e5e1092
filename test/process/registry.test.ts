import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {readdir, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {execa} from 'execa'
import {
  RunnerManager,
  RunnerRegistry,
  groupMembers,
  isPidAlive,
  killRunner,
  readProcStat,
  registryResolver,
  type RunnerExit,
} from '../../src/lib/process/index.js'
import {fixtureCommand, makeSession, randomPortRange, runnerRecord as record, tempDir, waitFor} from './helpers.js'

let root: {dir: string; cleanup: () => Promise<void>}
const managers: RunnerManager[] = []

beforeEach(async () => {
  root = await tempDir('registry')
})

afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.stopAll({graceMs: 200})))
  await root.cleanup()
})

function manager(registry: RunnerRegistry, mode = 'serve'): RunnerManager {
  const created = new RunnerManager({
    workspaceRoot: path.join(root.dir, 'workspaces'),
    command: fixtureCommand(mode),
    portRange: randomPortRange(),
    hostEnv: {PATH: process.env.PATH},
    registry,
    adoptPollMs: 50,
    adoptHealthTimeoutMs: 600,
    stopGraceMs: 2000,
  })
  managers.push(created)
  return created
}

/** A pid that surely belonged to a process that is gone now. */
async function deadPid(): Promise<number> {
  const child = execa(process.execPath, ['-e', ''])
  const pid = child.pid
  await child
  if (pid === undefined) throw new Error('no pid')
  return pid
}

describe('RunnerRegistry', () => {
  it('round-trips records atomically with mode 0600 and skips broken files', async () => {
    const registry = new RunnerRegistry({dir: path.join(root.dir, 'state')})
    expect(await registry.list()).toEqual([])
    await registry.write(record({sessionId: 'b1'}))
    await registry.write(record({sessionId: 'a1', port: 9101}))
    await registry.write(record({sessionId: 'a1', port: 9102}))
    expect(await registry.read('a1')).toEqual(record({sessionId: 'a1', port: 9102}))
    expect(await registry.read('missing')).toBeUndefined()
    expect((await stat(path.join(registry.dir, 'a1.json'))).mode & 0o777).toBe(0o600)
    expect((await stat(registry.dir)).mode & 0o777).toBe(0o700)
    // No temp files left behind.
    expect((await readdir(registry.dir)).sort()).toEqual(['a1.json', 'b1.json'])

    await writeFile(path.join(registry.dir, 'broken.json'), '{not json')
    await writeFile(path.join(registry.dir, 'partial.json'), '{"sessionId":"partial"}')
    expect((await registry.list()).map((r) => r.sessionId)).toEqual(['a1', 'b1'])
    await expect(registry.read('broken')).rejects.toMatchObject({code: 'ERR_RUNNER_REGISTRY'})

    await registry.remove('a1')
    await registry.remove('a1')
    expect((await registry.list()).map((r) => r.sessionId)).toEqual(['b1'])
    await expect(registry.read('../etc/passwd')).rejects.toMatchObject({code: 'ERR_UNSAFE_SESSION_ID'})
  })

  it('isAlive checks pid, zombie state and start ticks', async () => {
    const registry = new RunnerRegistry({dir: path.join(root.dir, 'state')})
    const self = await readProcStat(process.pid)
    expect(self).toBeDefined()
    expect(await registry.isAlive(record({pid: process.pid, processStartTicks: self?.startTicks}))).toBe(true)
    // Same pid, different start time: a recycled pid, not our runner.
    expect(await registry.isAlive(record({pid: process.pid, processStartTicks: (self?.startTicks ?? 0) + 1}))).toBe(false)
    expect(await registry.isAlive(record({pid: await deadPid()}))).toBe(false)
  })

  it('a restarted manager adopts live healthy runners and reaps dead records', async () => {
    const registry = new RunnerRegistry({dir: path.join(root.dir, 'state')})
    const first = manager(registry)
    const kept = await first.spawn(makeSession())
    await first.waitHealthy(kept)
    const gone = await deadPid()
    await registry.write(record({sessionId: 'stale', pid: gone, pgid: gone, processStartTicks: undefined}))

    // "Restart": a new manager over the same registry. The first one is simply abandoned.
    const second = manager(registry)
    const result = await second.adopt()
    expect(result.adopted.map((r) => r.sessionId)).toEqual([kept.sessionId])
    expect(result.adopted[0]).toMatchObject({pid: kept.pid, port: kept.port, token: kept.token, adopted: true})
    expect(result.reaped).toEqual([{sessionId: 'stale', pid: gone, port: 9100, reason: 'dead'}])
    expect((await registry.list()).map((r) => r.sessionId)).toEqual([kept.sessionId])
    expect(second.resolve(kept.sessionId)).toEqual({port: kept.port, token: kept.token})

    // Adopting again does not duplicate anything.
    expect((await second.adopt()).adopted).toEqual([])
    expect(second.list()).toHaveLength(1)

    // The new manager can stop it; exit code is unknown (not our child).
    const exit = await second.stop(kept.sessionId, {graceMs: 5000})
    expect(exit).toMatchObject({sessionId: kept.sessionId, exitCode: null, adopted: true, stopRequested: true})
    expect(await isPidAlive(kept.pid)).toBe(false)
    expect(await registry.list()).toEqual([])
  })

  it('adopt kills and reaps a live runner that is not healthy', async () => {
    const registry = new RunnerRegistry({dir: path.join(root.dir, 'state')})
    const first = manager(registry, 'sleep')
    const info = await first.spawn(makeSession())
    const second = manager(registry)
    const result = await second.adopt()
    expect(result).toEqual({adopted: [], reaped: [{sessionId: info.sessionId, pid: info.pid, port: info.port, reason: 'unhealthy'}]})
    expect(await groupMembers(info.pgid)).toEqual([])
    expect(await registry.list()).toEqual([])
  })

  it('notices an adopted runner that exits on its own, and killRunner works from outside', async () => {
    const registry = new RunnerRegistry({dir: path.join(root.dir, 'state')})
    const first = manager(registry, 'stubborn')
    const info = await first.spawn(makeSession())
    await first.waitHealthy(info)
    const second = manager(registry)
    await second.adopt()
    const exited = new Promise<RunnerExit>((resolve) => second.once('exited', resolve))

    // What `ambient runners kill` does: registry record in, TERM -> grace -> KILL -> gone.
    const rec = await registry.read(info.sessionId)
    if (!rec) throw new Error('no record')
    expect(await killRunner(rec, {graceMs: 300})).toEqual({wasAlive: true, escalated: true})
    expect(await groupMembers(info.pgid)).toEqual([])
    const exit = await exited
    expect(exit).toMatchObject({sessionId: info.sessionId, exitCode: null, adopted: true, stopRequested: false})
    await waitFor(async () => (await registry.list()).length === 0, 'record removal')
    // Killing again is a no-op, not an error.
    expect(await killRunner(rec, {graceMs: 300})).toEqual({wasAlive: false, escalated: false})
  })

  it('registryResolver gives port and token of live runners only', async () => {
    const registry = new RunnerRegistry({dir: path.join(root.dir, 'state')})
    const runners = manager(registry)
    const info = await runners.spawn(makeSession())
    const resolve = registryResolver(registry)
    expect(await resolve(info.sessionId)).toEqual({port: info.port, token: info.token})
    expect(await resolve('unknown')).toBeUndefined()
    expect(await resolve('../x')).toBeUndefined()
    const gone = await deadPid()
    await registry.write(record({sessionId: 'dead', pid: gone, pgid: gone}))
    expect(await resolve('dead')).toBeUndefined()
  })
})
