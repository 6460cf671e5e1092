// Issue 4, local mode: the AG-UI proxy's throughput and added latency against talking to the
// runner directly, and how long 50 sessions take to reach Running through local mode against
// 50 bare spawns of the same runner. Runner, proxy and clients are separate processes
// (bench/fixtures/local-*.js); every comparison alternates its two variants round by round
// and reports medians, because this shared 2-core machine drifts by tens of percent.
import os from 'node:os'
import {runFixture, startFixture} from './fixtures/spawn.js'
import {fmt, median, report} from './lib.js'

const SSE_EVENTS = 1_000_000
const SSE_ROUNDS = 7
const LATENCY_ROUNDS = 5
const LATENCY_PAIRS = 5000
const LATENCY_WARMUP = 500
const SESSIONS = 50
/** Rounds per runner: the echo runner's take ~20 s each and its goal is not close. */
const SESSION_ROUNDS = {node: 5, echo: 3}
/** Local mode's default health probe interval (DEFAULT_HEALTH_INTERVAL_MS); the bare spawns poll as often. */
const HEALTH_INTERVAL_MS = 500

/** Runs a and b, a first on even rounds and b first on odd ones, so drift hits both alike; resolves [a's, b's]. */
async function alternate(round, a, b) {
  if (round % 2 === 0) {
    const first = await a()
    return [first, await b()]
  }
  const second = await b()
  return [await a(), second]
}

const load = () => os.loadavg()[0].toFixed(1)
const loadBefore = load()
const rows = []

// --- SSE throughput and added latency: one echo runner, one proxy in front of it ---
const runner = await startFixture('local-echo-runner.js')
const proxy = await startFixture('local-proxy.js', [runner.info.port, runner.info.token])
const directUrl = (n) => `${runner.info.url}/?count=${n}`
const proxiedUrl = (n) => `${proxy.info.url}/sessions/bench/agui/events?count=${n}`
const sse = {direct: [], proxied: [], ratio: [], proxyCpuMs: []}
const latency = []
/** The proxy process's CPU time so far, in ms. */
const proxyCpuMs = async () => (await (await fetch(proxy.info.statsUrl)).json()).cpuUs / 1000
try {
  // Warm-up (JIT, socket buffers), not counted.
  await runFixture('local-sse-client.js', [directUrl(200_000), runner.info.token])
  await runFixture('local-sse-client.js', [proxiedUrl(200_000)])
  for (let i = 0; i < SSE_ROUNDS; i++) {
    const runDirect = () => runFixture('local-sse-client.js', [directUrl(SSE_EVENTS), runner.info.token])
    const runProxied = async () => {
      const cpuBefore = await proxyCpuMs()
      const result = await runFixture('local-sse-client.js', [proxiedUrl(SSE_EVENTS)])
      sse.proxyCpuMs.push((await proxyCpuMs()) - cpuBefore)
      return result
    }
    const [d, p] = await alternate(i, runDirect, runProxied)
    for (const r of [d, p]) if (r.events !== SSE_EVENTS + 2) throw new Error(`SSE client saw ${r.events} events instead of ${SSE_EVENTS + 2}`)
    if (d.bytes !== p.bytes) throw new Error(`the proxy changed the stream: ${p.bytes} bytes instead of ${d.bytes}`)
    const rd = d.events / (d.ms / 1000)
    const rp = p.events / (p.ms / 1000)
    sse.direct.push(rd)
    sse.proxied.push(rp)
    sse.ratio.push(rp / rd)
  }
  for (let i = 0; i < LATENCY_ROUNDS; i++) {
    const cpuBefore = await proxyCpuMs()
    const result = await runFixture('local-latency-client.js', [runner.info.url, runner.info.token, proxy.info.url, LATENCY_PAIRS, LATENCY_WARMUP])
    latency.push({...result, proxyCpuUsPerRequest: (((await proxyCpuMs()) - cpuBefore) * 1000) / (LATENCY_PAIRS + LATENCY_WARMUP)})
  }
} finally {
  await proxy.stop()
  await runner.stop()
}
const sseRatio = median(sse.ratio)
rows.push(
  {name: `SSE events/s, client ← runner directly (${(SSE_EVENTS / 1e6).toFixed(0)}M events per run)`, value: fmt.rate(median(sse.direct))},
  {
    name: 'SSE events/s, client ← proxy ← runner',
    value: `${fmt.rate(median(sse.proxied))} (proxy process CPU ${fmt.s(median(sse.proxyCpuMs) / 1000 / (SSE_EVENTS / 1e6))} per 1M events)`,
  },
  {
    name: 'SSE throughput through the proxy / direct',
    value: `${sseRatio.toFixed(3)}× (rounds: ${sse.ratio.map((r) => r.toFixed(2)).join(', ')})`,
    goal: '≥ 0.9×',
    met: sseRatio >= 0.9,
  },
)
const lat = (side, p) => median(latency.map((r) => r[side][p]))
const addedP99 = lat('diff', 'p99')
rows.push(
  {name: 'GET /health direct: p50 / p99', value: `${fmt.ms(lat('direct', 'p50'))} / ${fmt.ms(lat('direct', 'p99'))}`},
  {name: 'GET /sessions/{id}/health through the proxy: p50 / p99', value: `${fmt.ms(lat('proxied', 'p50'))} / ${fmt.ms(lat('proxied', 'p99'))}`},
  {name: 'Added latency (proxied − direct, per pair): p50 / p90', value: `${fmt.ms(lat('diff', 'p50'))} / ${fmt.ms(lat('diff', 'p90'))}`},
  {name: 'Proxy CPU per proxied GET', value: `${median(latency.map((r) => r.proxyCpuUsPerRequest)).toFixed(0)} µs`},
  {
    name: 'Added latency (proxied − direct, per pair): p99',
    value: `${fmt.ms(addedP99)} (rounds: ${latency.map((r) => r.diff.p99.toFixed(2)).join(', ')} ms)`,
    goal: '< 1 ms',
    met: addedP99 < 1,
  },
)

// --- 50 sessions to Running: local mode vs bare spawns, for two runner commands ---
/** Two disjoint 100-port ranges below the kernel's ephemeral range (32768+), where outgoing connections cannot take a port between check and bind. */
function portRanges() {
  const base = 20_000 + Math.floor(Math.random() * 45) * 250
  return {plane: [base, base + 99], bare: [base + 100, base + 199]}
}
const runnerNames = {
  node: 'minimal Node runner (bench/fixtures/local-runner.js)',
  echo: 'echo runner (`ambient echo-runner`, as `ambient run --embedded` starts it)',
}
for (const kind of ['node', 'echo']) {
  const plane = []
  const bare = []
  const ratio = []
  for (let i = 0; i < SESSION_ROUNDS[kind]; i++) {
    const ports = portRanges()
    const runPlane = () => runFixture('local-plane.js', [SESSIONS, kind, ...ports.plane])
    const runBare = () => runFixture('local-bare.js', [SESSIONS, kind, ...ports.bare, HEALTH_INTERVAL_MS])
    const [p, b] = await alternate(i, runPlane, runBare)
    plane.push(p)
    bare.push(b)
    ratio.push(p.ms / b.ms)
  }
  const r = median(ratio)
  const m = (list, f) => median(list.map(f))
  rows.push(
    {
      name: `${SESSIONS} sessions Pending → Running through local mode, ${runnerNames[kind]}`,
      value: `${fmt.s(m(plane, (x) => x.ms / 1000))} (last runner spawned at ${fmt.s(m(plane, (x) => x.lastCreatingMs / 1000))}; control plane + API server CPU ${fmt.s(m(plane, (x) => x.cpuMs / 1000))})`,
    },
    {
      name: `${SESSIONS} bare spawns until /health answers 200, ${runnerNames[kind]}`,
      value: `${fmt.s(m(bare, (x) => x.ms / 1000))} (spawner CPU ${fmt.s(m(bare, (x) => x.cpuMs / 1000))})`,
    },
    {
      name: `local mode / bare spawns, ${kind === 'node' ? 'minimal runner' : 'echo runner'}`,
      value: `${r.toFixed(3)}× (rounds: ${ratio.map((x) => x.toFixed(2)).join(', ')})`,
      goal: '≤ 1.5×',
      met: r <= 1.5,
    },
  )
}

report({
  title: 'Local mode: AG-UI proxy and session start-up (issue 4)',
  description: [
    `SSE: the echo runner (\`GET /?count=N\` writes N TEXT_MESSAGE_CONTENT events as fast as the client reads), the proxy and the client are three processes; each run is a fresh client process counting events until the stream ends, ${SSE_ROUNDS} rounds alternating direct and proxied (after one warm-up each), median rate and median of the per-round ratios. The proxied stream must arrive byte for byte.`,
    `Latency: one client process alternates GET /health on the runner and GET /sessions/bench/health on the proxy, one request at a time, each on its own keep-alive connection; ${LATENCY_PAIRS} pairs after ${LATENCY_WARMUP} warm-up pairs, ${LATENCY_ROUNDS} rounds, medians of the per-round percentiles. The added latency is taken per pair, so its p99 also carries the scheduling noise of the third process on the path. The proxy's CPU (its process's cpuUsage around each run) does not depend on the machine's load the way latency does.`,
    `Sessions: local mode is \`ambient run --embedded --mode local\` assembled in one process by the command's own functions (embedded API server, informers over REST + gRPC watch, WORKER_COUNT = 2 workers, health probes every ${HEALTH_INTERVAL_MS} ms, LOCAL_MAX_SESSIONS = ${SESSIONS}); it creates ${SESSIONS} sessions through REST at once and times from the first create until its informer has seen all ${SESSIONS} Running. The baseline spawns the same ${SESSIONS} runner commands at once (own workspace and process group each, free port checked the same way) and polls each /health every ${HEALTH_INTERVAL_MS} ms until all answer 200. So the baseline gets full spawn concurrency, local mode its default 2 workers; both probe equally often. Runner ports come from 100-port ranges below 32768: inside the kernel's ephemeral range (32768-60999) an outgoing connection can take a port between the free-port check and the runner's bind (one session failed with EADDRINUSE that way in a trial with 42200-42399). ${SESSION_ROUNDS.node} rounds (${SESSION_ROUNDS.echo} with the echo runner) alternating the two, median of the per-round ratios.`,
    `Load average (1 min) at start ${loadBefore}, at end ${load()}.`,
  ].join('\n\n'),
  rows,
})
