import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {Store, type ChangeEvent} from '../../src/lib/server/store.js'
import {SqliteBacking} from '../../src/lib/server/sqlite.js'
import {STORE_RESOURCES, SCHEMAS} from '../../src/lib/server/schema.js'
import {compileSearch} from '../../src/lib/server/search.js'
import {KsuidGenerator} from '../../src/lib/server/ids.js'
import {ApiServerError} from '../../src/lib/server/errors.js'
import {Table} from '../../src/lib/server/table.js'

const BASE = '/api/ambient/v1'

function fixedClock(start = '2026-01-01T00:00:00.000000Z'): () => string {
  // Always the same instant: the store must still hand out strictly increasing updated_at.
  return () => start
}

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof ApiServerError) return err.httpStatus
    throw err
  }
  return undefined
}

describe('KsuidGenerator', () => {
  it('makes 27-char base62 ids that stay unique when lower-cased (CR names), sorted by second', () => {
    const gen = new KsuidGenerator({now: () => 1_750_000_000_000})
    const ids = Array.from({length: 1000}, () => gen.next())
    for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z]{27}$/)
    expect(new Set(ids.map((id) => id.toLowerCase())).size).toBe(1000)
    let now = 1_750_000_000_000
    const later = new KsuidGenerator({now: () => (now += 1000)})
    const timed = Array.from({length: 50}, () => later.next())
    expect([...timed].sort()).toEqual(timed)
  })
})

describe('Store', () => {
  it('creates with meta, server defaults and strictly increasing timestamps', () => {
    const store = new Store({basePath: BASE, clock: fixedClock()})
    const a = store.create('sessions', {name: 'a'})
    const b = store.create('sessions', {name: 'b', llm_model: 'opus', llm_temperature: 0, llm_max_tokens: 1})
    expect(a).toMatchObject({
      kind: 'Session',
      href: `${BASE}/sessions/${a.id}`,
      name: 'a',
      llm_model: 'sonnet',
      llm_temperature: 0.7,
      llm_max_tokens: 4000,
    })
    expect(b).toMatchObject({llm_model: 'opus', llm_temperature: 0, llm_max_tokens: 1})
    expect(a.created_at).toBe('2026-01-01T00:00:00.000000Z')
    expect(b.created_at).toBe('2026-01-01T00:00:00.000001Z')
    const a2 = store.updateSessionStatus(a.id, {phase: 'Running'})
    expect(a2.updated_at).toBe('2026-01-01T00:00:00.000002Z')
    expect(a2.created_at).toBe(a.created_at)
  })

  it('enforces the business rules shared by REST and gRPC', () => {
    const store = new Store({basePath: BASE})
    expect(statusOf(() => store.create('sessions', {name: ''}))).toBe(400)
    const s = store.create('sessions', {name: 's'})
    expect(statusOf(() => store.update('sessions', s.id, {name: ''}))).toBe(400)
    expect(statusOf(() => store.updateSessionStatus(s.id, {}))).toBe(400)
    expect(statusOf(() => store.updateSessionStatus(s.id, {phase: 'Exploded'}))).toBe(400)
    expect(statusOf(() => store.updateSessionStatus('nope', {phase: 'Running'}))).toBe(404)
    expect(statusOf(() => store.stopSession(s.id))).toBe(409)
    expect(store.startSession(s.id).phase).toBe('Pending')
    expect(statusOf(() => store.startSession(s.id))).toBe(409)
    expect(store.stopSession(s.id).phase).toBe('Stopping')
    const p = store.create('projects', {name: 'p1'})
    expect(p.id).toBe('p1')
    store.create('project_settings', {project_id: p.id})
    expect(statusOf(() => store.create('project_settings', {project_id: p.id}))).toBe(409)
    expect(statusOf(() => store.delete('sessions', 'nope'))).toBe(404)
    // Project names: DNS-1123, 2-63 characters, unique (also after a rename).
    for (const name of ['p', 'P1', '1p', 'p-', 'p_1', 'a'.repeat(64), ''])
      expect(
        statusOf(() => store.create('projects', {name})),
        name,
      ).toBe(400)
    expect(statusOf(() => store.create('projects', {name: 'p1'}))).toBe(409)
    store.create('projects', {name: 'p2'})
    expect(statusOf(() => store.update('projects', 'p2', {name: 'p1'}))).toBe(409)
    expect(statusOf(() => store.update('projects', 'p2', {name: 'Bad'}))).toBe(400)
    expect(store.update('projects', 'p2', {name: 'p3'})).toMatchObject({id: 'p2', name: 'p3'})
    expect(statusOf(() => store.create('projects', {name: 'p3'}))).toBe(409)
    // A session never moves between projects; repeating its project is fine.
    const inP1 = store.create('sessions', {name: 'in', project_id: 'p1'})
    expect(statusOf(() => store.update('sessions', inP1.id, {project_id: 'p2'}))).toBe(400)
    expect(statusOf(() => store.update('sessions', s.id, {project_id: 'p2'}))).toBe(400)
    expect(store.update('sessions', inP1.id, {project_id: 'p1', prompt: 'x'}).prompt).toBe('x')
    // Users need a username and a name.
    expect(statusOf(() => store.create('users', {username: 'u', name: ''}))).toBe(400)
  })

  it('emits exactly one change per write, and unsubscribes', () => {
    const store = new Store({basePath: BASE})
    const events: ChangeEvent[] = []
    const off = store.on('sessions', (e) => events.push(e))
    const s = store.create('sessions', {name: 's'})
    store.update('sessions', s.id, {prompt: 'x'})
    store.updateSessionStatus(s.id, {phase: 'Failed'})
    store.startSession(s.id)
    store.stopSession(s.id)
    store.delete('sessions', s.id)
    expect(events.map((e) => e.type)).toEqual(['CREATED', 'UPDATED', 'UPDATED', 'UPDATED', 'UPDATED', 'DELETED'])
    expect(new Set(events.map((e) => e.id))).toEqual(new Set([s.id]))
    off()
    store.create('sessions', {name: 't'})
    expect(events).toHaveLength(6)
    expect(store.listenerCount('sessions')).toBe(0)
  })

  it('pages in insertion order through deletes; indexes follow moves', () => {
    const store = new Store({basePath: BASE})
    const ids = Array.from({length: 30}, (_, i) => store.create('sessions', {name: `s${i}`, project_id: i % 2 ? 'odd' : 'even'}).id)
    for (const id of ids.slice(0, 10)) store.delete('sessions', id)
    const page = store.list('sessions', {page: 2, size: 7})
    expect(page.total).toBe(20)
    expect(page.items.map((s) => s.id)).toEqual(ids.slice(17, 24))
    const odd = store.list('sessions', {page: 1, size: 100, equals: {field: 'project_id', value: 'odd'}})
    expect(odd.items.map((s) => s.id)).toEqual(ids.slice(10).filter((_, i) => i % 2 === 1))
    // An indexed value that changes and changes back (a settings object moved between
    // projects, a renamed project): the object is listed exactly once, under its value.
    const table = new Table<{id: string; project_id: string}>(['project_id'])
    for (let i = 0; i < 20; i++) table.insert({id: `t${i}`, project_id: i % 2 ? 'odd' : 'even'})
    table.replace({id: 't11', project_id: 'even'})
    table.replace({id: 't11', project_id: 'odd'})
    const odd2 = table.list({page: 1, size: 100, equals: {field: 'project_id', value: 'odd'}})
    expect(odd2.total).toBe(10)
    expect(new Set(odd2.items.map((s) => s.id)).size).toBe(10)
    const even = table.list({page: 1, size: 100, equals: {field: 'project_id', value: 'even'}})
    expect(even.items.map((s) => s.id)).not.toContain('t11')
  })

  it('sorts with NULLs last ascending and first descending, stable by insertion', () => {
    const store = new Store({basePath: BASE})
    const a = store.create('sessions', {name: 'b', timeout: 5})
    const b = store.create('sessions', {name: 'a'})
    const c = store.create('sessions', {name: 'a', timeout: 1})
    const asc = store.list('sessions', {page: 1, size: 10, orderBy: [{field: 'timeout', desc: false}]})
    expect(asc.items.map((s) => s.id)).toEqual([c.id, a.id, b.id])
    const desc = store.list('sessions', {page: 1, size: 10, orderBy: [{field: 'timeout', desc: true}]})
    expect(desc.items.map((s) => s.id)).toEqual([b.id, a.id, c.id])
    const byName = store.list('sessions', {
      page: 1,
      size: 10,
      orderBy: [
        {field: 'name', desc: false},
        {field: 'created_at', desc: true},
      ],
    })
    expect(byName.items.map((s) => s.id)).toEqual([c.id, b.id, a.id])
  })

  it('persists to SQLite and reloads everything, timestamps to the microsecond', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ambient-store-'))
    try {
      const path = join(dir, 'db.sqlite')
      const store1 = new Store({basePath: BASE, backing: await SqliteBacking.open(path, STORE_RESOURCES)})
      const s = store1.create('sessions', {name: 's', repos: '{not json', project_id: 'p1'})
      const gone = store1.create('sessions', {name: 'gone'})
      store1.updateSessionStatus(s.id, {phase: 'Running', start_time: '2026-02-03T04:05:06.123456+01:00'})
      store1.delete('sessions', gone.id)
      const p = store1.create('projects', {name: 'proj'})
      expect(p.id).toBe('proj')
      const before = store1.all('sessions')
      store1.close()

      const store2 = new Store({basePath: BASE, backing: await SqliteBacking.open(path, STORE_RESOURCES)})
      expect(store2.all('sessions')).toEqual(before)
      expect(store2.get('sessions', s.id)?.start_time).toBe('2026-02-03T03:05:06.123456Z')
      expect(store2.get('projects', p.id)?.name).toBe('proj')
      expect(store2.get('sessions', gone.id)).toBeUndefined()
      const next = store2.create('sessions', {name: 'after'})
      expect(next.created_at > before[0].updated_at).toBe(true)
      store2.close()
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('search', () => {
  const fields = SCHEMAS.sessions.fields
  const docs = [
    {id: '1', name: 'foo-1', timeout: 10, phase: 'Running', created_at: '2026-01-01T00:00:00.000000Z'},
    {id: '2', name: 'foo_2', timeout: 20, created_at: '2026-01-02T00:00:00.000000Z'},
    {id: '3', name: "bar's", timeout: 30, phase: 'Failed', created_at: '2026-01-03T00:00:00.000000Z'},
  ]
  const run = (q: string) => docs.filter(compileSearch(q, fields, 'sessions')).map((d) => d.id)

  it('supports the SQL-like operators', () => {
    expect(run("name = 'foo-1'")).toEqual(['1'])
    expect(run("name like 'foo%'")).toEqual(['1', '2'])
    expect(run("name like 'foo\\_%'")).toEqual(['2'])
    expect(run("name ILIKE 'FOO-_'")).toEqual(['1'])
    expect(run("name not like 'foo%'")).toEqual(['3'])
    expect(run("name = 'bar''s'")).toEqual(['3'])
    expect(run("phase != 'Running'")).toEqual(['3'])
    expect(run('phase is null')).toEqual(['2'])
    expect(run("phase in ('Running', 'Failed') and timeout > 15")).toEqual(['3'])
    expect(run("(timeout <= 10 or timeout >= 30) and not name = 'foo-1'")).toEqual(['3'])
    expect(run("timeout between 15 and '30'")).toEqual(['2', '3'])
    expect(run("created_at > '2026-01-01T12:00:00+00:00'")).toEqual(['2', '3'])
    expect(run("created_at < '2026-01-02'")).toEqual(['1'])
    expect(run("sessions.id = '2'")).toEqual(['2'])
    expect(run('')).toEqual(['1', '2', '3'])
  })

  it('rejects bad queries with 400', () => {
    for (const q of [
      "nope = 'x'",
      "name = 'x",
      'name =',
      'name like 5',
      "timeout = 'abc'",
      "projects.name = 'x'",
      "name = 'a' and",
      "(name = 'a'",
      "name ~ 'a'",
      "created_at > 'yesterday'",
    ]) {
      expect(
        statusOf(() => compileSearch(q, fields, 'sessions')),
        q,
      ).toBe(400)
    }
  })
})
