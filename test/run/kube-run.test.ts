// `ambient run --mode kube` as users run it: real processes of the built CLI, against the
// embedded API server and the fake Kubernetes API, two replicas with --leader-elect.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {RestClient} from '../../src/lib/api/rest.js'
import type {Project, Session} from '../../src/lib/api/types.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {until} from '../helpers/wait.js'
import {startReplica as spawnReplica, type Replica} from './replica.js'

const token = 'kube-run-token'
const LEASE = 'ambient-control-plane'

let kube: FakeKube
let api: ApiServer
let rest: RestClient
let tmp: string
const replicas: Replica[] = []

function startReplica(name: string): Replica {
  const replica = spawnReplica({name, apiUrl: api.url, grpcAddress: api.grpcAddress, token, kubeconfigPath: kube.kubeconfigPath, tmp})
  replicas.push(replica)
  return replica
}

function holder(): string | undefined {
  const lease = kube.get('leases', 'ambient-code', LEASE) as {spec?: {holderIdentity?: string}} | undefined
  return lease?.spec?.holderIdentity || undefined
}

function crCount(): number {
  return kube.list('agenticsessions').length
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-run-'))
  kube = await startFakeKube({namespaces: ['default', 'ambient-code']})
  api = await startApiServer({port: 0, grpcPort: 0, token})
  rest = new RestClient({baseUrl: api.url, token: () => token})
})

afterAll(async () => {
  for (const r of replicas) r.child.kill('SIGKILL')
  await api?.close()
  await kube?.close()
  fs.rmSync(tmp, {recursive: true, force: true})
})

describe('ambient run --mode kube --leader-elect (two replicas)', () => {
  it('reconciles through the leader, fails over when it dies, and exits 0 on SIGTERM', {timeout: 120_000}, async () => {
    const projects: Project[] = []
    for (const name of ['alpha', 'beta']) projects.push(await rest.create('projects', {name}))
    const sessions: Session[] = []
    for (let i = 0; i < 20; i++) {
      sessions.push(await rest.create('sessions', {name: `s-${i}`, prompt: `task ${i}`, project_id: projects[i % 2].id}))
    }

    const a = startReplica('replica-a')
    await until('replica-a to lead', () => holder() === 'replica-a')
    const b = startReplica('replica-b')
    await until('20 CRs', () => crCount() === 20)
    // Projects became namespaces named after them, and each CR sits in its project's namespace.
    expect(kube.get('namespaces', '', 'alpha')?.metadata?.labels?.['ambient-code.io/managed']).toBe('true')
    for (const s of sessions) {
      const ns = s.project_id === projects[0].id ? 'alpha' : 'beta'
      expect(kube.get('agenticsessions', ns, s.id.toLowerCase()), `CR of ${s.name}`).toBeDefined()
    }
    // b follows: it holds warm caches (its informer events reach its stdout) but is not the holder.
    await until('replica-b to sync its caches', () => b.stdout.filter((l) => l.includes('"ADDED"')).length >= 22)
    expect(holder()).toBe('replica-a')

    // The leader dies without releasing the lease; b must take over within a lease period (15 s)
    // plus its retry period, and then reconcile new sessions.
    const killedAt = Date.now()
    a.child.kill('SIGKILL')
    await a.exited
    await until('replica-b to take over', () => holder() === 'replica-b', 25_000)
    const takeoverMs = Date.now() - killedAt
    expect(takeoverMs).toBeLessThan(15_000 + 2_000 + 3_000)
    const late = await rest.create('sessions', {name: 'late', project_id: projects[0].id})
    await until('the late session CR', () => kube.get('agenticsessions', 'alpha', late.id.toLowerCase()) !== undefined)

    // A clean stop: exit 0 within the grace period, TALLY lines, and the lease released.
    const stopAt = Date.now()
    b.child.kill('SIGTERM')
    const exit = await b.exited
    expect(exit, b.stderr().slice(-2000)).toEqual({code: 0, signal: null})
    expect(Date.now() - stopAt).toBeLessThan(10_000)
    const tallies = b.stdout.filter((l) => l.includes('"TALLY"')).map((l) => JSON.parse(l) as {resource: string; added: number})
    expect(tallies.map((t) => t.resource).sort()).toEqual(['project_settings', 'projects', 'sessions'])
    expect(tallies.find((t) => t.resource === 'sessions')?.added).toBe(21)
    expect(holder()).toBeUndefined()
    // Every stdout line is JSON (NDJSON contract), logs went to stderr.
    for (const line of b.stdout) expect(() => JSON.parse(line)).not.toThrow()
  })
})
