// `ambient runners ls|kill` as separate processes (the built CLI) against the registry of a
// local mode running in this process, with its echo runners started through the CLI too.
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import path from 'node:path'
import {echoRunnerCommand, RUNNER_STARTED} from '../../src/lib/reconcilers/local/index.js'
import {assertBuilt, json, runCli} from '../commands/helpers.js'
import {condition, createSession, killGroups, startApi, startPlane, tempDir, waitFor, waitForSession, type Api, type Plane} from './harness.js'

let api: Api
let root: {dir: string; cleanup: () => Promise<void>}
let configDir: {dir: string; cleanup: () => Promise<void>}
let live: Plane[] = []
const pids = new Set<number>()

beforeAll(() => assertBuilt(['echo-runner', 'runners:ls', 'runners:kill']))

beforeEach(async () => {
  api = await startApi()
  root = await tempDir('local-cli')
  configDir = await tempDir('local-cli-config')
})

afterEach(async () => {
  for (const plane of live) await plane.stop().catch(() => {})
  live = []
  await killGroups(pids)
  pids.clear()
  await api.close()
  await root.cleanup()
  await configDir.cleanup()
})

afterAll(async () => {
  await killGroups(pids)
})

const stateDir = () => path.join(root.dir, 'state')
const cli = (...args: string[]) => runCli(args, {AMBIENT_STATE_DIR: stateDir(), AMBIENT_CONFIG_DIR: configDir.dir})

async function plane(): Promise<Plane> {
  const started = await startPlane(api, {stateDir: stateDir(), workspaceRoot: path.join(root.dir, 'workspaces'), command: echoRunnerCommand()})
  started.local.manager.on('spawned', (info) => pids.add(info.pid))
  live.push(started)
  return started
}

/** Waits for a terminal phase, failing at once if the session is seen Running after the kill. */
async function terminalAfterKill(id: string): Promise<string> {
  const session = await waitForSession(api, id, (s) => s.phase !== 'Running' && s.phase !== 'Creating', 'to leave Running')
  expect(['Stopped', 'Failed']).toContain(session.phase)
  return session.phase ?? ''
}

describe('ambient runners', () => {
  it('lists runners without their tokens, and kill makes the session Stopped while ambient run runs', async () => {
    const p = await plane()
    const session = await createSession(api, {name: 'echo'})
    await waitForSession(api, session.id, (s) => s.phase === 'Running', 'to run', 60_000)
    const runner = p.local.manager.get(session.id)

    const ls = await cli('runners', 'ls', '--json')
    expect(ls.code).toBe(0)
    const rows = json(ls) as Record<string, unknown>[]
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      sessionId: session.id,
      pid: runner?.pid,
      port: runner?.port,
      alive: true,
      healthy: true,
      ownerPid: process.pid,
      ownerAlive: true,
    })
    expect(JSON.stringify(rows)).not.toContain(runner?.token ?? 'no-token')
    const table = await cli('runners', 'ls')
    expect(table.stdout).toMatch(/^SESSION\s+PID\s+PORT\s+STATE\s+OWNER\s+UPTIME\s+WORKSPACE/)
    expect(table.stdout).toContain('healthy')

    const kill = await cli('runners', 'kill', session.id, '--grace', '5', '--json')
    expect(kill.code).toBe(0)
    expect(json(kill)).toEqual([{sessionId: session.id, pid: runner?.pid, port: runner?.port, wasAlive: true, escalated: false, supervised: true}])
    // The echo runner exits 0 on SIGTERM: only the stop request tells Stopped from Completed.
    expect(await terminalAfterKill(session.id)).toBe('Stopped')
    const stopped = await api.client.get('sessions', session.id)
    expect(condition(stopped, RUNNER_STARTED)?.message).toContain('ambient runners kill')
    await waitFor(async () => (await cli('runners', 'ls', '--json')).stdout.trim() === '[]', 'the registry to be empty')
  })

  it('kill works while ambient run is down; the next run marks the session Stopped', async () => {
    const first = await plane()
    const session = await createSession(api, {name: 'orphaned'})
    await waitForSession(api, session.id, (s) => s.phase === 'Running', 'to run', 60_000)
    live = live.filter((p) => p !== first)
    await first.abandon()

    const kill = await cli('runners', 'kill', '--all', '--grace', '5')
    expect(kill.code).toBe(0)
    expect(kill.stdout).toContain(session.id)
    expect((await cli('runners', 'ls', '--json')).stdout.trim()).toBe('[]')
    expect((await api.client.get('sessions', session.id)).phase).toBe('Running')

    const second = await plane()
    expect(await terminalAfterKill(session.id)).toBe('Stopped')
    expect(second.spawned).toBe(0)
  })

  it('refuses bad usage and reports unknown sessions', async () => {
    const none = await cli('runners', 'kill', '--all')
    expect(none.code).toBe(0)
    expect(none.stdout).toContain('no local runners')
    const unknown = await cli('runners', 'kill', 'no-such-session')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('no runner for session no-such-session')
    const both = await cli('runners', 'kill', 'x', '--all')
    expect(both.code).toBe(2)
    const signal = await cli('runners', 'kill', 'x', '--signal', 'SIGNOPE')
    expect(signal.code).toBe(2)
    expect(signal.stderr).toContain('--signal')
  })
})
