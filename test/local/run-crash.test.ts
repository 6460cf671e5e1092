// The built `ambient run --mode local` as a real process, killed with SIGKILL and started
// again: its runners outlive it (own process groups, logs in files), the next run adopts the
// live ones without spawning duplicates and reaps the dead, and SIGTERM stops everything.
import {afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {spawn, type ChildProcess} from 'node:child_process'
import path from 'node:path'
import {RunnerRegistry, runnerRegistryDir} from '../../src/lib/process/index.js'
import {RUNNER_STARTED} from '../../src/lib/reconcilers/local/index.js'
import {assertBuilt, root as repoRoot} from '../commands/helpers.js'
import {
  FIXTURE,
  TOKEN,
  condition,
  createSession,
  killGroups,
  leftovers,
  randomPortRange,
  startApi,
  tempDir,
  waitFor,
  waitForPhase,
  type Api,
} from './harness.js'

let api: Api
let dir: {dir: string; cleanup: () => Promise<void>}
const runs: ChildProcess[] = []
const pids = new Set<number>()

beforeAll(() => assertBuilt(['run']))

beforeEach(async () => {
  api = await startApi()
  dir = await tempDir('local-run')
})

afterEach(async () => {
  for (const run of runs.splice(0)) if (run.exitCode === null && run.signalCode === null) run.kill('SIGKILL')
  await killGroups(pids)
  pids.clear()
  await api.close()
  await dir.cleanup()
})

const stateDir = () => path.join(dir.dir, 'state')
const registry = () => new RunnerRegistry({dir: runnerRegistryDir(stateDir())})
const portRange = randomPortRange()

function startRun(): {child: ChildProcess; stderr: () => string; exited: Promise<number | null>} {
  let stderr = ''
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/run.js'), 'run', '--mode', 'local', '--json'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AMBIENT_API_SERVER_URL: api.server.url,
      AMBIENT_GRPC_SERVER_ADDR: api.server.grpcAddress,
      AMBIENT_API_TOKEN: TOKEN,
      AMBIENT_STATE_DIR: stateDir(),
      AMBIENT_CONFIG_DIR: path.join(dir.dir, 'config'),
      LOCAL_WORKSPACE_ROOT: path.join(dir.dir, 'workspaces'),
      LOCAL_RUNNER_COMMAND: `${process.execPath} ${FIXTURE}`,
      LOCAL_PORT_RANGE: `${portRange.from}-${portRange.to}`,
      LOCAL_PROXY_ADDR: '127.0.0.1:0',
      METRICS_ADDR: '0',
      PROBE_ADDR: '0',
      LOG_LEVEL: 'info',
    },
  })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  runs.push(child)
  return {child, stderr: () => stderr, exited}
}

describe('ambient run --mode local across a crash', () => {
  it('adopts the runners that survived, reaps the dead one, and stops everything on SIGTERM', async () => {
    const first = startRun()
    const kept = await createSession(api, {name: 'kept'})
    const doomed = await createSession(api, {name: 'doomed'})
    await waitForPhase(api, kept.id, 'Running', 60_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${first.stderr()}`)
    })
    await waitForPhase(api, doomed.id, 'Running', 60_000)
    const records = new Map((await registry().list()).map((r) => [r.sessionId, r]))
    const keptPid = records.get(kept.id)?.pid ?? 0
    const doomedPid = records.get(doomed.id)?.pid ?? 0
    for (const pid of [keptPid, doomedPid]) pids.add(pid)

    first.child.kill('SIGKILL')
    await first.exited
    // Nothing supervises the runners now; one of them dies.
    expect(await leftovers([keptPid])).toEqual([keptPid])
    process.kill(doomedPid, 'SIGKILL')
    await waitFor(async () => (await leftovers([doomedPid])).length === 0, 'the doomed runner to die')
    expect((await api.client.get('sessions', doomed.id)).phase).toBe('Running')

    const second = startRun()
    const failed = await waitForPhase(api, doomed.id, 'Failed', 60_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${second.stderr()}`)
    })
    expect(condition(failed, RUNNER_STARTED)?.reason).toBe('RunnerLost')
    await waitFor(async () => (await registry().read(kept.id))?.ownerPid === second.child.pid, 'the kept runner to be adopted')
    expect((await registry().read(kept.id))?.pid).toBe(keptPid)
    expect((await registry().list()).map((r) => r.sessionId)).toEqual([kept.id])
    expect((await api.client.get('sessions', kept.id)).phase).toBe('Running')

    // The adopted runner is not the new run's child, and still stops like any other.
    await api.client.stop(kept.id)
    await waitForPhase(api, kept.id, 'Stopped')
    expect(await leftovers([keptPid])).toEqual([])

    const again = await createSession(api, {name: 'late'})
    await waitForPhase(api, again.id, 'Running')
    const latePid = (await registry().read(again.id))?.pid ?? 0
    pids.add(latePid)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
    expect(await leftovers([latePid])).toEqual([])
    expect((await api.client.get('sessions', again.id)).phase).toBe('Stopped')
  })
})
