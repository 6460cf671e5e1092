import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import http from 'node:http'
import path from 'node:path'
import {isPidAlive} from '../../src/lib/process/index.js'
import {HEALTH_CHECK_PASSED, PROCESS_SPAWNED, RUNNER_STARTED} from '../../src/lib/reconcilers/local/index.js'
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
  waitForSession,
  type Api,
  type Plane,
  type PlaneOptions,
} from './harness.js'

let api: Api
let root: {dir: string; cleanup: () => Promise<void>}
let planes: Plane[] = []

beforeEach(async () => {
  api = await startApi()
  root = await tempDir('local')
})

afterEach(async () => {
  for (const plane of planes) await plane.stop().catch(() => {})
  await killGroups(planes.flatMap((p) => [...p.pids]))
  planes = []
  await api.close()
  await root.cleanup()
})

async function plane(options: Partial<PlaneOptions> = {}): Promise<Plane> {
  const started = await startPlane(api, {stateDir: path.join(root.dir, 'state'), workspaceRoot: path.join(root.dir, 'workspaces'), ...options})
  planes.push(started)
  return started
}

function getJson(url: string, headers: Record<string, string> = {}): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    http
      .get(url, {headers, agent: false}, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
      })
      .on('error', reject)
  })
}

describe('local mode', () => {
  it('brings 20 sessions to Running through their health checks, then goes quiet', async () => {
    const p = await plane({maxSessions: 25})
    const sessions = await Promise.all(Array.from({length: 20}, (_, i) => createSession(api, {name: `many ${i}`})))
    for (const s of sessions) {
      const running = await waitForPhase(api, s.id, 'Running', 60_000)
      expect(running.start_time).toBeTruthy()
      expect(condition(running, PROCESS_SPAWNED)?.status).toBe('True')
      expect(condition(running, HEALTH_CHECK_PASSED)).toMatchObject({status: 'True', reason: 'Healthy'})
      expect(condition(running, RUNNER_STARTED)).toMatchObject({status: 'True', reason: 'Started'})
    }
    expect(p.local.manager.list()).toHaveLength(20)
    expect(new Set(p.local.manager.list().map((r) => r.port)).size).toBe(20)
    // The TUI rows follow the informer, which may be a moment behind the server.
    await waitFor(() => p.local.runners().every((r) => r.phase === 'Running'), 'the runner rows to say Running')
    expect(
      p.local
        .runners()
        .map((r) => r.name)
        .sort(),
    ).toEqual(sessions.map((s) => s.name).sort())

    // Exactly Creating and Running, once each: the echoes of our own writes caused nothing.
    await waitFor(() => p.controller.stats().queueDepth === 0 && p.controller.stats().inFlight === 0, 'the queue to drain')
    expect(p.calls.statusPatches).toBe(40)
    const callsBefore = p.calls.calls.length

    // Resyncs of healthy Running sessions make no API call at all.
    const passes = p.controller.stats().succeeded
    for (let round = 0; round < 3; round++) {
      for (const s of sessions) p.controller.enqueue(s.id)
      await waitFor(() => p.controller.stats().succeeded >= passes + 20 * (round + 1), 'the resync passes')
    }
    expect(p.calls.calls.length).toBe(callsBefore)
    expect(p.spawned).toBe(20)

    const pids = [...p.pids]
    await p.stop()
    expect(await leftovers(pids)).toEqual([])
    // Shutdown stopped every runner and said so.
    for (const s of sessions) {
      const stopped = await api.client.get('sessions', s.id)
      expect(stopped.phase).toBe('Stopped')
      expect(stopped.completion_time).toBeTruthy()
    }
  })

  it('reports Completed for exit 0 and Failed with the exit code and stderr tail otherwise', async () => {
    const p = await plane()
    const zero = await createSession(api, {name: 'zero'})
    const three = await createSession(api, {name: 'three'})
    const instant = await createSession(api, {name: 'instant', prompt: 'exit:3'})
    await waitForPhase(api, zero.id, 'Running')
    await waitForPhase(api, three.id, 'Running')
    const workspace = (id: string) => path.join(root.dir, 'workspaces', id)
    await requestExit(workspace(zero.id), 0)
    await requestExit(workspace(three.id), 3)

    const completed = await waitForPhase(api, zero.id, 'Completed')
    expect(completed.completion_time).toBeTruthy()
    expect(condition(completed, RUNNER_STARTED)).toMatchObject({status: 'False', reason: 'Completed'})

    for (const id of [three.id, instant.id]) {
      const failed = await waitForPhase(api, id, 'Failed')
      expect(failed.completion_time).toBeTruthy()
      const started = condition(failed, RUNNER_STARTED)
      expect(started).toMatchObject({status: 'False', reason: 'ProcessExited: exit code 3'})
      // The last 50 of 60 stderr lines.
      expect(started?.message).toContain('ProcessExited: exit code 3')
      expect(started?.message).toContain('line 60')
      expect(started?.message).toContain('line 11\n')
      expect(started?.message).not.toContain('line 10\n')
    }
    expect(p.local.manager.list()).toEqual([])
  })

  it('remembers nothing of a session once it has ended or is deleted and the queue is quiet', async () => {
    const p = await plane({stopGraceMs: 1000})
    const done = await createSession(api, {name: 'done'})
    const stopped = await createSession(api, {name: 'stopped'})
    const deleted = await createSession(api, {name: 'deleted'})
    for (const s of [done, stopped, deleted]) await waitForPhase(api, s.id, 'Running')
    expect(p.local.reconciler.trackedSessions).toBe(3)
    await requestExit(path.join(root.dir, 'workspaces', done.id), 0)
    await api.client.stop(stopped.id)
    await api.client.delete('sessions', deleted.id)
    await waitForPhase(api, done.id, 'Completed')
    await waitForPhase(api, stopped.id, 'Stopped')
    await waitFor(() => p.local.manager.list().length === 0, 'every runner to end')
    // The echoes of the final writes are the last passes; after them each run is dropped.
    await waitFor(
      () => p.local.reconciler.trackedSessions === 0,
      () => `runs to be dropped (${p.local.reconciler.trackedSessions} left)`,
    )
  })

  it('fails a session whose runner is killed by a signal nobody asked for', async () => {
    const p = await plane()
    const session = await createSession(api)
    await waitForPhase(api, session.id, 'Running')
    process.kill(p.local.manager.get(session.id)?.pid ?? 0, 'SIGKILL')
    const failed = await waitForPhase(api, session.id, 'Failed')
    expect(condition(failed, RUNNER_STARTED)).toMatchObject({status: 'False', reason: 'ProcessExited: signal SIGKILL'})
  })

  it('fails a runner that never becomes healthy with HealthCheckTimeout and kills it', async () => {
    const p = await plane({healthTimeoutMs: 1500})
    const session = await createSession(api, {prompt: 'hang'})
    const failed = await waitForPhase(api, session.id, 'Failed')
    expect(condition(failed, HEALTH_CHECK_PASSED)).toMatchObject({status: 'False', reason: 'HealthCheckTimeout'})
    expect(condition(failed, RUNNER_STARTED)).toMatchObject({status: 'False', reason: 'HealthCheckTimeout'})
    expect(failed.completion_time).toBeTruthy()
    await waitFor(async () => (await leftovers(p.pids)).length === 0, 'the hung runner to be killed')
    // Its exit (a requested stop) does not turn the verdict into Stopped.
    await waitFor(() => p.local.manager.list().length === 0, 'the runner to be forgotten')
    await waitFor(() => p.controller.stats().queueDepth === 0 && p.controller.stats().inFlight === 0, 'the queue to drain')
    expect((await api.client.get('sessions', session.id)).phase).toBe('Failed')
  })

  it('stops a Running session on POST /stop, SIGKILLing a runner that ignores SIGTERM', async () => {
    const p = await plane({stopGraceMs: 1000})
    const polite = await createSession(api, {name: 'polite'})
    const stubborn = await createSession(api, {name: 'stubborn', prompt: 'stubborn'})
    await waitForPhase(api, polite.id, 'Running')
    await waitForPhase(api, stubborn.id, 'Running')
    const pids = new Map(p.local.manager.list().map((r) => [r.sessionId, r.pid]))
    await api.client.stop(polite.id)
    await api.client.stop(stubborn.id)
    for (const id of [polite.id, stubborn.id]) {
      const stopped = await waitForPhase(api, id, 'Stopped')
      expect(stopped.completion_time).toBeTruthy()
      expect(condition(stopped, RUNNER_STARTED)).toMatchObject({status: 'False', reason: 'Stopped'})
      expect(await isPidAlive(pids.get(id) ?? 0)).toBe(false)
    }
    expect(await leftovers(pids.values())).toEqual([])
    expect(await p.local.registry.list()).toEqual([])
  })

  it('kills the runner of a deleted session and removes its registry record', async () => {
    const p = await plane()
    const session = await createSession(api)
    await waitForPhase(api, session.id, 'Running')
    const runner = p.local.manager.get(session.id)
    expect(runner).toBeDefined()
    expect(await p.local.registry.read(session.id)).toBeDefined()
    await api.client.delete('sessions', session.id)
    await waitFor(async () => (await leftovers([runner?.pid ?? 0])).length === 0, 'the runner to die')
    await waitFor(async () => (await p.local.registry.read(session.id)) === undefined, 'the record to go')
    await waitFor(() => p.local.manager.get(session.id) === undefined, 'the manager to forget it')
  })

  it('leaves sessions Pending while LOCAL_MAX_SESSIONS runners run, and starts them when one ends', async () => {
    const p = await plane({maxSessions: 2, capacityRetryMs: 60_000})
    const first = await createSession(api, {name: 'first'})
    const second = await createSession(api, {name: 'second'})
    await waitForPhase(api, first.id, 'Running')
    await waitForPhase(api, second.id, 'Running')
    const third = await createSession(api, {name: 'third'})
    const waiting = await waitForSession(api, third.id, (s) => condition(s, PROCESS_SPAWNED)?.reason === 'CapacityFull', 'to wait for capacity')
    expect(waiting.phase).toBe('Pending')
    expect(condition(waiting, PROCESS_SPAWNED)?.message).toContain('LOCAL_MAX_SESSIONS')
    // A retry far away (60 s): the freed slot itself must start the waiting session.
    await api.client.stop(first.id)
    await waitForPhase(api, first.id, 'Stopped')
    const running = await waitForPhase(api, third.id, 'Running')
    expect(condition(running, PROCESS_SPAWNED)?.status).toBe('True')
    expect(
      p.local.manager
        .list()
        .map((r) => r.sessionId)
        .sort(),
    ).toEqual([second.id, third.id].sort())
  })

  it('fails a session with malformed repos on its own, with a condition naming the field', async () => {
    const p = await plane()
    const bad = await createSession(api, {name: 'bad', repos: '[{"url": '})
    const wrongShape = await createSession(api, {name: 'shape', repos: '{"url": "x"}'})
    const good = await createSession(api, {name: 'good', repos: '[{"url": "https://github.com/a/b", "branch": "main"}]'})
    for (const id of [bad.id, wrongShape.id]) {
      const failed = await waitForPhase(api, id, 'Failed')
      expect(condition(failed, PROCESS_SPAWNED)).toMatchObject({status: 'False', reason: 'InvalidSession'})
      expect(condition(failed, PROCESS_SPAWNED)?.message).toMatch(/^repos/)
    }
    await waitForPhase(api, good.id, 'Running')
    expect(p.local.manager.list().map((r) => r.sessionId)).toEqual([good.id])
  })

  it('restarts a finished session started again, and routes the AG-UI proxy to its runner', async () => {
    const p = await plane({proxy: true})
    const session = await createSession(api)
    await waitForPhase(api, session.id, 'Running')
    const proxyUrl = await waitFor(() => p.local.proxyUrl(), 'the proxy to listen')
    const health = await getJson(`${proxyUrl}/sessions/${session.id}/health`)
    expect(health).toEqual({status: 200, body: '{"status":"healthy"}'})
    expect((await getJson(`${proxyUrl}/sessions/unknown-session/health`)).status).toBe(404)

    await api.client.stop(session.id)
    await waitForPhase(api, session.id, 'Stopped')
    const firstPid = [...p.pids][0]
    await api.client.start(session.id)
    const again = await waitForSession(api, session.id, (s) => s.phase === 'Running' && p.local.manager.get(s.id) !== undefined, 'to run again')
    expect(condition(again, RUNNER_STARTED)?.status).toBe('True')
    expect(p.local.manager.get(session.id)?.pid).not.toBe(firstPid)
    expect((await getJson(`${proxyUrl}/sessions/${session.id}/health`)).status).toBe(200)
  })

  it('leaves sessions that belong to Kubernetes (kube_cr_uid set) alone', async () => {
    // Owned before the plane starts, so no reconcile can see it unowned.
    const session = await createSession(api)
    expect(session.kube_cr_name).toBe(session.id)
    await api.client.patchStatus(session.id, {kube_cr_uid: 'uid-1', kube_namespace: 'ns'})
    const p = await plane()
    await waitFor(() => p.controller.stats().succeeded >= 1, 'a pass over the session')
    expect(p.local.manager.list()).toEqual([])
    expect(p.calls.calls).toEqual([])
    expect((await api.client.get('sessions', session.id)).phase ?? '').toBe('')
  })
})
