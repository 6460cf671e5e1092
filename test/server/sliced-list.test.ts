// Lists in time slices (Table.listSliced): the same answers as the one-go `list`, pauses even
// inside one object with megabytes of text, a snapshot that writes made during the pauses
// never leak into, and work that stops when the client goes away. The pause is injected, so
// nothing here depends on the machine's speed (sliceMs 0: every check point pauses).
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {SCHEMAS} from '../../src/lib/server/schema.js'
import {compileSearch} from '../../src/lib/server/search.js'
import {sortSliced, Slicer} from '../../src/lib/server/slicer.js'
import {Table, type SortKey, type TableQuery} from '../../src/lib/server/table.js'

interface Row {
  id: string
  name: string
  timeout?: number
  phase?: string
  prompt?: string
}

const fields = SCHEMAS.sessions.fields

function tableOf(rows: readonly Row[]): Table<Row> {
  const t = new Table<Row>(['project_id'])
  for (const r of rows) t.insert(Object.freeze({...r}))
  return t
}

function query(search: string | undefined, orderBy: SortKey[] | undefined, page = 1, size = 100): TableQuery {
  const q: TableQuery = {page, size}
  if (search) {
    q.filter = compileSearch(search, fields, 'sessions')
    q.filterKey = search
  }
  if (orderBy) q.orderBy = orderBy
  return q
}

const counting = () => {
  const counter = {pauses: 0, pause: async () => void counter.pauses++}
  return counter
}

describe('Table.listSliced', () => {
  it('answers like list for any rows, search, order and page', async () => {
    const row = fc.record(
      {name: fc.constantFrom('a', 'ab', 'b', 'ba', 'abc', ''), timeout: fc.integer({min: 0, max: 3}), phase: fc.constantFrom('Running', 'Failed')},
      {requiredKeys: ['name']},
    )
    const search = fc.constantFrom(
      undefined,
      "name like 'a%'",
      "name like '%b%' or timeout = 1",
      "not phase = 'Running'",
      "name ilike '_B%' and timeout >= 1",
    )
    const orderBy = fc.constantFrom<SortKey[] | undefined>(
      undefined,
      [{field: 'timeout', desc: false}],
      [
        {field: 'phase', desc: true},
        {field: 'name', desc: false},
      ],
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, {maxLength: 60, size: 'medium'}),
        search,
        orderBy,
        fc.integer({min: 1, max: 3}),
        fc.integer({min: 0, max: 25}),
        async (rows, s, o, page, size) => {
          const data = rows.map((r, i) => ({...r, id: `id-${i}`}))
          const expected = tableOf(data).list(query(s, o, page, size))
          const actual = await tableOf(data).listSliced(query(s, o, page, size), {sliceMs: 0, pause: async () => {}})
          expect(actual).toEqual(expected)
        },
      ),
      {numRuns: 300},
    )
  })

  it('pauses inside one object: a LIKE over a 2 MiB value runs in many steps', async () => {
    const t = tableOf([{id: '1', name: 'big', prompt: 'a'.repeat(2 * 1024 * 1024)}])
    const counter = counting()
    // 128 positions: 5 words of state per character, ~10M steps in all.
    const page = await t.listSliced(query(`prompt like '${'%_'.repeat(127)}%b'`, undefined), {sliceMs: 0, pause: counter.pause})
    expect(page.total).toBe(0)
    expect(counter.pauses).toBeGreaterThanOrEqual(30)
  })

  it('answers from a snapshot: writes made while it pauses do not mix in, nor poison the cache', async () => {
    const t = tableOf(Array.from({length: 100}, (_, i) => ({id: `id-${i}`, name: `n-${i}`, timeout: i})))
    let writes = 0
    const page = await t.listSliced(query("name like 'n-%'", [{field: 'timeout', desc: true}], 1, 1000), {
      sliceMs: 0,
      pause: async () => {
        if (writes++ > 0) return
        t.delete('id-99')
        t.replace(Object.freeze({id: 'id-0', name: 'n-0', timeout: 1000}))
        t.insert(Object.freeze({id: 'id-new', name: 'n-new', timeout: 500}))
      },
    })
    expect(writes).toBeGreaterThan(1)
    expect(page.total).toBe(100)
    expect(page.items[0]).toEqual({id: 'id-99', name: 'n-99', timeout: 99})
    expect(page.items.at(-1)).toEqual({id: 'id-0', name: 'n-0', timeout: 0})
    // The next read sees the writes.
    const after = t.list(query("name like 'n-%'", [{field: 'timeout', desc: true}], 1, 1000))
    expect(after.total).toBe(100)
    expect(after.items.slice(0, 2).map((r) => r.id)).toEqual(['id-0', 'id-new'])
  })

  it('stops when its signal is aborted (the client went away)', async () => {
    const t = tableOf(Array.from({length: 1000}, (_, i) => ({id: `id-${i}`, name: 'x'})))
    const gone = new AbortController()
    let pauses = 0
    const run = t.listSliced(query("name like '%x%'", undefined), {
      sliceMs: 0,
      signal: gone.signal,
      pause: async () => {
        if (++pauses === 3) gone.abort(new Error('client went away'))
      },
    })
    await expect(run).rejects.toThrow('client went away')
    expect(pauses).toBe(3)
  })
})

describe('sortSliced', () => {
  it('sorts stably, like Array.prototype.sort, pausing as it goes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({key: fc.integer({min: 0, max: 5}), pos: fc.nat()}), {maxLength: 300}), async (items) => {
        const compare = (a: {key: number}, b: {key: number}) => a.key - b.key
        let pauses = 0
        const sorted = await sortSliced(items, compare, new Slicer({sliceMs: 0, pause: async () => void pauses++}))
        expect(sorted).toEqual(items.slice().sort(compare))
        if (items.length > 64 * 2) expect(pauses).toBeGreaterThan(0)
      }),
      {numRuns: 300},
    )
  })
})
