// Contract 1.1: lists (page, size, search, orderBy, fields, project_id; the envelope).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {ApiServer} from '../../src/lib/server/index.js'
import {call, create, expectStatus, itemsOf, startServer, type Json} from './helpers.js'

let server: ApiServer
/** 250 sessions of one project, in creation order. */
let ids: string[]
const PROJECT = 'lists-project'

beforeAll(async () => {
  server = await startServer()
  ids = []
  server.store.transaction(() => {
    for (let i = 0; i < 250; i++)
      ids.push(server.store.create('sessions', {name: `item-${String(i).padStart(3, '0')}`, project_id: PROJECT, timeout: i % 7}).id)
  })
})
afterAll(async () => {
  await server.close()
})

const list = async (query: string): Promise<Json> => expectStatus(await call(server, 'GET', `/sessions?${query}`), 200)

describe('contract 1.1: lists', () => {
  it('1.1 the envelope is {kind, page, size, total, items}, kind named after the resource', async () => {
    for (const [resource, kind] of [
      ['sessions', 'SessionList'],
      ['projects', 'ProjectList'],
      ['project_settings', 'ProjectSettingsList'],
      ['users', 'UserList'],
    ]) {
      const body = expectStatus(await call(server, 'GET', `/${resource}`), 200)
      expect(Object.keys(body).sort(), resource).toEqual(['items', 'kind', 'page', 'size', 'total'])
      expect(body.kind).toBe(kind)
    }
  })

  it('1.1 page defaults to 1 and size to 100', async () => {
    const body = await list(`project_id=${PROJECT}`)
    expect(body).toMatchObject({page: 1, size: 100, total: 250})
    expect(itemsOf(body).map((s) => s.id)).toEqual(ids.slice(0, 100))
  })

  it('1.1 size in a response is the number of items actually sent, not the size asked for', async () => {
    const last = await list(`project_id=${PROJECT}&page=3&size=100`)
    expect(last).toMatchObject({page: 3, size: 50, total: 250})
    expect(itemsOf(last)).toHaveLength(50)
  })

  it('1.1 pages = ceil(total / size asked): every item once, in order, and nothing after the last page', async () => {
    const seen: unknown[] = []
    const size = 40
    const pages = Math.ceil(250 / size)
    for (let page = 1; page <= pages; page++) seen.push(...itemsOf(await list(`project_id=${PROJECT}&page=${page}&size=${size}`)).map((s) => s.id))
    expect(seen).toEqual(ids)
    expect(await list(`project_id=${PROJECT}&page=${pages + 1}&size=${size}`)).toMatchObject({size: 0, total: 250, items: []})
  })

  it('1.1 page has a minimum of 1', async () => {
    for (const page of ['0', '-1']) expect((await call(server, 'GET', `/sessions?page=${page}`)).status, page).toBe(400)
    expect((await list('page=1&size=1')).page).toBe(1)
  })

  it('1.1 size has a minimum of 0', async () => {
    expect((await call(server, 'GET', '/sessions?size=-1')).status).toBe(400)
  })

  it('1.1 size=0 answers 200 with no items and the real total (a cheap count)', async () => {
    expect(await list(`project_id=${PROJECT}&size=0`)).toEqual({kind: 'SessionList', page: 1, size: 0, total: 250, items: []})
  })

  it('1.1 search takes an SQL-like filter', async () => {
    const body = await list(`search=${encodeURIComponent("name like 'item-24%' and timeout >= 3")}&size=100`)
    const expected = Array.from({length: 10}, (_, k) => 240 + k)
      .filter((i) => i % 7 >= 3)
      .map((i) => `item-${i}`)
    expect(itemsOf(body).map((s) => s.name)).toEqual(expected)
    expect(body.total).toBe(expected.length)
  })

  it('1.1 orderBy sorts', async () => {
    const body = await list(`project_id=${PROJECT}&orderBy=${encodeURIComponent('name desc')}&size=3`)
    expect(itemsOf(body).map((s) => s.name)).toEqual(['item-249', 'item-248', 'item-247'])
  })

  it('1.1 fields picks the fields sent (id always)', async () => {
    const body = await list(`project_id=${PROJECT}&fields=name&size=2`)
    expect(itemsOf(body)).toEqual([
      {id: ids[0], name: 'item-000'},
      {id: ids[1], name: 'item-001'},
    ])
  })

  it('1.1 sessions accept project_id', async () => {
    const other = await create(server, 'sessions', {name: 'elsewhere', project_id: 'other-project'})
    const body = await list('project_id=other-project')
    expect(itemsOf(body).map((s) => s.id)).toEqual([other.id])
    expect((await list(`project_id=${PROJECT}&size=0`)).total).toBe(250)
  })

  it('1.1 project_id on a session list must be a plain id (letters, digits, -, _), else 400', async () => {
    expect((await call(server, 'GET', '/sessions?project_id=Plain_id-09')).status).toBe(200)
    for (const bad of ["x' or '1'='1", 'a b', 'a/b', 'a.b', 'ä', 'a;b']) {
      expect((await call(server, 'GET', `/sessions?project_id=${encodeURIComponent(bad)}`)).status, bad).toBe(400)
    }
  })
})

describe('contract 1.1: the size cap', () => {
  let big: ApiServer
  beforeAll(async () => {
    big = await startServer()
    big.store.transaction(() => {
      for (let i = 0; i < 65_501; i++) big.store.create('users', {username: `u${i}`, name: 'n'})
    })
  })
  afterAll(async () => {
    await big.close()
  })

  it('1.1 a size above the server cap (65500) is capped, not refused', async () => {
    const res = await call(big, 'GET', `/users?size=100000&fields=id`)
    const body = expectStatus(res, 200)
    expect(body).toMatchObject({page: 1, size: 65_500, total: 65_502})
    expect(itemsOf(body)).toHaveLength(65_500)
    // Page 2 of the capped size holds the rest: the server pages by what it applied.
    expect(expectStatus(await call(big, 'GET', `/users?size=100000&page=2&fields=id`), 200)).toMatchObject({size: 2})
  })
})
