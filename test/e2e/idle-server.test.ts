// `ambient run` in each mode, as a real process, against the grpc-go-like stand-in of the
// real server on which nothing changes: its watch streams send no headers and no message,
// ever. Everything that exists at start must be listed and reconciled all the same.
import path from 'node:path'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {Session} from '../../src/lib/api/types.js'
import {startFakeKube} from '../fake-kube/index.js'
import {FIXTURE, killGroups, randomPortRange} from '../local/harness.js'
import {GoLikeServer} from '../conformance/go-like-server.js'
import {assertBuilt, ensureDead, freePort, parseNdjson, startCli, tempDir, type CliProcess} from './cli.js'
import {waitFor} from './helpers.js'

const cleanups: (() => unknown)[] = []
beforeAll(() => assertBuilt())
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function idleServer(sessions: number, spec: (i: number) => Partial<Session> = () => ({})): Promise<GoLikeServer> {
  const server = await GoLikeServer.start()
  cleanups.push(() => server.close())
  server.store.transaction(() => {
    for (let i = 0; i < sessions; i++) server.store.create('sessions', {name: `idle-${i}`, prompt: `task ${i}`, ...spec(i)})
  })
  return server
}

function run(server: GoLikeServer, mode: 'test' | 'kube' | 'local', args: string[], env: Record<string, string> = {}): CliProcess {
  const config = tempDir('config')
  const state = tempDir('state')
  cleanups.push(() => {
    config.remove()
    state.remove()
  })
  const cli = startCli(['run', '--mode', mode, '--server', server.url, '--token', server.token, ...args], {
    AMBIENT_GRPC_SERVER_ADDR: server.grpcAddress,
    AMBIENT_CONFIG_DIR: config.dir,
    AMBIENT_STATE_DIR: state.dir,
    ...env,
  })
  cleanups.push(() => ensureDead(cli))
  return cli
}

/** id -> updated_at as the process's NDJSON events leave it. */
function replayLines(lines: readonly string[], resource: string): Map<string, string> {
  const state = new Map<string, string>()
  for (const line of parseNdjson(lines)) {
    if (line.resource !== resource) continue
    if (line.type === 'DELETED') state.delete(String(line.id))
    else if (line.type === 'ADDED' || line.type === 'MODIFIED') state.set(String(line.id), String(line.updated_at))
  }
  return state
}

const sorted = (m: Map<string, string>) => JSON.stringify([...m].sort())

describe('ambient run against an idle grpc-go-like server (no headers, no events, ever)', () => {
  it('--mode test --once: 10,000 sessions, nothing changes: exits 0 with one ADDED line per object', async () => {
    const server = await idleServer(10_000)
    const cli = run(server, 'test', ['--once', '--json', '--metrics-addr', '0', '--probe-addr', '0'])
    const {code} = await cli.exited
    expect(code, cli.stderr().slice(-2000)).toBe(0)
    const lines = parseNdjson(cli.lines)
    expect(lines.filter((l) => l.type === 'ADDED' && l.resource === 'sessions')).toHaveLength(10_000)
    expect(lines.find((l) => l.type === 'TALLY' && l.resource === 'sessions')).toMatchObject({added: 10_000, modified: 0, deleted: 0})
    // Nothing ever arrived on a stream, and the process did not wait for anything to.
    expect(server.watchCalls).toBeGreaterThanOrEqual(1)
  })

  it('--mode test: /readyz turns ready with nothing changing, and an outage with changes in its window loses nothing', async () => {
    const server = await idleServer(500)
    const probe = await freePort()
    const cli = run(server, 'test', ['--json', '--metrics-addr', '0', '--probe-addr', `127.0.0.1:${probe}`])
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${probe}/readyz`).catch(() => undefined))?.status === 200,
      () => `/readyz\n${cli.stderr().slice(-2000)}`,
      60_000,
    )
    const state = () => new Map(server.store.all('sessions').map((s) => [s.id, s.updated_at]))
    // Ready means listed: every session's line is written (it may still be on its way here).
    await waitFor(() => sorted(replayLines(cli.lines, 'sessions')) === sorted(state()), 'every session on stdout')

    // An outage: changes while the stream is down and while the new one is not yet registered.
    await waitFor(() => server.registeredStreams() === 3, 'the three streams to be registered')
    server.holdRegistrations = true
    const calls = server.watchCalls
    server.killStreams()
    const [a, b] = server.store.all('sessions')
    server.store.update('sessions', a.id, {prompt: 'changed while down'})
    server.store.create('sessions', {name: 'created while down'})
    await waitFor(() => server.watchCalls >= calls + 3, 'the reconnects')
    server.store.delete('sessions', b.id)
    server.store.create('sessions', {name: 'created before registration'})
    await waitFor(() => server.releaseRegistrations() > 0, 'the held registrations')
    server.holdRegistrations = false
    server.releaseRegistrations()
    await waitFor(
      () => sorted(replayLines(cli.lines, 'sessions')) === sorted(state()),
      () => `the events to match the server\n${cli.stderr().slice(-2000)}`,
      60_000,
    )
    cli.child.kill('SIGTERM')
    expect((await cli.exited).code).toBe(0)
  })

  it('--mode kube: every session that existed at start becomes an AgenticSession, nothing changing', async () => {
    const server = await idleServer(40, (i) => ({project_id: i % 2 === 0 ? 'alpha' : 'beta'}))
    for (const name of ['alpha', 'beta']) server.store.create('projects', {name})
    const kube = await startFakeKube({namespaces: ['default', 'ambient-code']})
    cleanups.push(() => kube.close())
    const cli = run(server, 'kube', ['--json', '--kubeconfig', kube.kubeconfigPath, '--metrics-addr', '0', '--probe-addr', '0'], {
      NAMESPACE: 'ambient-code',
    })
    await waitFor(
      () => kube.list('agenticsessions').length === 40,
      () => `40 CRs\n${cli.stderr().slice(-2000)}`,
      60_000,
    )
    for (const s of server.store.all('sessions')) {
      const namespace = s.project_id ?? 'default'
      expect(kube.get('agenticsessions', namespace, (s.kube_cr_name ?? s.id).toLowerCase()), `CR of ${s.name}`).toBeDefined()
    }
    // And the status is copied back: every session learns its CR's uid.
    await waitFor(() => server.store.all('sessions').every((s) => s.kube_cr_uid), 'the CR uids written back', 60_000)
    cli.child.kill('SIGTERM')
    expect((await cli.exited).code).toBe(0)
  })

  it('--mode local: every session that existed at start, created the real way (kube_cr_name = id), turns Running', {timeout: 120_000}, async () => {
    // The fixture runner serves /health when its prompt says `serve`.
    const server = await idleServer(3, () => ({prompt: 'serve'}))
    for (const s of server.store.all('sessions')) expect(s.kube_cr_name).toBe(s.id)
    const work = tempDir('local')
    cleanups.push(() => work.remove())
    const ports = randomPortRange()
    const pids = new Set<number>()
    cleanups.push(() => killGroups(pids))
    const cli = run(server, 'local', ['--json', '--metrics-addr', '0', '--probe-addr', '0'], {
      LOCAL_WORKSPACE_ROOT: path.join(work.dir, 'workspaces'),
      LOCAL_RUNNER_COMMAND: `${process.execPath} ${FIXTURE}`,
      LOCAL_PORT_RANGE: `${ports.from}-${ports.to}`,
      LOCAL_PROXY_ADDR: '127.0.0.1:0',
    })
    await waitFor(
      () => server.store.all('sessions').every((s) => s.phase === 'Running'),
      () => `every session Running\n${cli.stderr().slice(-2000)}`,
      60_000,
    )
    cli.child.kill('SIGTERM')
    expect((await cli.exited).code).toBe(0)
  })
})
