// One runner type from the registry to every view: views carry no token, whatever they were
// built from, and `runners ls` reports each record's liveness, health and owner.
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {SESSION_TOKEN_HEADER, describeRunners, runnerView, type RunnerRecord} from '../../src/lib/process/index.js'
import {runnerRecord} from './helpers.js'

const SECRET = 'tok-never-shown-4f2a'

function record(overrides: Partial<RunnerRecord> = {}): RunnerRecord {
  return runnerRecord({
    startTime: '2026-01-01T00:00:00.000Z',
    token: SECRET,
    stdoutPipe: '/tmp/p/abc.out',
    stderrPipe: '/tmp/p/abc.err',
    ...overrides,
  })
}

const servers: http.Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

/** A runner's /health on 127.0.0.1 that answers 200 only to its token. */
async function healthServer(token: string): Promise<number> {
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === '/health' && req.headers[SESSION_TOKEN_HEADER.toLowerCase()] === token ? 200 : 401
    res.end()
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

describe('runnerView', () => {
  it('keeps what may be shown and nothing else: no token, no bookkeeping, even from a record', () => {
    const view = runnerView(record())
    expect(Object.keys(view).sort()).toEqual(['command', 'pgid', 'pid', 'port', 'sessionId', 'startTime', 'workspace'])
    expect(JSON.stringify(view)).not.toContain(SECRET)
  })
})

describe('describeRunners', () => {
  it('reports liveness, health with the runner token, owner and uptime, never the token', async () => {
    const port = await healthServer(SECRET)
    const records = [
      record({sessionId: 'healthy', port, ownerPid: process.ppid}),
      record({sessionId: 'dead', port}),
      record({sessionId: 'bad-start', port, startTime: 'not a time'}),
    ]
    const registry = {list: async () => records, isAlive: async (r: RunnerRecord) => r.sessionId !== 'dead'}
    const now = Date.parse('2026-01-01T00:02:05.900Z')
    const rows = await describeRunners(registry, {now: () => now})
    expect(rows.map((r) => [r.sessionId, r.alive, r.healthy, r.uptimeSeconds, r.ownerAlive])).toEqual([
      ['healthy', true, true, 125, true],
      // Not probed when dead; this process is never reported as a live owner (it is not supervising).
      ['dead', false, undefined, 125, false],
      ['bad-start', true, true, undefined, false],
    ])
    expect(rows[0]).toMatchObject({pid: 4242, pgid: 4242, port, workspace: '/tmp/ws/abc', command: 'python local_entry.py', ownerPid: process.ppid})
    expect(JSON.stringify(rows)).not.toContain(SECRET)
    expect(JSON.stringify(rows)).not.toContain('stdoutPipe')
  })
})
