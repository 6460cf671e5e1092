// RestClient against the embedded API server (real sockets), plus small node:http servers for
// what a healthy server never does (hang, answer HTML, send nulls and short fractions).
import fs from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {Writable} from 'node:stream'
import pino from 'pino'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {sanitize} from '../../src/lib/util/sanitize.js'
import {ApiError, ApiResponseError, ApiUnreachableError} from '../../src/lib/api/errors.js'
import {LEGACY_BASE_PATH, RestClient} from '../../src/lib/api/rest.js'
import type {Session, SessionSpec} from '../../src/lib/api/types.js'
import {TokenSource} from '../../src/lib/config/token.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import {TOKEN, recordingFetch, rejectionOf, restClient, startServer} from './helpers.js'

let server: ApiServer

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

function seedSessions(n: number, prefix: string): string[] {
  const ids: string[] = []
  server.store.transaction(() => {
    for (let i = 0; i < n; i++) ids.push(server.store.create('sessions', {name: `${prefix}-${i}`, project_id: prefix}).id)
  })
  return ids
}

function pageOf(url: URL): number {
  return Number(url.searchParams.get('page'))
}

describe('RestClient.listAll', () => {
  it('reads 250 sessions as 3 pages of 100, pages 2 and 3 at the same time', async () => {
    const ids = seedSessions(250, 'p250')
    const rec = recordingFetch()
    const client = restClient(server, {fetch: rec.fetch})

    const first = await client.list('sessions', {project_id: 'p250', page: 1, size: 100})
    expect(first.total).toBe(250)
    expect(first.items).toHaveLength(100)

    rec.calls.length = 0
    const all = await client.listAll('sessions', {project_id: 'p250'})
    expect(all.map((s) => s.id)).toEqual(ids)
    expect(rec.calls.map((c) => pageOf(c.url)).sort()).toEqual([1, 2, 3])
    for (const c of rec.calls) {
      expect(c.url.searchParams.get('size')).toBe('100')
      expect(c.url.searchParams.get('project_id')).toBe('p250')
      expect(c.authorization).toBe(`Bearer ${TOKEN}`)
    }
    expect(rec.maxInFlight).toBe(2)
  })

  it('shows each page to onPage as it arrives, before the list resolves', async () => {
    const ids = seedSessions(230, 'paged')
    const pages: string[][] = []
    let resolved = false
    const listing = restClient(server).listAll('sessions', {
      project_id: 'paged',
      pageSize: 50,
      onPage: (items) => {
        expect(resolved).toBe(false)
        pages.push(items.map((s) => s.id))
      },
    })
    const all = await listing.finally(() => (resolved = true))
    expect(pages.map((p) => p.length).sort((a, b) => a - b)).toEqual([30, 50, 50, 50, 50])
    expect(pages.flat().sort()).toEqual([...ids].sort())
    expect(all.map((s) => s.id)).toEqual(ids)
  })

  it('reads on when the total grows while paging', async () => {
    seedSessions(250, 'grow')
    let added = false
    const rec = recordingFetch((call) => {
      if (pageOf(call.url) === 1 && !added) {
        added = true
        seedSessions(60, 'grow')
      }
    })
    const all = await restClient(server, {fetch: rec.fetch}).listAll('sessions', {project_id: 'grow'})
    expect(all).toHaveLength(310)
    expect(new Set(all.map((s) => s.id)).size).toBe(310)
    expect(rec.calls.map((c) => pageOf(c.url)).sort()).toEqual([1, 2, 3, 4])
  })

  it('drops an object that an insert pushed onto the next page', async () => {
    const ids = seedSessions(250, 'shift')
    let inserted = false
    const rec = recordingFetch((call) => {
      if (pageOf(call.url) === 1 && !inserted) {
        inserted = true
        seedSessions(5, 'shift') // newest first: every later page moves by 5
      }
    })
    const all = await restClient(server, {fetch: rec.fetch}).listAll('sessions', {project_id: 'shift', orderBy: 'created_at desc'})
    const seen = all.map((s) => s.id)
    expect(new Set(seen).size).toBe(seen.length)
    expect(new Set(seen)).toEqual(new Set(ids))
  })

  it('stops at an empty page when objects vanish while paging', async () => {
    const ids = seedSessions(250, 'shrink')
    let deleted = false
    const rec = recordingFetch((call) => {
      if (pageOf(call.url) === 1 && !deleted) {
        deleted = true
        for (const id of ids.slice(100)) server.store.delete('sessions', id)
      }
    })
    const all = await restClient(server, {fetch: rec.fetch}).listAll('sessions', {project_id: 'shrink'})
    expect(all.map((s) => s.id)).toEqual(ids.slice(0, 100))
  })

  it('pages by the size the server applies when it caps the page size', async () => {
    const ids = seedSessions(120, 'cap')
    const rec = recordingFetch()
    const all = await restClient(server, {fetch: rec.fetch}).listAll('sessions', {project_id: 'cap', pageSize: 50})
    expect(all.map((s) => s.id)).toEqual(ids)
    expect(rec.calls.map((c) => pageOf(c.url)).sort()).toEqual([1, 2, 3])
  })

  it('returns an empty list for an empty resource', async () => {
    expect(await restClient(server).listAll('sessions', {project_id: 'nothing-here'})).toEqual([])
  })
})

describe('RestClient writes', () => {
  it('creates, reads, patches, writes status, starts, stops and deletes a session', async () => {
    const client = restClient(server)
    const spec: SessionSpec = {
      name: 'crud',
      prompt: 'do it',
      repos: JSON.stringify([{url: 'https://github.com/acme/web'}]),
      timeout: 600,
      llm_temperature: 0.2,
      project_id: 'crud',
    }
    const created = await client.create('sessions', spec)
    expect(created).toMatchObject({...spec, kind: 'Session'})
    expect(await client.get('sessions', created.id)).toEqual(created)

    const patched = await client.patch('sessions', created.id, {prompt: 'do it better'})
    expect(patched.prompt).toBe('do it better')
    expect(patched.name).toBe('crud')
    expect(patched.updated_at > created.updated_at).toBe(true)

    const started = await client.start(created.id)
    expect(started.phase).toBe('Pending')
    const conflict = await rejectionOf(client.start(created.id))
    expect(conflict).toBeInstanceOf(ApiError)
    expect(conflict).toMatchObject({status: 409, code: 'ERR_API_CONFLICT'})

    const running = await client.patchStatus(created.id, {phase: 'Running', start_time: '2026-01-02T03:04:05.678901+01:00'})
    expect(running.phase).toBe('Running')
    expect(running.start_time).toBe('2026-01-02T02:04:05.678901Z')
    expect(running.updated_at > patched.updated_at).toBe(true)

    expect((await client.stop(created.id)).phase).toBe('Stopping')

    await client.delete('sessions', created.id)
    const gone = await rejectionOf(client.get('sessions', created.id))
    expect(gone).toBeInstanceOf(ApiError)
    const err = gone as ApiError
    expect(err.message).toBe(`session ${created.id} not found`)
    expect(err).toMatchObject({
      status: 404,
      code: 'ERR_API_NOT_FOUND',
      method: 'GET',
      resource: 'sessions',
      id: created.id,
      errorId: '7',
      serverCode: 'ambient-api-server-7',
    })
    expect(err.reason).toContain(created.id)
    expect(err.operationId).toMatch(/\S/)
    expect(err.path).toBe(`${server.basePath}/sessions/${created.id}`)
  })

  it('creates projects and project settings', async () => {
    const client = restClient(server)
    const project = await client.create('projects', {name: 'team-a', display_name: 'Team A'})
    expect(project).toMatchObject({name: 'team-a', display_name: 'Team A', kind: 'Project'})
    const settings = await client.create('project_settings', {project_id: project.id, group_access: '[{"group":"devs","role":"edit"}]'})
    expect(await client.get('project_settings', settings.id)).toEqual(settings)
    const notFound = await rejectionOf(client.delete('project_settings', 'no-such-id'))
    expect((notFound as Error).message).toBe('project settings no-such-id not found')
  })

  it('gives the server reason for a validation error (400)', async () => {
    const err = await rejectionOf(restClient(server).create('sessions', {name: ''}))
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({status: 400, code: 'ERR_API_BAD_REQUEST', method: 'POST'})
    expect((err as ApiError).reason).toMatch(/name/)
    expect((err as ApiError).message).toContain((err as ApiError).reason)
    expect((err as ApiError).message).toContain('HTTP 400')
  })

  it('refuses a wrong token (401) without echoing it', async () => {
    const err = await rejectionOf(restClient(server, {token: () => 'not-the-token'}).list('sessions'))
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({status: 401, code: 'ERR_API_UNAUTHORIZED'})
    expect((err as ApiError).message).not.toContain('not-the-token')
    // The real server's token check answers in plain text, not with an Error body.
    expect(err).toMatchObject({reason: 'invalid bearer token', serverCode: undefined, errorId: undefined})
    expect((err as ApiError).message).toContain('invalid bearer token (HTTP 401')
  })
})

describe('RestClient tokens and logs', () => {
  let dir: string
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-rest-token-'))
  })
  afterAll(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('uses a rotated token file on the next call', async () => {
    const file = path.join(dir, 'token')
    fs.writeFileSync(file, 'stale-token\n')
    const tokens = new TokenSource({file, checkIntervalMs: 0})
    const rec = recordingFetch()
    const client = restClient(server, {fetch: rec.fetch, token: () => tokens.get()})
    expect(await rejectionOf(client.list('sessions', {size: 1}))).toMatchObject({status: 401})

    // Swapped the way Kubernetes rotates a mounted secret: a new file renamed over the old one.
    fs.writeFileSync(`${file}.new`, `${TOKEN}\n`)
    fs.renameSync(`${file}.new`, file)
    const page = await client.list('sessions', {size: 1})
    expect(page.kind).toBe('SessionList')
    expect(rec.calls.map((c) => c.authorization)).toEqual(['Bearer stale-token', `Bearer ${TOKEN}`])
  })

  it('never writes the token to its log', async () => {
    const chunks: string[] = []
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString())
        done()
      },
    })
    const logger = pino({level: 'trace'}, sink)
    const client = restClient(server, {logger})
    await client.list('sessions', {size: 1})
    await rejectionOf(client.get('sessions', 'missing'))
    const out = chunks.join('')
    expect(out).toContain('api call')
    expect(out).not.toContain(TOKEN)
  })
})

describe('RestClient against a misbehaving server', () => {
  let odd: http.Server
  let base: string
  const sockets = new Set<import('node:net').Socket>()

  beforeAll(async () => {
    odd = http.createServer((req, res) => {
      const url = req.url ?? ''
      if (url.includes('/hang')) return // never answers
      if (url.includes('/html')) {
        res.writeHead(502, {'content-type': 'text/html'})
        res.end('<html><body><h1>502 Bad Gateway</h1></body></html>')
        return
      }
      if (url.includes('/numcode')) {
        // An older server's numeric code, and a reason with terminal escapes in it.
        res.writeHead(409, {'content-type': 'application/json'})
        res.end(
          JSON.stringify({
            kind: 'Error',
            id: '6',
            href: '/errors/6',
            code: 409,
            reason: 'taken \u001b[31mred\u001b[0m\u0007 by x',
            operation_id: 'op',
          }),
        )
        return
      }
      if (url.includes('/notjson')) {
        res.writeHead(200, {'content-type': 'application/json'})
        res.end('{"id": "x", oops')
        return
      }
      if (url.includes('/sessions/odd')) {
        res.writeHead(200, {'content-type': 'application/json'})
        res.end(
          JSON.stringify({
            id: 'odd',
            kind: 'Session',
            href: '/x',
            name: 'odd',
            created_at: '2026-01-01T00:00:00.1Z',
            updated_at: '2026-01-01T01:00:00+01:00',
            prompt: null,
            start_time: 'garbage',
          }),
        )
        return
      }
      res.writeHead(404).end()
    })
    odd.on('connection', (s) => {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
    })
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`
  })
  afterEach(() => {
    for (const s of sockets) s.destroy()
  })
  afterAll(async () => {
    await new Promise((resolve) => odd.close(resolve))
  })

  const client = (timeoutMs = 30_000) => new RestClient({baseUrl: base, basePath: '/', token: () => TOKEN, timeoutMs})

  it('times out with ApiUnreachableError naming the URL', async () => {
    const err = await rejectionOf(client(300).get('hang', '1'))
    expect(err).toBeInstanceOf(ApiUnreachableError)
    expect(err).toMatchObject({code: 'ERR_API_TIMEOUT', timedOut: true, url: `${base}/hang/1`})
    expect((err as Error).message).toContain(`${base}/hang/1`)
  })

  it("rejects with the caller's abort reason when the caller cancels", async () => {
    const controller = new AbortController()
    const pending = rejectionOf(client().get('hang', '2', {signal: controller.signal}))
    const reason = new Error('caller gave up')
    controller.abort(reason)
    expect(await pending).toBe(reason)
  })

  it('reports a refused connection as unreachable', async () => {
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const err = await rejectionOf(new RestClient({baseUrl: `http://127.0.0.1:${port}`, token: () => TOKEN}).list('sessions'))
    expect(err).toBeInstanceOf(ApiUnreachableError)
    expect(err).toMatchObject({code: 'ERR_API_UNREACHABLE', timedOut: false})
    expect((err as Error).message).toContain(`http://127.0.0.1:${port}/api/ambient/v1/sessions`)
    expect((err as Error).message).toContain('ECONNREFUSED')
  })

  it('still explains an error whose body is not JSON', async () => {
    const err = await rejectionOf(client().list('html'))
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({status: 502, code: 'ERR_API_502'})
    expect((err as ApiError).reason).toContain('502 Bad Gateway')
  })

  it('accepts a numeric error code and keeps the reason as sent (views escape it, --json carries it exactly)', async () => {
    const err = await rejectionOf(client().list('numcode'))
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({status: 409, code: 'ERR_API_CONFLICT', serverCode: '409', errorId: '6', operationId: 'op'})
    expect(sanitize((err as ApiError).reason)).toBe('taken \\x1b[31mred\\x1b[0m\\x07 by x')
  })

  it('rejects a 2xx body that is not JSON', async () => {
    expect(await rejectionOf(client().get('notjson', '1'))).toBeInstanceOf(ApiResponseError)
  })

  it('drops nulls and normalizes timestamps to microseconds', async () => {
    const s = await client().get<Session>('sessions', 'odd')
    expect(s.created_at).toBe('2026-01-01T00:00:00.100000Z')
    expect(s.updated_at).toBe('2026-01-01T00:00:00.000000Z')
    expect('prompt' in s).toBe(false)
    expect(s.start_time).toBe('garbage') // malformed data is kept, not lost
  })
})

describe('RestClient on the older server generation', () => {
  it('speaks the legacy base path with loosely typed resources', async () => {
    const legacy = await startServer({basePath: LEGACY_BASE_PATH})
    try {
      legacy.store.create('sessions', {name: 'old-gen'})
      const client = new RestClient({baseUrl: legacy.url, basePath: LEGACY_BASE_PATH, token: () => TOKEN})
      const resource: string = 'sessions'
      const items = await client.listAll<Session>(resource)
      expect(items.map((s) => s.name)).toEqual(['old-gen'])
    } finally {
      await legacy.close()
    }
  })
})
