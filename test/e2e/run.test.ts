// `ambient run --mode test` as a real process (the built CLI) against an API server started
// by the test: NDJSON on stdout and nothing else, TALLY lines, shutdown on SIGTERM during a
// large initial sync, and the metrics and probe listeners.
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {ResourceName} from '../../src/lib/api/types.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import {assertBuilt, ensureDead, freePort, parseNdjson, startCli, tempDir, type CliProcess, type NdjsonLine} from './cli.js'
import {seed, startServer, TOKEN, writers} from './helpers.js'

const RESOURCES: readonly ResourceName[] = ['sessions', 'projects', 'project_settings']
const cleanups: (() => Promise<void> | void)[] = []

beforeAll(() => assertBuilt())
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function seededServer(counts: Record<ResourceName, number>, options: {port?: number; grpcPort?: number} = {}): Promise<ApiServer> {
  const api = await startServer(options)
  cleanups.push(() => api.close())
  const seq = {next: 0}
  const w = writers(api.store)
  for (const resource of RESOURCES) seed(api.store, w[resource], counts[resource], seq)
  return api
}

/** Starts `ambient run` with throw-away settings and state directories. */
function run(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const config = tempDir('config')
  const state = tempDir('state')
  const cli = startCli(['run', '--mode', 'test', ...args], {AMBIENT_CONFIG_DIR: config.dir, AMBIENT_STATE_DIR: state.dir, ...env})
  cleanups.push(() => {
    config.remove()
    state.remove()
  })
  cleanups.push(() => ensureDead(cli))
  return cli
}

function against(api: ApiServer): {args: string[]; env: Record<string, string>} {
  return {args: ['--server', api.url, '--token', TOKEN], env: {AMBIENT_GRPC_SERVER_ADDR: api.grpcAddress}}
}

/** Event lines by resource, and the TALLY lines, which must come last (one per resource). */
function split(lines: readonly NdjsonLine[]): {events: Map<string, NdjsonLine[]>; tallies: Map<string, NdjsonLine>} {
  const events = new Map<string, NdjsonLine[]>(RESOURCES.map((r) => [r, []]))
  const tallies = new Map<string, NdjsonLine>()
  for (const [i, line] of lines.entries()) {
    if (line.type === 'TALLY') {
      expect(tallies.has(line.resource), `one TALLY line for ${line.resource}`).toBe(false)
      tallies.set(line.resource, line)
      continue
    }
    expect(tallies.size, `event line ${i + 1} after a TALLY line`).toBe(0)
    expect(['ADDED', 'MODIFIED', 'DELETED']).toContain(line.type)
    const list = events.get(line.resource)
    if (!list) throw new Error(`line ${i + 1}: unknown resource ${line.resource}`)
    list.push(line)
  }
  expect([...tallies.keys()].sort()).toEqual([...RESOURCES].sort())
  return {events, tallies}
}

describe('ambient run --mode test --once --json', () => {
  const counts: Record<ResourceName, number> = {sessions: 1234, projects: 57, project_settings: 23}
  const cases: {name: string; flags: string[]; serverWatch: 'on' | 'unimplemented'}[] = [
    {name: 'watch streams', flags: [], serverWatch: 'on'},
    {name: '--watch poll', flags: ['--watch', 'poll'], serverWatch: 'on'},
    {name: 'a server without watch (fallback to polling)', flags: [], serverWatch: 'unimplemented'},
  ]
  for (const c of cases) {
    it(`${c.name}: exits 0, stdout is one ADDED line per object and the TALLY lines`, async () => {
      const api = await seededServer(counts)
      api.setWatchMode(c.serverWatch)
      const {args, env} = against(api)
      const cli = run(['--once', '--json', '--metrics-addr', '0', '--probe-addr', '0', ...c.flags, ...args], env)
      const {code} = await cli.exited
      expect(code, cli.stderr()).toBe(0)
      const {events, tallies} = split(parseNdjson(cli.lines))
      for (const resource of RESOURCES) {
        const lines = events.get(resource) ?? []
        expect(
          lines.every((l) => l.type === 'ADDED'),
          `${resource}: only ADDED lines`,
        ).toBe(true)
        const byId = new Map(lines.map((l) => [l.id, l.updated_at]))
        expect(byId.size, `${resource}: one line per object`).toBe(lines.length)
        expect(byId).toEqual(new Map(api.store.all(resource).map((o) => [o.id, o.updated_at])))
        expect(tallies.get(resource)).toEqual({type: 'TALLY', resource, added: counts[resource], modified: 0, deleted: 0})
      }
    })
  }
})

describe('ambient run --mode test: SIGTERM during the initial sync of 20k sessions', () => {
  const cases = [
    // The first line is a session: the list is done, 20k lines and reconciles are under way.
    {name: 'at the first session line', projects: 0},
    // A few projects sync (and print) first, so SIGTERM lands while the sessions are paging.
    {name: 'while the sessions are still paging', projects: 5},
  ]
  for (const c of cases) {
    it(`${c.name}: exits 0 within 5 s, with the TALLY lines`, async () => {
      const api = await seededServer({sessions: 20_000, projects: c.projects, project_settings: 0})
      const {args, env} = against(api)
      const cli = run(['--json', '--metrics-addr', '0', '--probe-addr', '0', ...args], env)
      const first = await Promise.race([cli.firstLine, cli.exited.then(() => undefined)])
      expect(first, `exited before printing anything: ${cli.stderr()}`).toBeDefined()
      const signalled = performance.now()
      cli.child.kill('SIGTERM')
      const {code, signal, at} = await cli.exited
      const ms = at - signalled
      expect({code, signal}, cli.stderr().slice(-3000)).toEqual({code: 0, signal: null})
      // A bound from the issue (the exit contract), not a speed measurement.
      expect(ms, `exit took ${Math.round(ms)} ms after SIGTERM`).toBeLessThan(5000)
      const {events, tallies} = split(parseNdjson(cli.lines))
      for (const resource of RESOURCES) {
        // Every event printed is counted, and nothing is printed that was not counted.
        const lines = events.get(resource) ?? []
        expect(tallies.get(resource)).toEqual({type: 'TALLY', resource, added: lines.length, modified: 0, deleted: 0})
      }
      expect(tallies.get('projects')?.added).toBe(c.projects)
      // The list is applied whole or not at all: never a part of it.
      expect([0, 20_000]).toContain(tallies.get('sessions')?.added)
    })
  }
})

describe('ambient run --mode test: metrics and probes', () => {
  it('/readyz fails until the informers have synced, /healthz passes, /metrics has informer and work queue series', async () => {
    const [metricsPort, probePort, apiPort, grpcPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
    // The API server is not up yet: the informers cannot list, so the process is not ready.
    const cli = run(
      [
        '--json',
        '--metrics-addr',
        `127.0.0.1:${metricsPort}`,
        '--probe-addr',
        `127.0.0.1:${probePort}`,
        '--server',
        `http://127.0.0.1:${apiPort}`,
        '--token',
        TOKEN,
      ],
      {AMBIENT_GRPC_SERVER_ADDR: `127.0.0.1:${grpcPort}`},
    )
    const probe = `http://127.0.0.1:${probePort}`
    const get = async (url: string): Promise<{status: number; body: string} | undefined> => {
      try {
        const res = await fetch(url)
        return {status: res.status, body: await res.text()}
      } catch {
        return undefined // not listening yet
      }
    }
    let health: {status: number; body: string} | undefined
    const deadline = Date.now() + 20_000
    while (!(health = await get(`${probe}/healthz`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(health?.status, cli.stderr().slice(-2000)).toBe(200)
    const notReady = await get(`${probe}/readyz`)
    expect(notReady?.status).toBe(500)
    expect(notReady?.body).toContain('[-]informer-sessions failed: initial list not done')

    // Now the server comes up, with objects; the informers' retries find it.
    const counts: Record<ResourceName, number> = {sessions: 321, projects: 4, project_settings: 2}
    await seededServer(counts, {port: apiPort, grpcPort})
    let ready: {status: number; body: string} | undefined
    const readyDeadline = Date.now() + 45_000
    while ((ready = await get(`${probe}/readyz?verbose`))?.status !== 200 && Date.now() < readyDeadline) await new Promise((r) => setTimeout(r, 100))
    expect(ready?.status, `${ready?.body}\n${cli.stderr().slice(-2000)}`).toBe(200)
    for (const resource of RESOURCES) expect(ready?.body).toContain(`[+]informer-${resource} ok`)
    expect((await get(`${probe}/healthz`))?.status).toBe(200)

    const metrics = await get(`http://127.0.0.1:${metricsPort}/metrics`)
    expect(metrics?.status).toBe(200)
    const body = metrics?.body ?? ''
    for (const resource of RESOURCES) {
      expect(body).toContain(`ambient_informer_events_total{resource="${resource}",type="ADDED"} ${counts[resource]}`)
      expect(body).toMatch(new RegExp(`^workqueue_depth\\{name="${resource}"\\} \\d+$`, 'm'))
    }

    cli.child.kill('SIGTERM')
    const {code} = await cli.exited
    expect(code, cli.stderr().slice(-2000)).toBe(0)
    const {tallies} = split(parseNdjson(cli.lines))
    for (const resource of RESOURCES) expect(tallies.get(resource)).toMatchObject({added: counts[resource]})
  })
})
