// A deposed leader writes nothing: two real `ambient run --mode kube --leader-elect` processes
// against the embedded API server and the fake Kubernetes API, with a short lease. The leader
// is frozen (SIGSTOP) with reconciles in flight (its AgenticSession creates held unanswered by
// the fake), past the lease duration, while sessions are created; the other replica takes the
// lease and does the work; the old leader is thawed (SIGCONT). From then on it must not send
// one write, to Kubernetes (told apart by its User-Agent) or to the API server (through its
// own recording proxy): it knows by its own clock that its lease ran out.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {RestClient} from '../../src/lib/api/rest.js'
import type {Session} from '../../src/lib/api/types.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {startFakeKube, type FakeKube, type RequestRecord} from '../fake-kube/index.js'
import {startRecordingProxy, type RecordingProxy} from '../helpers/recording-proxy.js'
import {until} from '../helpers/wait.js'
import {startReplica, type Replica} from './replica.js'

const token = 'deposed-token'
const LEASE = 'ambient-control-plane'
/** Short, valid lease timing (lease > deadline > 1.2 x retry), so the test runs in seconds. */
const TIMING = ['--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '400ms']
const WORKERS = 2
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection'])
/** Generous: the machine is shared, and nothing here depends on being fast. */
const DEADLINE = 60_000

let kube: FakeKube
let api: ApiServer
let rest: RestClient
let tmp: string
const replicas: Replica[] = []
const proxies = new Map<string, RecordingProxy>()

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deposed-'))
  kube = await startFakeKube({namespaces: ['default', 'ambient-code']})
  api = await startApiServer({port: 0, grpcPort: 0, token})
  rest = new RestClient({baseUrl: api.url, token: () => token})
})

afterAll(async () => {
  for (const r of replicas) {
    r.child.kill('SIGCONT')
    r.child.kill('SIGKILL')
  }
  for (const p of proxies.values()) await p.close()
  await api?.close()
  await kube?.close()
  fs.rmSync(tmp, {recursive: true, force: true})
})

async function replica(name: string): Promise<Replica> {
  // Its own proxy to the API server: what goes through it, this replica sent.
  const proxy = await startRecordingProxy(api.url)
  proxies.set(name, proxy)
  const r = startReplica({
    name,
    apiUrl: proxy.url,
    grpcAddress: api.grpcAddress,
    token,
    kubeconfigPath: kube.kubeconfigPath,
    tmp,
    args: [...TIMING, '--workers', String(WORKERS)],
  })
  replicas.push(r)
  return r
}

function holder(): string | undefined {
  const lease = kube.get('leases', 'ambient-code', LEASE) as {spec?: {holderIdentity?: string}} | undefined
  return lease?.spec?.holderIdentity || undefined
}

/** Kubernetes writes a replica sent (its User-Agent names it); the Lease, the lock itself, aside. */
function kubeWritesBy(name: string): RequestRecord[] {
  return kube.requests.filter((r) => r.userAgent === `ambient (${name})` && WRITE_VERBS.has(r.verb) && r.resource !== 'leases')
}

function describeRequest(r: RequestRecord): string {
  return `${r.method} ${r.path} (${r.verb} ${r.resource}) at +${r.at}`
}

describe('a deposed leader', () => {
  it('sends no write, to Kubernetes or the API server, after it lost the lease', {timeout: 240_000}, async () => {
    const project = await rest.create('projects', {name: 'alpha'})
    const a = await replica('replica-a')
    await until('replica-a to lead', () => holder() === 'replica-a', DEADLINE)
    await until('the namespace of project alpha', () => kube.get('namespaces', '', 'alpha'), DEADLINE)
    const b = await replica('replica-b')
    await until('replica-b to follow with its caches synced', () => b.stdout.some((l) => l.includes('"ADDED"') && l.includes('"projects"')), DEADLINE)
    expect(kubeWritesBy('replica-a').length).toBeGreaterThan(0)
    // The fake answers none of replica-a's AgenticSession creates for now: its session workers
    // are mid-reconcile, a status write still to come, when it is frozen.
    const hold = kube.hold((r) => r.userAgent === 'ambient (replica-a)' && r.verb === 'create' && r.resource === 'agenticsessions')
    const sessions: Session[] = []
    for (let i = 0; i < 4; i++) sessions.push(await rest.create('sessions', {name: `s-${i}`, project_id: project.id}))
    await until('replica-a to have a create in flight per worker', () => hold.held === WORKERS, DEADLINE)

    const pid = a.child.pid ?? 0
    process.kill(pid, 'SIGSTOP')
    for (let i = 4; i < 6; i++) sessions.push(await rest.create('sessions', {name: `s-${i}`, project_id: project.id}))
    await until('replica-b to take the lease', () => holder() === 'replica-b', DEADLINE)
    await until('replica-b to create every AgenticSession', () => kube.list('agenticsessions').length === sessions.length, DEADLINE)
    // The held creates reach the store now (409: replica-b made them); their answers wait in
    // replica-a's socket, as answers to a frozen process do.
    hold.release()
    await until(
      'the held creates answered',
      () =>
        kube.requests
          .filter((r) => r.userAgent === 'ambient (replica-a)' && r.verb === 'create' && r.resource === 'agenticsessions')
          .every((r) => r.code !== undefined),
      DEADLINE,
    )

    const thawedAt = Date.now()
    process.kill(pid, 'SIGCONT')
    await until('replica-a to log that it stopped leading', () => a.stderr().includes('stopped leading'), DEADLINE)
    // It follows now; stopping it ends its record.
    a.child.kill('SIGTERM')
    const exit = await a.exited
    expect(exit, a.stderr().slice(-3000)).toEqual({code: 0, signal: null})

    const lateKube = kubeWritesBy('replica-a').filter((r) => r.at >= thawedAt)
    const lateApi = (proxies.get('replica-a')?.requests ?? []).filter((r) => r.at >= thawedAt && r.method !== 'GET')
    expect(lateKube.map(describeRequest), 'Kubernetes writes by the deposed leader').toEqual([])
    expect(lateApi, 'API server writes by the deposed leader').toEqual([])

    // The new leader did the work: every session has its CR's uid in its status.
    await until(
      'replica-b to write every status',
      async () => {
        const all = await rest.listAll('sessions')
        return all.length === sessions.length && all.every((s) => s.kube_cr_uid)
      },
      DEADLINE,
    )
    expect(holder()).toBe('replica-b')
  })
})
