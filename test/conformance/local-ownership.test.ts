// Contract section 4 (lifecycle, first rule): local mode skips a session only when
// kube_cr_uid is set (a CR exists), never because of kube_cr_name, which the real server sets
// to the id on every session it creates. Real runner processes, the real create path.
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {killGroups, startApi, startPlane, tempDir, waitFor, waitForPhase, type Api, type Plane} from '../local/harness.js'

let api: Api
let root: {dir: string; cleanup: () => Promise<void>}
let plane: Plane | undefined

beforeEach(async () => {
  api = await startApi()
  root = await tempDir('ownership')
})
afterEach(async () => {
  await plane?.stop().catch(() => undefined)
  await killGroups(plane?.pids ?? [])
  plane = undefined
  await api.close()
  await root.cleanup()
})

const startLocal = async () => {
  plane = await startPlane(api, {stateDir: path.join(root.dir, 'state'), workspaceRoot: path.join(root.dir, 'workspaces')})
  return plane
}

describe('contract 4: which sessions local mode owns', () => {
  it('4 local mode runs a session created through the real create path (kube_cr_name set)', async () => {
    const session = await api.client.create('sessions', {name: 'mine'})
    expect(session.kube_cr_name).toBe(session.id)
    const p = await startLocal()
    const running = await waitForPhase(api, session.id, 'Running', 60_000)
    expect(running.kube_cr_name).toBe(session.id)
    expect(p.local.manager.get(session.id)).toBeDefined()
  })

  it('4 local mode skips a session with kube_cr_uid set (it belongs to Kubernetes)', async () => {
    const owned = await api.client.create('sessions', {name: 'theirs'})
    await api.client.patchStatus(owned.id, {kube_cr_uid: 'cr-uid', kube_namespace: 'ns'})
    const mine = await api.client.create('sessions', {name: 'mine'})
    const p = await startLocal()
    await waitForPhase(api, mine.id, 'Running', 60_000)
    await waitFor(() => p.controller.stats().queueDepth === 0 && p.controller.stats().inFlight === 0, 'the queue to drain')
    expect(p.local.manager.get(owned.id)).toBeUndefined()
    expect(p.local.manager.list().map((r) => r.sessionId)).toEqual([mine.id])
    expect((await api.client.get('sessions', owned.id)).phase ?? '').toBe('')
  })
})
