import {describe, expect, it} from 'vitest'
import {WatchModel, type WatchObject} from '../../src/lib/tui/watch-model.js'

function clock(start = Date.parse('2025-06-01T12:00:00Z')) {
  let t = start
  return {now: () => t, advance: (ms: number) => void (t += ms)}
}

function session(id: string, extra: Partial<WatchObject> = {}): WatchObject {
  return {id, name: `name-${id}`, phase: 'Pending', project_id: 'p1', created_at: '2025-06-01T11:00:00.000000Z', ...extra}
}

describe('WatchModel', () => {
  it('keeps the latest version of each object and sorts by name', () => {
    const c = clock()
    const model = new WatchModel({now: c.now})
    model.apply({type: 'ADDED', object: session('b', {name: 'bravo'})})
    model.apply({type: 'ADDED', object: session('a', {name: 'alpha'})})
    model.apply({type: 'MODIFIED', object: session('b', {name: 'bravo', phase: 'Running'})})
    expect(model.rows().map((r) => [r.name, r.phase, r.lastChange])).toEqual([
      ['alpha', 'Pending', 'ADDED'],
      ['bravo', 'Running', 'MODIFIED'],
    ])
  })

  it('sorts by creation time when asked', () => {
    const model = new WatchModel({sortBy: 'created'})
    model.apply({type: 'ADDED', object: session('1', {name: 'zulu', created_at: '2025-06-01T10:00:00.000000Z'})})
    model.apply({type: 'ADDED', object: session('2', {name: 'alpha', created_at: '2025-06-01T11:00:00.000000Z'})})
    model.apply({type: 'ADDED', object: session('3', {name: 'mike', created_at: undefined})})
    expect(model.rows().map((r) => r.name)).toEqual(['zulu', 'alpha', 'mike'])
    model.setSort('name')
    expect(model.rows().map((r) => r.name)).toEqual(['alpha', 'mike', 'zulu'])
  })

  it('accepts the API vocabulary: CREATED, UPDATED and a DELETED with only an id', () => {
    const c = clock()
    const model = new WatchModel({now: c.now, highlightMs: 2000})
    model.apply({type: 'CREATED', id: 'x', object: session('x')})
    model.apply({type: 'UPDATED', id: 'x', object: session('x', {phase: 'Running'})})
    expect(model.rows()[0].lastChange).toBe('MODIFIED')
    model.apply({type: 'DELETED', id: 'x'})
    const [row] = model.rows()
    expect(row.lastChange).toBe('DELETED')
    expect(row.name).toBe('name-x')
    expect(row.phase).toBe('Running')
    expect(model.log().map((l) => [l.type, l.detail])).toEqual([
      ['ADDED', 'phase Pending'],
      ['MODIFIED', 'phase Pending → Running'],
      ['DELETED', 'was Running'],
    ])
  })

  it('filters by project, phase (comma list, any case) and name (substring or glob)', () => {
    const model = new WatchModel()
    model.apply({type: 'ADDED', object: session('1', {name: 'fix-login-bug', phase: 'Running', project_id: 'web'})})
    model.apply({type: 'ADDED', object: session('2', {name: 'write-docs', phase: 'Pending', project_id: 'web'})})
    model.apply({type: 'ADDED', object: session('3', {name: 'fix-ci', phase: 'Failed', project_id: 'infra'})})
    const ids = () => model.rows().map((r) => r.id)

    model.setFilters({project: 'web'})
    expect(ids()).toEqual(['1', '2'])
    model.setFilters({phase: 'running,FAILED'})
    expect(ids()).toEqual(['3', '1'])
    model.setFilters({name: 'LOGIN'})
    expect(ids()).toEqual(['1'])
    model.setFilters({name: 'fix-*'})
    expect(ids()).toEqual(['3', '1'])
    model.setFilters({name: 'fix-c?'})
    expect(ids()).toEqual(['3'])
    // A glob matches the whole name, so a bare prefix glob does not match in the middle.
    model.setFilters({name: 'login*'})
    expect(ids()).toEqual([])
    model.setFilters({project: 'web', phase: 'Pending'})
    expect(ids()).toEqual(['2'])
    expect(model.counts()).toMatchObject({shown: 1, total: 3, byPhase: {Pending: 1}})
  })

  it('moves a row in and out of a phase filter as it changes, and logs both transitions', () => {
    const model = new WatchModel({filters: {phase: 'Running'}})
    model.apply({type: 'ADDED', object: session('1', {phase: 'Pending'})})
    model.apply({type: 'ADDED', object: session('2', {phase: 'Pending', project_id: 'other'})})
    expect(model.rows()).toEqual([])
    expect(model.log()).toHaveLength(0)
    model.apply({type: 'MODIFIED', object: session('1', {phase: 'Running'})})
    expect(model.rows().map((r) => r.id)).toEqual(['1'])
    model.apply({type: 'MODIFIED', object: session('1', {phase: 'Completed'})})
    expect(model.rows()).toEqual([])
    expect(model.log().map((l) => l.detail)).toEqual(['phase Pending → Running', 'phase Running → Completed'])
    expect(model.counts().events).toEqual({ADDED: 0, MODIFIED: 2, DELETED: 0})
  })

  it('highlights a changed row until the highlight expires (injected clock)', () => {
    const c = clock()
    const model = new WatchModel({now: c.now, highlightMs: 2000})
    model.apply({type: 'ADDED', object: session('1')})
    expect(model.rows()[0].highlighted).toBe(true)
    c.advance(1999)
    expect(model.rows()[0].highlighted).toBe(true)
    c.advance(1)
    expect(model.rows()[0].highlighted).toBe(false)
    model.apply({type: 'MODIFIED', object: session('1', {phase: 'Running'})})
    expect(model.rows()[0]).toMatchObject({highlighted: true, lastChange: 'MODIFIED', changedAt: c.now()})
    // rows() also takes an explicit instant.
    expect(model.rows(c.now() + 5000)[0].highlighted).toBe(false)
  })

  it('shows a DELETED row highlighted, then removes it after the highlight', () => {
    const c = clock()
    const model = new WatchModel({now: c.now, highlightMs: 2000})
    model.apply({type: 'ADDED', object: session('1')})
    model.apply({type: 'ADDED', object: session('2')})
    c.advance(5000)
    model.apply({type: 'DELETED', object: session('1')})
    expect(model.rows().map((r) => [r.id, r.lastChange, r.highlighted])).toEqual([
      ['1', 'DELETED', true],
      ['2', 'ADDED', false],
    ])
    expect(model.counts().shown).toBe(1)
    c.advance(2000)
    expect(model.rows().map((r) => r.id)).toEqual(['2'])
    // Re-created with the same id: a new row.
    model.apply({type: 'ADDED', object: session('1')})
    expect(model.rows().map((r) => r.id)).toEqual(['1', '2'])
  })

  it('stores the initial list without highlights or log lines', () => {
    const model = new WatchModel()
    model.apply({type: 'ADDED', object: session('1')}, {initial: true})
    model.apply({type: 'ADDED', object: session('2')}, {initial: true})
    expect(model.rows().map((r) => r.highlighted)).toEqual([false, false])
    expect(model.log()).toHaveLength(0)
  })

  it('bounds the log to the newest lines', () => {
    const model = new WatchModel({logLimit: 5})
    for (let i = 0; i < 12; i++) model.apply({type: 'ADDED', object: session(String(i))})
    expect(model.log().map((l) => l.id)).toEqual(['7', '8', '9', '10', '11'])
    expect(model.counts().events.ADDED).toBe(12)
  })

  it('logs a delete of an unknown object only when no filter could have excluded it', () => {
    const model = new WatchModel()
    model.apply({type: 'DELETED', id: 'ghost'})
    expect(model.rows()).toEqual([])
    expect(model.log().map((l) => l.id)).toEqual(['ghost'])
    const filtered = new WatchModel({filters: {project: 'p1'}})
    filtered.apply({type: 'DELETED', id: 'ghost'})
    expect(filtered.log()).toHaveLength(0)
  })

  it('notifies subscribers of every change and stops after unsubscribe', () => {
    const model = new WatchModel()
    let calls = 0
    const unsubscribe = model.subscribe(() => calls++)
    const before = model.getVersion()
    model.apply({type: 'ADDED', object: session('1')})
    model.setConnection('watching')
    model.setConnection('watching')
    expect(calls).toBe(2)
    expect(model.getVersion()).toBe(before + 2)
    unsubscribe()
    model.setFilters({phase: 'Running'})
    expect(calls).toBe(2)
    model.apply({type: 'ADDED'})
    expect(model.rows()).toEqual([])
  })
})
