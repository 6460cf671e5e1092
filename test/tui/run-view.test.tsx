import {render} from 'ink-testing-library'
import {afterEach, describe, expect, it} from 'vitest'
import {cleanup} from 'ink-testing-library'
import type {ResourceStats, RunSnapshot} from '../../src/lib/tui/model.js'
import {RunView} from '../../src/lib/tui/run-view.js'
import {strip} from './terminal.js'

const NOW = Date.parse('2025-06-01T12:00:00Z')

function stats(resource: string, extra: Partial<ResourceStats> = {}): ResourceStats {
  return {
    resource,
    added: 0,
    modified: 0,
    deleted: 0,
    eventsPerSecond: 0,
    queueDepth: 0,
    inFlight: 0,
    cacheSize: 0,
    connection: 'watching',
    synced: true,
    reconnects: 0,
    ...extra,
  }
}

function snapshot(extra: Partial<RunSnapshot> = {}): RunSnapshot {
  return {
    mode: 'kube',
    startedAt: NOW - (5 * 60_000 + 3_000),
    apiServer: 'http://127.0.0.1:8000',
    resources: [
      stats('sessions', {
        added: 11,
        modified: 22,
        deleted: 3,
        eventsPerSecond: 4.5,
        queueDepth: 7,
        inFlight: 2,
        cacheSize: 42,
        reconciles: {ok: 91, error: 5, retries: 6},
      }),
      stats('projects', {
        added: 13,
        modified: 14,
        deleted: 1,
        cacheSize: 17,
        connection: 'backoff',
        synced: false,
        reconnects: 8,
        lastError: 'connect ECONNREFUSED 127.0.0.1:8000\n    at TCPConnectWrap',
      }),
    ],
    leader: 'leading',
    ...extra,
  }
}

/** The value under `header` in the line after the header line (right-aligned numbers end under the header). */
function cellUnder(frame: string, titleLine: string, header: string): string {
  const lines = frame.split('\n')
  const title = lines.findIndex((l) => l.includes(titleLine))
  const headerLine = lines.slice(title).find((l) => l.includes(header.toUpperCase()))
  if (!headerLine) throw new Error(`no ${header} header after ${titleLine}`)
  const valueLine = lines[lines.indexOf(headerLine, title) + 1]
  const end = headerLine.indexOf(header.toUpperCase()) + header.length
  const start = headerLine.lastIndexOf(' ', headerLine.indexOf(header.toUpperCase())) + 1
  return valueLine.slice(start, end).trim()
}

afterEach(() => cleanup())

describe('RunView', () => {
  it('shows the header with mode, API server, uptime and leader state', () => {
    const frame = strip(render(<RunView snapshot={snapshot({proxyUrl: 'http://127.0.0.1:9100'})} now={NOW} columns={100} />).lastFrame())
    expect(frame).toContain('ambient run')
    expect(frame).toContain('mode kube')
    expect(frame).toContain('up 5m03s')
    expect(frame).toContain('leader leading')
    expect(frame).toContain('api http://127.0.0.1:8000')
    expect(frame).toContain('proxy http://127.0.0.1:9100')
    expect(frame).not.toContain('stopping')
    expect(frame).not.toContain('runners')
  })

  it("shows every resource's counts, connection state and sync state", () => {
    const frame = strip(render(<RunView snapshot={snapshot()} now={NOW} columns={100} />).lastFrame())
    expect(frame).toMatch(/sessions\s+watching\s+synced/)
    expect(frame).toMatch(/projects\s+backoff\s+not synced/)
    const expected: Record<string, Record<string, string>> = {
      sessions: {
        cache: '42',
        added: '11',
        modified: '22',
        deleted: '3',
        'events/s': '4.5',
        queue: '7',
        'in-flight': '2',
        ok: '91',
        errors: '5',
        retries: '6',
        reconnects: '0',
      },
      projects: {cache: '17', added: '13', modified: '14', deleted: '1', 'events/s': '0', queue: '0', 'in-flight': '0', reconnects: '8'},
    }
    for (const [resource, cells] of Object.entries(expected)) {
      for (const [header, value] of Object.entries(cells)) expect(cellUnder(frame, resource, header), `${resource} ${header}`).toBe(value)
    }
    // The last error is on one line and only for the resource that has one.
    expect(frame).toContain('last error: connect ECONNREFUSED 127.0.0.1:8000 at TCPConnectWrap')
    expect(frame.match(/last error/g)).toHaveLength(1)
    // No reconcile columns for a resource without reconciles.
    const projectsBlock = frame.slice(frame.indexOf('projects'))
    expect(projectsBlock).not.toContain('RETRIES')
  })

  it('keeps every line within the terminal width and truncates long errors', () => {
    const long = snapshot()
    long.resources[1].lastError = 'x'.repeat(300)
    const frame = strip(render(<RunView snapshot={long} now={NOW} columns={60} />).lastFrame())
    for (const line of frame.split('\n')) expect(line.length, line).toBeLessThanOrEqual(60)
    expect(frame).toContain('…')
  })

  it('shows a runners table in local mode', () => {
    const local = snapshot({
      mode: 'local',
      runners: [
        {sessionId: 'sess-aaaa', name: 'fix-the-bug', phase: 'Running', pid: 4242, port: 9311, startTime: new Date(NOW - 90_000).toISOString()},
        {sessionId: 'sess-bbbb', phase: '', pid: 4243, port: 9312, startTime: new Date(NOW - 2_000).toISOString()},
      ],
    })
    const frame = strip(render(<RunView snapshot={local} now={NOW} columns={100} />).lastFrame())
    expect(frame).toContain('runners (2)')
    expect(frame).toMatch(/SESSION\s+NAME\s+PHASE\s+PID\s+PORT\s+UPTIME/)
    expect(frame).toMatch(/sess-aaaa\s+fix-the-bug\s+Running\s+4242\s+9311\s+90s/)
    expect(frame).toMatch(/sess-bbbb\s+<none>\s+<none>\s+4243\s+9312\s+2s/)
  })

  it('says there are no runners yet in local mode', () => {
    const frame = strip(render(<RunView snapshot={snapshot({mode: 'local', runners: []})} now={NOW} columns={100} />).lastFrame())
    expect(frame).toContain('runners (0)')
    expect(frame).toContain('none')
  })

  it('shows a stopping banner, and it updates in place on rerender', () => {
    const view = render(<RunView snapshot={snapshot()} now={NOW} columns={100} />)
    expect(strip(view.lastFrame())).not.toContain('stopping…')
    view.rerender(<RunView snapshot={snapshot({stopping: true, stoppingDetail: 'draining 2 workers'})} now={NOW + 1000} columns={100} />)
    const frame = strip(view.lastFrame())
    expect(frame).toContain('■ stopping… draining 2 workers')
    expect(frame).toContain('up 5m04s')
  })

  it('shows the quit key hint only when keys are read', () => {
    expect(strip(render(<RunView snapshot={snapshot()} now={NOW} columns={100} keysEnabled />).lastFrame())).toContain('q quit')
    expect(strip(render(<RunView snapshot={snapshot()} now={NOW} columns={100} />).lastFrame())).not.toContain('q quit')
  })
})
