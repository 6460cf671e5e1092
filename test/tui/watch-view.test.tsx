import {cleanup, render} from 'ink-testing-library'
import {afterEach, describe, expect, it} from 'vitest'
import {WatchModel, WatchView} from '../../src/lib/tui/watch-view.js'
import type {WatchObject} from '../../src/lib/tui/watch-model.js'
import {strip, until} from './terminal.js'

const T0 = Date.parse('2025-06-01T12:00:00Z')

function session(id: string, extra: Partial<WatchObject> = {}): WatchObject {
  return {id, name: `name-${id}`, phase: 'Pending', project_id: 'proj-1', created_at: new Date(T0 - 3_600_000).toISOString(), ...extra}
}

function setup(options: {logLimit?: number} = {}) {
  let t = T0
  const model = new WatchModel({now: () => t, highlightMs: 2000, logLimit: options.logLimit})
  return {model, now: () => t, advance: (ms: number) => void (t += ms)}
}

/** Table rows: lines holding one of the given ids (the event log is below the "events" line). */
function tableLines(frame: string): string[] {
  const lines = frame.split('\n')
  const header = lines.findIndex((l) => /ID\s+NAME\s+PHASE\s+PROJECT\s+AGE\s+LAST-CHANGE/.test(l))
  const end = lines.findIndex((l, i) => i > header && l.startsWith('events'))
  return lines.slice(header + 1, end < 0 ? undefined : end)
}

afterEach(() => cleanup())

describe('WatchView', () => {
  it('renders a table with the columns and a status line', () => {
    const {model, now} = setup()
    model.apply({type: 'ADDED', object: session('s1', {name: 'alpha', phase: 'Running'})}, {initial: true})
    model.apply({type: 'ADDED', object: session('s2', {name: 'bravo'})}, {initial: true})
    model.setConnection('watching')
    const frame = strip(render(<WatchView model={model} title="sessions" now={now()} columns={100} rows={30} />).lastFrame())
    expect(frame).toMatch(/^sessions\s+watching\s+2 shown\s+Pending 1\s+Running 1\s+\+0 ~0 -0/)
    expect(frame).toMatch(/ID\s+NAME\s+PHASE\s+PROJECT\s+AGE\s+LAST-CHANGE/)
    expect(tableLines(frame)).toHaveLength(2)
    expect(frame).toMatch(/s1\s+alpha\s+Running\s+proj-1\s+60m\s+ADDED 0s ago/)
    expect(frame).toMatch(/s2\s+bravo\s+Pending\s+proj-1\s+60m/)
    expect(frame).toContain('events: none yet')
  })

  it('updates a row in place on MODIFIED: same row count, new content, a change mark while highlighted', () => {
    const {model, now, advance} = setup()
    model.apply({type: 'ADDED', object: session('s1', {name: 'alpha'})}, {initial: true})
    model.apply({type: 'ADDED', object: session('s2', {name: 'bravo'})}, {initial: true})
    const view = render(<WatchView model={model} title="sessions" now={now()} columns={100} rows={30} />)
    const before = strip(view.lastFrame())

    advance(1000)
    model.apply({type: 'MODIFIED', object: session('s1', {name: 'alpha', phase: 'Running'})})
    view.rerender(<WatchView model={model} title="sessions" now={now()} columns={100} rows={30} />)
    const after = strip(view.lastFrame())
    expect(after).not.toBe(before)
    expect(tableLines(after)).toHaveLength(tableLines(before).length)
    expect(tableLines(after)[0]).toMatch(/^~\s+s1\s+alpha\s+Running\s+.*MODIFIED 0s ago/)
    expect(tableLines(after)[1]).toMatch(/^\s+s2\s+bravo\s+Pending/)
    expect(after).toMatch(/events\n\d\d:\d\d:\d\d\s+MODIFIED\s+s1\s+alpha\s+phase Pending → Running/)

    // The mark goes away when the highlight expires.
    advance(2000)
    view.rerender(<WatchView model={model} title="sessions" now={now()} columns={100} rows={30} />)
    expect(tableLines(strip(view.lastFrame()))[0]).toMatch(/^\s+s1\s+alpha\s+Running\s+.*MODIFIED 2s ago/)
  })

  it('redraws by itself when the model changes', async () => {
    const {model, now} = setup()
    const view = render(<WatchView model={model} title="sessions" now={now()} columns={100} rows={30} />)
    expect(strip(view.lastFrame())).toContain('no matching objects')
    model.apply({type: 'ADDED', object: session('s9', {name: 'zulu'})})
    await until(() => strip(view.lastFrame()).includes('zulu'), 'the added row')
    expect(tableLines(strip(view.lastFrame()))[0]).toMatch(/^\+\s+s9\s+zulu/)
  })

  it('shows a DELETED row marked, then drops it after the highlight', () => {
    const {model, now, advance} = setup()
    model.apply({type: 'ADDED', object: session('s1')}, {initial: true})
    model.apply({type: 'ADDED', object: session('s2')}, {initial: true})
    model.apply({type: 'DELETED', id: 's1'})
    const view = render(<WatchView model={model} title="sessions" now={now()} columns={100} rows={30} />)
    expect(tableLines(strip(view.lastFrame()))[0]).toMatch(/^-\s+s1\s+name-s1\s+.*DELETED/)
    advance(2000)
    view.rerender(<WatchView model={model} title="sessions" now={now()} columns={100} rows={30} />)
    const frame = strip(view.lastFrame())
    expect(tableLines(frame)).toHaveLength(1)
    expect(tableLines(frame)[0]).toContain('s2')
    // Still in the event log.
    expect(frame).toMatch(/DELETED\s+s1/)
  })

  it('shows the newest log lines under the table and fits the terminal height', () => {
    const {model, now} = setup({logLimit: 50})
    for (let i = 0; i < 30; i++) model.apply({type: 'ADDED', object: session(`s${String(i).padStart(2, '0')}`)})
    const frame = strip(render(<WatchView model={model} title="sessions" now={now()} columns={100} rows={20} logLines={4} />).lastFrame())
    const lines = frame.split('\n')
    expect(lines.length).toBeLessThanOrEqual(19)
    expect(frame).toMatch(/… \d+ more/)
    const log = lines.slice(lines.indexOf('events') + 1)
    expect(log.map((l) => l.match(/ADDED\s+(s\d+)/)?.[1])).toEqual(['s26', 's27', 's28', 's29'])
  })

  it('shows filters in the status line and only matching rows', () => {
    let t = T0
    const model = new WatchModel({now: () => t, filters: {project: 'proj-2'}})
    model.apply({type: 'ADDED', object: session('s1')})
    model.apply({type: 'ADDED', object: session('s2', {project_id: 'proj-2'})})
    t += 10
    const frame = strip(render(<WatchView model={model} title="sessions" now={t} columns={100} rows={30} />).lastFrame())
    expect(frame).toMatch(/1 of 2 shown/)
    expect(frame).toContain('[project=proj-2]')
    expect(tableLines(frame)).toHaveLength(1)
    expect(tableLines(frame)[0]).toContain('s2')
  })

  it('keeps rows within a narrow terminal', () => {
    const {model, now} = setup()
    model.apply({type: 'ADDED', object: session('01HZX3K8Q2M4N5P6R7S8T9V0WX', {name: 'a-really-long-session-name-that-goes-on'})})
    model.setConnection('backoff', 'connect ECONNREFUSED 127.0.0.1:8000')
    const frame = strip(render(<WatchView model={model} title="sessions" now={now()} columns={50} rows={30} />).lastFrame())
    for (const line of frame.split('\n')) expect(line.length, line).toBeLessThanOrEqual(50)
    expect(frame).toContain('backoff')
    expect(frame).toContain('last error: connect ECONNREFUSED')
  })
})
