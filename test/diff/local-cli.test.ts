// `ambient diff --mode local` as a real process: sessions on the embedded API server, runner
// records in a temporary AMBIENT_STATE_DIR whose processes really run (or really ended).
import {spawn, type ChildProcess} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {RestClient} from '../../src/lib/api/rest.js'
import type {Session} from '../../src/lib/api/types.js'
import {readProcStat} from '../../src/lib/process/procfs.js'
import {RunnerRegistry, runnerRegistryDir} from '../../src/lib/process/registry.js'
import {StopRequests, stopRequestsDir} from '../../src/lib/reconcilers/local/stop-requests.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {assertBuilt, runCli, tempConfigDir} from '../commands/helpers.js'
import {ndjson, summaryKeys, until} from './helpers.js'

const TOKEN = 'diff-local-token'
let api: ApiServer
let rest: RestClient
let stateDir: string
let env: Record<string, string>
let registry: RunnerRegistry
let apiWrites = 0
const children: ChildProcess[] = []
const s: Record<string, Session> = {}

/** A real long-running process, recorded in the registry as the runner of `sessionId`. */
async function startRunner(sessionId: string, port: number): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], {stdio: 'ignore'})
  children.push(child)
  const pid = child.pid
  if (!pid) throw new Error('runner did not start')
  const stat = await until('runner in /proc', () => readProcStat(pid))
  await registry.write({
    sessionId,
    pid,
    pgid: pid,
    port,
    workspace: path.join(stateDir, 'ws', sessionId),
    command: 'test-runner',
    startTime: new Date().toISOString(),
    processStartTicks: stat.startTicks,
    token: 'runner-token',
    ownerPid: process.pid,
    stderrOffset: 0,
  })
  return pid
}

async function running(name: string): Promise<Session> {
  const created = await rest.create('sessions', {name, project_id: 'local-project'})
  return rest.patchStatus(created.id, {phase: 'Running', start_time: '2026-01-02T03:04:05Z'})
}

beforeAll(async () => {
  assertBuilt(['diff'])
  api = await startApiServer({port: 0, grpcPort: 0, token: TOKEN})
  rest = new RestClient({baseUrl: api.url, token: () => TOKEN})
  stateDir = tempConfigDir()
  registry = new RunnerRegistry({dir: runnerRegistryDir(stateDir)})
  env = {AMBIENT_CONFIG_DIR: stateDir, AMBIENT_STATE_DIR: stateDir, AMBIENT_API_SERVER_URL: api.url, AMBIENT_API_TOKEN: TOKEN, MODE: 'local'}
  for (const r of ['sessions', 'projects', 'project_settings'] as const) api.store.on(r, () => apiWrites++)
  // Converged: a running session with its runner, a finished one without.
  s.alive = await running('alive')
  await startRunner(s.alive.id, 9101)
  const done = await rest.create('sessions', {name: 'done'})
  s.done = await rest.patchStatus(done.id, {phase: 'Stopped', completion_time: '2026-01-02T04:00:00Z'})
})

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await api?.close()
  if (stateDir) fs.rmSync(stateDir, {recursive: true, force: true})
})

describe('ambient diff --mode local', () => {
  it('is empty when every session has the runner it should, and exits 0', async () => {
    const result = await runCli(['diff'], env)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('no drift')
  })

  it('reports missing runners, runners nobody wants and a pending spawn, once each, and exits 1', async () => {
    // Running with no runner at all, and one whose recorded process has ended.
    s.lost = await running('lost')
    s.ended = await running('ended')
    const endedPid = await startRunner(s.ended.id, 9102)
    children.at(-1)?.kill('SIGKILL')
    await until('runner ended', async () => !(await registry.isAlive((await registry.read(s.ended.id))!)))
    expect(endedPid).toBeGreaterThan(0)
    // Running, no runner, but `ambient runners kill` left a stop request: it reads as Stopped.
    s.killed = await running('killed')
    await new StopRequests({dir: stopRequestsDir(stateDir)}).write({
      sessionId: s.killed.id,
      pid: 1,
      signal: 'SIGTERM',
      requestedBy: 'test',
      requestedAt: '2026-01-02T05:00:00Z',
    })
    // Never started: a runner would be spawned.
    s.pending = await rest.create('sessions', {name: 'pending'})
    // Over, but its runner still runs; and a runner whose session does not exist.
    const over = await rest.create('sessions', {name: 'over'})
    s.over = await rest.patchStatus(over.id, {phase: 'Completed', completion_time: '2026-01-02T04:00:00Z'})
    await startRunner(s.over.id, 9103)
    await startRunner('ghost-session', 9104)
    const writes = apiWrites

    const result = await runCli(['diff', '--json'], env)
    expect(result.code, result.stderr).toBe(1)
    const lines = ndjson(result.stdout)
    expect(summaryKeys(lines)).toEqual(
      [
        `status Session ${s.lost.id}`,
        `status Session ${s.ended.id}`,
        `status Session ${s.killed.id}`,
        `create Runner ${s.pending.id}`,
        `delete Runner ${s.over.id}`,
        'delete Runner ghost-session',
      ].sort(),
    )
    const byId = (id: string) => lines.find((l) => l.id === id)
    expect(byId(s.lost.id)).toMatchObject({action: 'status', reason: 'RunnerLost', fields: [{path: 'phase', desired: 'Failed', actual: 'Running'}]})
    expect(byId(s.ended.id)).toMatchObject({action: 'status', reason: 'RunnerLost'})
    expect(byId(s.killed.id)).toMatchObject({fields: [{path: 'phase', desired: 'Stopped', actual: 'Running'}]})
    expect(byId(s.pending.id)).toMatchObject({action: 'create', kind: 'Runner', reason: 'RunnerMissing'})
    expect(byId(s.over.id)).toMatchObject({
      action: 'delete',
      reason: 'SessionOver',
      fields: [
        {path: 'pid', desired: null},
        {path: 'port', desired: null, actual: 9103},
      ],
    })
    expect(byId('ghost-session')).toMatchObject({action: 'delete', kind: 'Runner', reason: 'SessionDeleted'})

    const text = await runCli(['diff', 'sessions'], env)
    expect(text.code).toBe(1)
    expect(text.stdout).toContain(
      `delete Runner ghost-session\n--- desired (absent)\n+++ live Runner ghost-session\n# SessionDeleted: session ghost-session does not exist: its runner would be stopped\n+pid: `,
    )
    expect(text.stderr).toContain('6 changes: 1 create, 2 delete, 3 status')
    // Read-only: no status write, no runner touched, no record removed.
    expect(apiWrites).toBe(writes)
    expect(children.filter((c) => c.exitCode === null && c.signalCode === null)).toHaveLength(3)
    expect((await registry.list()).map((r) => r.sessionId).sort()).toEqual([s.alive.id, s.ended.id, s.over.id, 'ghost-session'].sort())
  })

  it('narrows to one project; other resources are refused in local mode (exit 2)', async () => {
    const scoped = await runCli(['diff', '--project', 'local-project', '--json'], env)
    expect(scoped.code).toBe(1)
    expect(summaryKeys(ndjson(scoped.stdout))).toEqual(
      [`status Session ${s.lost.id}`, `status Session ${s.ended.id}`, `status Session ${s.killed.id}`].sort(),
    )
    const refused = await runCli(['diff', 'projects'], env)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('local mode compares sessions only')
  })
})
