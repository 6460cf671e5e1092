// Issue 5, kube mode: API calls per new session and per unchanged resync, and how many
// sessions per second the control plane turns into AgenticSessions at the default client-side
// rate limit (KUBE_QPS 50, KUBE_BURST 100). Three processes, like the e2e test's parts
// (test/kube/e2e.test.ts): the fake Kubernetes API server (test/fake-kube, compiled to
// bench/.build by tsc with bench/tsconfig.fake-kube.json), the embedded API server, and
// `ambient run --mode kube` (bench/fixtures/kube-plane.js); this process is the user creating
// sessions through REST and the observer.
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {RestClient} from '../dist/lib/api/rest.js'
import {startFixture} from './fixtures/spawn.js'
import {fmt, median, report} from './lib.js'

const PROJECTS = 5
const SESSIONS = 1000
const ROUNDS = 2
const QPS = 50
const BURST = 100
const CREATE_CONCURRENCY = 16

const here = path.dirname(new URL(import.meta.url).pathname)
const repo = path.join(here, '..')

/** Compiles test/fake-kube (and what it imports) to bench/.build when a source is newer. */
function compileFakeKube() {
  const out = path.join(here, '.build/test/fake-kube/index.js')
  const sources = [
    ...fs
      .readdirSync(path.join(repo, 'test/fake-kube'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(repo, 'test/fake-kube', f)),
    path.join(repo, 'src/lib/errors.ts'),
  ]
  const built = fs.existsSync(out) ? fs.statSync(out).mtimeMs : 0
  if (sources.every((f) => fs.statSync(f).mtimeMs < built)) return
  execFileSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', path.join(here, 'tsconfig.fake-kube.json')], {
    stdio: 'inherit',
  })
}

const getJson = async (url, init) => {
  const res = await fetch(url, init)
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status}`)
  return res.json()
}

async function waitFor(check, what, timeoutMs = 180_000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(intervalMs)
  }
}

compileFakeKube()
const kube = await startFixture('kube-fake.js')
const api = await startFixture('kube-api-server.js')
const plane = await startFixture('kube-plane.js', [api.info.url, api.info.grpcAddress, api.info.token, kube.info.kubeconfigPath])
const rest = new RestClient({baseUrl: api.info.url, token: () => api.info.token})
const stats = () => getJson(`${plane.info.statsUrl}/stats`)
const objects = async (resource) => (await getJson(`${kube.info.controlUrl}/objects?resource=${resource}`)).n
const kubeSummary = () => getJson(`${kube.info.controlUrl}/summary`)

/** Requests that are a reconcile's own: not the caches' list and watch calls. */
const kubeOwn = (s) =>
  s.kube.total -
  Object.entries(s.kube.byKey)
    .filter(([k]) => k.startsWith('watch ') || k.startsWith('list '))
    .reduce((n, [, v]) => n + v, 0)
/** API calls but the informers' list-syncs (GET of a collection). */
const apiOwn = (s) =>
  Object.entries(s.api)
    .filter(([k]) => !/^GET \/[a-z_]+$/.test(k))
    .reduce((n, [, v]) => n + v, 0)
const sessionReconciles = (s) => s.resources.find((r) => r.resource === 'sessions').reconciles.ok

/** Idle: no queued or running reconcile, and nothing sent for two polls in a row. */
async function settle() {
  let previous
  return waitFor(
    async () => {
      const s = await stats()
      const busy = s.resources.some((r) => r.queueDepth > 0 || r.inFlight > 0)
      const key = `${s.kube.total} ${apiOwn(s)} ${sessionReconciles(s)}`
      const quiet = !busy && key === previous
      previous = key
      return quiet && s
    },
    'the control plane to go idle',
    180_000,
    300,
  )
}

function diffCounts(after, before) {
  const out = {}
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0)
  return out
}
const describeCounts = (counts) =>
  Object.entries(counts)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ') || 'none'

const rounds = []
let resync
try {
  const projects = []
  for (let p = 0; p < PROJECTS; p++) projects.push(await rest.create('projects', {name: `bench-${p}`}))
  await waitFor(async () => (await objects('namespaces')) >= 2 + PROJECTS, "the projects' namespaces")
  await settle()

  for (let round = 0; round < ROUNDS; round++) {
    // Let the token bucket refill (100 tokens at 50/s), so every round starts with the same burst.
    await sleep((BURST / QPS) * 1000 + 1000)
    const before = await stats()
    const kubeBefore = await kubeSummary()
    const expected = before.copied + SESSIONS
    const t0 = performance.now()
    let next = 0
    await Promise.all(
      Array.from({length: CREATE_CONCURRENCY}, async () => {
        for (let i = next++; i < SESSIONS; i = next++) {
          await rest.create('sessions', {
            name: `bench ${round}-${i}`,
            project_id: projects[i % PROJECTS].id,
            prompt: `prompt ${i}`,
            labels: JSON.stringify({bench: 'kube', round: String(round)}),
          })
        }
      }),
    )
    const createdMs = performance.now() - t0
    await waitFor(async () => (await stats()).copied >= expected, `${expected} sessions with kube_cr_uid`)
    const ms = performance.now() - t0
    const crs = await objects('agenticsessions')
    if (crs !== expected) throw new Error(`${crs} AgenticSessions instead of ${expected}`)
    const after = await settle()
    const kubeAfter = await kubeSummary()
    const samples = await getJson(`${plane.info.statsUrl}/samples`)
    // Requests per second once the burst is spent: from 150 requests into the round to its last one.
    const from = samples.find(([, n]) => n >= before.kube.total + BURST + 50)
    const to = samples.find(([, n]) => n >= after.kube.total)
    rounds.push({
      ms,
      createdMs,
      kube: kubeOwn(after) - kubeOwn(before),
      api: apiOwn(after) - apiOwn(before),
      kubeCalls: diffCounts(kubeAfter, kubeBefore),
      apiCalls: diffCounts(after.api, before.api),
      steadyRate: from && to && to[0] > from[0] ? (to[1] - from[1]) / ((to[0] - from[0]) / 1000) : Number.NaN,
      throttleSeconds: after.throttleSeconds - before.throttleSeconds,
      cpuMs: after.cpuMs - before.cpuMs,
    })
  }

  // An unchanged resync: every cached object is enqueued, as the resync wheel does when it fires.
  const before = await stats()
  const kubeBefore = await kubeSummary()
  const enqueued = await getJson(`${plane.info.statsUrl}/resync`, {method: 'POST'})
  await waitFor(async () => sessionReconciles(await stats()) >= sessionReconciles(before) + enqueued.sessions, 'the resync round')
  const after = await settle()
  const kubeAfter = await kubeSummary()
  resync = {
    enqueued,
    reconciles: sessionReconciles(after) - sessionReconciles(before),
    kube: kubeOwn(after) - kubeOwn(before),
    api: apiOwn(after) - apiOwn(before),
    kubeCalls: diffCounts(kubeAfter, kubeBefore),
  }
} finally {
  await plane.stop()
  await api.stop()
  await kube.stop()
}

const total = ROUNDS * SESSIONS
const sum = (f) => rounds.reduce((n, r) => n + f(r), 0)
const merge = (f) => {
  const out = {}
  for (const r of rounds) for (const [k, v] of Object.entries(f(r))) out[k] = (out[k] ?? 0) + v
  return out
}
// Watches and the caches' lists are not per session; the fake counts everything it received.
const kubeServerCalls = Object.fromEntries(
  Object.entries(merge((r) => r.kubeCalls)).filter(([k]) => !k.startsWith('watch ') && !k.startsWith('list ')),
)
const perNew = (sum((r) => r.kube) + sum((r) => r.api)) / total
const resyncKubeCalls = Object.fromEntries(Object.entries(resync.kubeCalls).filter(([k]) => !k.startsWith('watch ')))
const perResync = (resync.kube + resync.api) / resync.enqueued.sessions
const rate = median(rounds.map((r) => SESSIONS / (r.ms / 1000)))
const steady = median(rounds.map((r) => r.steadyRate))
const windowRate = median(rounds.map((r) => r.kube / (r.ms / 1000)))

report({
  title: 'Kube mode: API calls per session and reconcile throughput (issue 5)',
  description: [
    `Processes: the fake Kubernetes API server (test/fake-kube compiled to bench/.build with \`tsc -p bench/tsconfig.fake-kube.json\`, CRD from deploy/crd.yaml), the embedded Ambient API server, and \`ambient run --mode kube\` built by the command's own functions with its defaults (WORKER_COUNT 2, KUBE_QPS ${QPS}, KUBE_BURST ${BURST}, no leader election); only its REST client is wrapped to count calls. This process creates the sessions (REST, ${CREATE_CONCURRENCY} at a time) and polls the control plane's counters.`,
    `New sessions: ${PROJECTS} projects (their namespaces created first), then ${ROUNDS} rounds of ${SESSIONS} new sessions, each round after the token bucket refilled. A round ends when the control plane's sessions informer has every session with kube_cr_uid (the status copy-back, seen through the API server's watch) and the fake stores every AgenticSession; calls are counted once everything is idle again, so the reconciles caused by the control plane's own writes (CR added, status echoed back) are included. Kubernetes requests are counted by the client (rate limiter → counter) without the caches' list and watch calls; the per-verb breakdown is what the fake server received. Ambient API calls are every REST call but the informers' list-syncs.`,
    `Unchanged resync: every cached session, project and settings object is enqueued once (what the resync wheel does when it fires), then the calls are counted when idle.`,
    `Rate: requests/s after the burst is the slope of the client's request counter (sampled every 50 ms) from 150 requests into a round to its last request.`,
  ].join('\n\n'),
  rows: [
    {name: 'Kubernetes requests per new session', value: `${(sum((r) => r.kube) / total).toFixed(2)} (received: ${describeCounts(kubeServerCalls)})`},
    {name: 'Ambient API calls per new session', value: `${(sum((r) => r.api) / total).toFixed(2)} (${describeCounts(merge((r) => r.apiCalls))})`},
    {name: `API calls per new session, both (${total} sessions)`, value: perNew.toFixed(2), goal: '≤ 2', met: perNew <= 2},
    {
      name: `Kubernetes requests per session in an unchanged resync`,
      value: `${(resync.kube / resync.enqueued.sessions).toFixed(2)} (received: ${describeCounts(resyncKubeCalls)})`,
    },
    {name: 'Ambient API calls per session in an unchanged resync', value: (resync.api / resync.enqueued.sessions).toFixed(2)},
    {
      name: `API calls per unchanged resync, both (${resync.enqueued.sessions} sessions, ${resync.enqueued.projects} projects, ${resync.reconciles} session reconciles)`,
      value: `${resync.kube + resync.api} in total, ${perResync.toFixed(2)} per session`,
      goal: '0',
      met: resync.kube + resync.api === 0,
    },
    {
      name: `Sessions reconciled per second (${SESSIONS} new sessions: first create → every CR exists and its status is copied back)`,
      value: `${fmt.rate(rate)} (rounds: ${rounds.map((r) => `${fmt.s(r.ms / 1000)}`).join(', ')}; creating them took ${rounds.map((r) => fmt.s(r.createdMs / 1000)).join(', ')})`,
    },
    {name: 'Kubernetes requests/s over that window (the first 100 are the burst)', value: fmt.rate(windowRate)},
    {
      name: 'Control plane CPU per new session (its process: informers, reconciles, both clients)',
      value: fmt.ms(median(rounds.map((r) => r.cpuMs / SESSIONS))),
    },
    {
      name: 'Kubernetes requests/s once the burst is spent',
      value: `${steady.toFixed(1)}/s (rounds: ${rounds.map((r) => r.steadyRate.toFixed(1)).join(', ')}); time waited in the rate limiter: ${rounds.map((r) => fmt.s(r.throttleSeconds)).join(', ')} summed over requests`,
      goal: `≈ ${QPS}/s (KUBE_QPS)`,
      met: steady >= QPS * 0.9 && steady <= QPS * 1.05,
    },
  ],
})
