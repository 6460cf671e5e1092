// What one request may cost (docs/security.md, "Query and request cost"): a LIKE pattern is
// matched without backtracking, a query over the documented bounds is a 400 with the contract's
// error body (never a 500 stack overflow), and so is a body nested deeper than the bound. Each
// bound is pinned from both sides: a request at the limit is served, one past it is refused.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {ApiServer} from '../../src/lib/server/index.js'
import {SCHEMAS} from '../../src/lib/server/schema.js'
import {compileSearch} from '../../src/lib/server/search.js'
import {api, expectErrorBody, items, obj, startTestServer, type JsonResponse} from './helpers.js'

// The documented limits (docs/security.md). Written out here, not imported: they are facts a
// client can rely on, and a change to them must show up as a test change.
const MAX_SEARCH_LENGTH = 4096
const MAX_SEARCH_DEPTH = 32
const MAX_SEARCH_TERMS = 64
const MAX_LIKE_PATTERN_LENGTH = 256
const MAX_ORDER_BY_LENGTH = 1024
const MAX_ORDER_BY_KEYS = 16
const MAX_FIELDS_LENGTH = 2048
const MAX_BODY_DEPTH = 32
const MAX_BODY_VALUES = 1000

let server: ApiServer

beforeAll(async () => {
  server = await startTestServer()
  for (const name of ['a'.repeat(40), `${'a'.repeat(40)}b`, 'plain']) {
    expect((await api(server, 'POST', '/sessions', {name, prompt: name})).status).toBe(201)
  }
})
afterAll(async () => {
  await server.close()
})

const list = (query: string) => api(server, 'GET', `/sessions?${query}`)
const search = (q: string, extra = '') => list(`search=${encodeURIComponent(q)}${extra}`)

function refusedSearch(res: JsonResponse, mentions: RegExp): void {
  const body = expectErrorBody(res, 400)
  expect(body.code).toBe('ambient-api-server-23')
  expect(body.reason).toMatch(/^Failed to parse search query: /)
  expect(body.reason).toMatch(mentions)
}

function refusedParam(res: JsonResponse, mentions: RegExp): void {
  const body = expectErrorBody(res, 400)
  expect(body.code).toBe('ambient-api-server-21')
  expect(body.reason).toMatch(mentions)
}

/** `name = 'x'` padded with inner spaces to exactly `length` characters (outer ones are trimmed). */
const searchOfLength = (length: number) => `name =${' '.repeat(length - "name ='x'".length)}'x'`

describe('LIKE without backtracking', () => {
  it('answers the pattern that took a backtracking matcher 16 s per value at once, and correctly', () => {
    const fields = SCHEMAS.sessions.fields
    const docs = [
      {id: '1', name: 'a'.repeat(40)},
      {id: '2', name: `${'a'.repeat(40)}b`},
    ]
    // 10 `%a` then `b`: a regular expression translation explores C(40,10) ≈ 8.5e8 splits per value.
    const started = performance.now()
    const hits = docs.filter(compileSearch(`name like '${'%a'.repeat(10)}%b'`, fields, 'sessions')).map((d) => d.id)
    const ms = performance.now() - started
    expect(hits).toEqual(['2'])
    // Microseconds here; a backtracking matcher needs seconds even on an idle machine.
    expect(ms).toBeLessThan(3000)
  })

  it('serves the longest allowed pattern over REST', async () => {
    const pattern = `${'%a'.repeat(MAX_LIKE_PATTERN_LENGTH / 2 - 1)}%b`
    expect(pattern.length).toBe(MAX_LIKE_PATTERN_LENGTH)
    const res = await search(`name like '${pattern}'`)
    expect(res.status).toBe(200)
    expect(items(res.body)).toEqual([])
    const hit = await search(`name like '${'%a'.repeat(20)}%b'`)
    expect(items(hit.body).map((s) => s.name)).toEqual([`${'a'.repeat(40)}b`])
  })
})

describe('search bounds', () => {
  it(`refuses a search longer than ${MAX_SEARCH_LENGTH} characters`, async () => {
    expect((await search(searchOfLength(MAX_SEARCH_LENGTH))).status).toBe(200)
    refusedSearch(await search(searchOfLength(MAX_SEARCH_LENGTH + 1)), /4096 characters/)
  })

  it(`refuses parentheses nested deeper than ${MAX_SEARCH_DEPTH}, and 5,000 of them with a 400, not a 500`, async () => {
    const nested = (depth: number) => `${'('.repeat(depth)}name = 'x'${')'.repeat(depth)}`
    expect((await search(nested(MAX_SEARCH_DEPTH))).status).toBe(200)
    refusedSearch(await search(nested(MAX_SEARCH_DEPTH + 1)), /nested deeper than 32/)
    // 5,000 pairs are over the length bound already; 4,000 unbalanced ones are not, and meet
    // the depth bound while parsing, before the parser could recurse that deep.
    refusedSearch(await search(nested(5000)), /longer than 4096 characters/)
    refusedSearch(await search('('.repeat(4000)), /nested deeper than 32/)
    refusedSearch(await search(`${'not ('.repeat(800)}`), /nested deeper than 32/)
  })

  it(`counts NOT as nesting too`, async () => {
    const nots = (depth: number) => `${'not '.repeat(depth)}name = 'x'`
    expect((await search(nots(MAX_SEARCH_DEPTH))).status).toBe(200)
    refusedSearch(await search(nots(MAX_SEARCH_DEPTH + 1)), /nested deeper than 32/)
  })

  it(`refuses more than ${MAX_SEARCH_TERMS} comparisons`, async () => {
    const terms = (n: number) => Array.from({length: n}, (_, i) => `timeout = ${i}`).join(' or ')
    expect((await search(terms(MAX_SEARCH_TERMS))).status).toBe(200)
    refusedSearch(await search(terms(MAX_SEARCH_TERMS + 1)), /more than 64 comparisons/)
  })

  it(`refuses a LIKE pattern longer than ${MAX_LIKE_PATTERN_LENGTH} characters`, async () => {
    expect((await search(`name like '${'a'.repeat(MAX_LIKE_PATTERN_LENGTH)}'`)).status).toBe(200)
    refusedSearch(await search(`name ilike '${'_'.repeat(MAX_LIKE_PATTERN_LENGTH + 1)}'`), /pattern.*256 characters/)
    // Measured in characters as written: a quote written '' counts once.
    expect((await search(`name like '${"''".repeat(MAX_LIKE_PATTERN_LENGTH)}'`)).status).toBe(200)
  })

  it('keeps its answers for ordinary queries', async () => {
    const names = (res: JsonResponse) => items(res.body).map((s) => s.name)
    expect(names(await search("name like 'a%b'"))).toEqual([`${'a'.repeat(40)}b`])
    expect(names(await search("name ilike 'PLAIN'"))).toEqual(['plain'])
    expect(names(await search("not (name like 'a%' or name like 'A%')"))).toEqual(['plain'])
  })
})

describe('orderBy and fields bounds', () => {
  it(`refuses an orderBy longer than ${MAX_ORDER_BY_LENGTH} characters or with more than ${MAX_ORDER_BY_KEYS} keys`, async () => {
    const keys = (n: number) => Array.from({length: n}, () => 'name').join(',')
    expect((await list(`orderBy=${keys(MAX_ORDER_BY_KEYS)}`)).status).toBe(200)
    refusedParam(await list(`orderBy=${keys(MAX_ORDER_BY_KEYS + 1)}`), /orderBy: more than 16 keys/)
    const long = (length: number) => `name${' '.repeat(length - 'name'.length)}`
    expect((await list(`orderBy=${encodeURIComponent(long(MAX_ORDER_BY_LENGTH))}`)).status).toBe(200)
    refusedParam(await list(`orderBy=${encodeURIComponent(long(MAX_ORDER_BY_LENGTH + 1))}`), /orderBy: longer than 1024 characters/)
  })

  it(`refuses fields longer than ${MAX_FIELDS_LENGTH} characters`, async () => {
    const fields = (length: number) => `name${','.repeat(length - 'name'.length)}`
    const ok = await list(`fields=${fields(MAX_FIELDS_LENGTH)}`)
    expect(ok.status).toBe(200)
    expect(Object.keys(items(ok.body)[0]).sort()).toEqual(['id', 'name'])
    refusedParam(await list(`fields=${fields(MAX_FIELDS_LENGTH + 1)}`), /fields: longer than 2048 characters/)
  })
})

describe('request body depth', () => {
  const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
  const refusedBody = (res: JsonResponse, mentions: RegExp) => {
    const body = expectErrorBody(res, 400)
    expect(body.code).toBe('ambient-api-server-17')
    expect(body.reason).toMatch(mentions)
  }

  it('answers a 50,000-deep value in a body field with 400 on every body-taking route, not a 500', async () => {
    const id = String(items((await list('size=1')).body)[0].id)
    for (const [method, path] of [
      ['POST', '/sessions'],
      ['PATCH', `/sessions/${id}`],
      ['PATCH', `/sessions/${id}/status`],
      ['POST', '/projects'],
      ['POST', '/users'],
    ]) {
      for (const field of ['name', 'repos', 'phase', 'no_such_field']) {
        refusedBody(await api(server, method, path, `{"${field}": ${deep(50_000)}}`), /nested deeper than 32 levels/)
      }
    }
    // Deep objects too, and depth inside arrays of objects.
    refusedBody(await api(server, 'POST', '/sessions', `{"name": ${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`), /nested deeper than 32/)
    expect((await api(server, 'GET', `/sessions/${id}`)).status).toBe(200)
  })

  it(`counts the body object as level 1: ${MAX_BODY_DEPTH} levels are decoded as usual, ${MAX_BODY_DEPTH + 1} refused`, async () => {
    // At the limit the body is decoded as usual: the field's type is wrong, said as such.
    const atLimit = await api(server, 'POST', '/sessions', `{"name": ${deep(MAX_BODY_DEPTH - 1)}}`)
    expect(expectErrorBody(atLimit, 400).reason).toMatch(/field name must be a string, got an array/)
    refusedBody(await api(server, 'POST', '/sessions', `{"name": ${deep(MAX_BODY_DEPTH)}}`), /nested deeper than 32/)
  })

  it(`refuses a body with more than ${MAX_BODY_VALUES} values in its objects and arrays, before parsing it`, async () => {
    // The body object counts one, each comma one: 1,000 keys are 1,000 values.
    const keys = (n: number) => JSON.stringify(Object.fromEntries(Array.from({length: n}, (_, i) => [`unknown_key_${i}`, 1])))
    const atLimit = String(expectErrorBody(await api(server, 'POST', '/sessions', keys(MAX_BODY_VALUES)), 400).reason)
    // Under the bound the body is decoded as usual: unknown keys are named (the first ten).
    expect(atLimit).toMatch(/^unknown fields for Session: unknown_key_0, unknown_key_1, .* and 990 more$/)
    refusedBody(await api(server, 'POST', '/sessions', keys(MAX_BODY_VALUES + 1)), /more than 1000 values/)
    // 90,000 short keys: under 1 MiB, and ~100 ms of JSON.parse that never happens.
    const wide = `{${Array.from({length: 90_000}, (_, i) => `"k${i}":1`).join(',')}}`
    refusedBody(await api(server, 'PATCH', `/sessions/${String(items((await list('size=1')).body)[0].id)}`, wide), /more than 1000 values/)
    // Brackets and commas inside strings are text, not structure.
    const inStrings = await api(server, 'POST', '/sessions', {name: 'brackets', prompt: `${'[{,'.repeat(5000)}\\"`})
    expect(inStrings.status).toBe(201)
  })

  it('names a wrong-typed value briefly, whatever its size', async () => {
    const wide = JSON.stringify({name: Array.from({length: 300}, (_, i) => ({i}))})
    const reason = String(expectErrorBody(await api(server, 'POST', '/sessions', wide), 400).reason)
    expect(reason).toMatch(/field name must be a string, got an array/)
    expect(reason.length).toBeLessThan(200)
    const long = String(expectErrorBody(await api(server, 'POST', '/sessions', {name: 1, prompt: 5}), 400).reason)
    expect(long).toMatch(/field (name|prompt) must be a string, got \d/)
  })

  it('stores a 50,000-deep JSON document carried in a string field as it is (the server never parses it)', async () => {
    const res = await api(server, 'POST', '/sessions', {name: 'deep-doc', repos: deep(50_000)})
    expect(res.status).toBe(201)
    expect(obj((await api(server, 'GET', `/sessions/${String(obj(res.body).id)}`)).body).repos).toBe(deep(50_000))
  })
})
