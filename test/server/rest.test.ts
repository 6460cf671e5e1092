import {request, Agent} from 'node:http'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SESSION_PHASES, SESSION_SPEC_FIELDS, SESSION_STATUS_PATCH_FIELDS, STARTABLE_PHASES, STOPPABLE_PHASES} from '../../src/lib/api/types.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import {api, expectErrorBody, items, obj, startTestServer, TOKEN, USERNAME} from './helpers.js'

let server: ApiServer

beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.close()
})

async function createSession(body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const res = await api(server, 'POST', '/sessions', {name: 'sess', ...body})
  expect(res.status).toBe(201)
  return obj(res.body)
}

async function setPhase(id: string, phase: string): Promise<void> {
  const res = await api(server, 'PATCH', `/sessions/${id}/status`, {phase})
  expect(res.status).toBe(200)
}

describe('REST lists', () => {
  it('pages 250 sessions as 3 pages of 100 with total 250, in creation order', async () => {
    const project = `paging-${Date.now()}`
    const created: string[] = []
    for (let i = 0; i < 250; i++) created.push(String((await createSession({name: `page-${i}`, project_id: project})).id))

    const seen: string[] = []
    for (const [page, size] of [
      [1, 100],
      [2, 100],
      [3, 50],
    ]) {
      const res = await api(server, 'GET', `/sessions?project_id=${project}&page=${page}`)
      expect(res.status).toBe(200)
      const body = obj(res.body)
      expect(body).toMatchObject({kind: 'SessionList', page, size, total: 250})
      seen.push(...items(body).map((s) => String(s.id)))
    }
    expect(seen).toEqual(created)
    const past = obj((await api(server, 'GET', `/sessions?project_id=${project}&page=4`)).body)
    expect(past).toMatchObject({page: 4, size: 0, total: 250, items: []})

    // The same through the project header and a search on project_id.
    const viaHeader = obj((await api(server, 'GET', '/sessions?size=1000', undefined, {'X-Ambient-Project': project})).body)
    expect(viaHeader).toMatchObject({size: 250, total: 250})
    const viaSearch = obj((await api(server, 'GET', `/sessions?size=7&page=36&search=${encodeURIComponent(`project_id = '${project}'`)}`)).body)
    expect(viaSearch).toMatchObject({page: 36, size: 5, total: 250})
    expect(items(viaSearch).map((s) => s.id)).toEqual(created.slice(245))
  })

  it('filters with search, sorts with orderBy and projects with fields', async () => {
    const tag = `sq${Date.now()}`
    await createSession({name: `${tag}-b`, timeout: 30, prompt: 'x'})
    await createSession({name: `${tag}-a`, timeout: 10})
    await createSession({name: `${tag}-c`, timeout: 20, prompt: 'y'})
    await createSession({name: `other-${tag}`, timeout: 5})
    const q = (params: string) => api(server, 'GET', `/sessions?${params}`)

    const like = obj((await q(`search=${encodeURIComponent(`name like '${tag}-%'`)}&orderBy=name%20desc`)).body)
    expect(like.total).toBe(3)
    expect(items(like).map((s) => s.name)).toEqual([`${tag}-c`, `${tag}-b`, `${tag}-a`])

    const combo = obj((await q(`search=${encodeURIComponent(`name like '${tag}%' and (timeout >= 20 or prompt = 'none') and timeout != 30`)}`)).body)
    expect(items(combo).map((s) => s.name)).toEqual([`${tag}-c`])

    const inList = obj((await q(`search=${encodeURIComponent(`name in ('${tag}-a', 'other-${tag}')`)}&orderBy=timeout%20asc`)).body)
    expect(items(inList).map((s) => s.name)).toEqual([`other-${tag}`, `${tag}-a`])

    const multiSort = obj((await q(`search=${encodeURIComponent(`name like '%${tag}%'`)}&orderBy=prompt%20asc,timeout%20desc`)).body)
    expect(items(multiSort).map((s) => s.name)).toEqual([`${tag}-b`, `${tag}-c`, `${tag}-a`, `other-${tag}`])

    const projected = obj((await q(`search=${encodeURIComponent(`name = '${tag}-a'`)}&fields=name,timeout`)).body)
    expect(projected.kind).toBe('SessionList')
    expect(items(projected)).toEqual([{id: expect.any(String), name: `${tag}-a`, timeout: 10}])
  })

  it('rejects bad list parameters with 400 and the error body', async () => {
    for (const params of [
      'page=0',
      'page=-1',
      'page=x',
      'page=1.5',
      'size=-5',
      'size=abc',
      'size=1e3',
      'project_id=a%27b',
      'project_id=a%20b',
      `search=${encodeURIComponent("nope = 'x'")}`,
      `search=${encodeURIComponent("name = 'unterminated")}`,
      `search=${encodeURIComponent('name =')}`,
      `search=${encodeURIComponent("timeout = 'abc'")}`,
      'orderBy=nope',
      'orderBy=name%20sideways',
      'fields=name,nope',
    ]) {
      const res = await api(server, 'GET', `/sessions?${params}`)
      const body = expectErrorBody(res, 400)
      expect(body.href).toBe(`${server.basePath}/errors/${body.id}`)
    }
    expect((await api(server, 'GET', '/sessions?size=10000')).status).toBe(200)
    // A size above the cap is capped, and size=0 counts.
    expect(obj((await api(server, 'GET', '/sessions?size=1000000000')).body).size).toBeGreaterThan(0)
    expect(obj((await api(server, 'GET', '/sessions?size=0')).body)).toMatchObject({size: 0, items: [], total: expect.any(Number)})
    expectErrorBody(await api(server, 'GET', '/sessions', undefined, {'X-Ambient-Project': "x' or '1'='1"}), 400)
  })
})

describe('REST objects', () => {
  it('creates, reads, patches and deletes a session', async () => {
    const repos = '[{"url": "https://github.com/a/b", "branch": "main"'
    const s = await createSession({
      name: 'crud',
      timeout: 300,
      llm_temperature: 0.2,
      repos,
      labels: 'not json at all',
      created_by_user_id: 'alice',
      project_id: 'p1',
    })
    // created_by_user_id is the token's user, whatever the body said.
    expect(s).toMatchObject({
      kind: 'Session',
      href: `${server.basePath}/sessions/${s.id}`,
      name: 'crud',
      timeout: 300,
      llm_temperature: 0.2,
      repos,
      labels: 'not json at all',
      created_by_user_id: USERNAME,
      kube_cr_name: s.id,
    })
    expect(String(s.id)).toMatch(/^[0-9A-Za-z]{27}$/)
    expect(s.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
    expect(s.updated_at).toBe(s.created_at)

    const got = await api(server, 'GET', `/sessions/${s.id}`)
    expect(got.status).toBe(200)
    expect(got.body).toEqual(s)
    expect(got.headers.get('content-type')).toBe('application/json')

    // PATCH takes spec fields; project_id (immutable) and read-only keys are ignored.
    const patched = await api(server, 'PATCH', `/sessions/${s.id}`, {
      prompt: 'hello',
      project_id: 'p2',
      name: 'renamed',
      created_by_user_id: 'mallory',
      id: 'other',
    })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({id: s.id, prompt: 'hello', project_id: 'p1', name: 'renamed', timeout: 300, created_by_user_id: USERNAME})
    expect(String(obj(patched.body).updated_at) > String(s.updated_at)).toBe(true)

    const del = await api(server, 'DELETE', `/sessions/${s.id}`)
    expect(del.status).toBe(204)
    expect(del.body).toBeUndefined()
    expectErrorBody(await api(server, 'GET', `/sessions/${s.id}`), 404)
    expectErrorBody(await api(server, 'DELETE', `/sessions/${s.id}`), 404)
  })

  it('takes project_id from X-Ambient-Project on create when the body has none', async () => {
    const res = await api(server, 'POST', '/sessions', {name: 'hdr'}, {'X-Ambient-Project': 'from-header'})
    expect(obj(res.body).project_id).toBe('from-header')
  })

  it('writes status only through /status, with a new updated_at each time', async () => {
    const s = await createSession()
    const first = await api(server, 'PATCH', `/sessions/${s.id}/status`, {
      phase: 'Running',
      start_time: '2026-03-01T10:00:00.5+02:00',
      sdk_restart_count: 2,
      conditions: '[{"type":"Ready"',
      kube_cr_uid: 'uid-1',
      kube_namespace: 'ns',
    })
    expect(first.status).toBe(200)
    const a = obj(first.body)
    expect(a).toMatchObject({
      phase: 'Running',
      start_time: '2026-03-01T08:00:00.500000Z',
      sdk_restart_count: 2,
      conditions: '[{"type":"Ready"',
      kube_cr_uid: 'uid-1',
      name: 'sess',
    })
    expect(String(a.updated_at) > String(s.updated_at)).toBe(true)
    const again = obj((await api(server, 'PATCH', `/sessions/${s.id}/status`, {phase: 'Running'})).body)
    expect(String(again.updated_at) > String(a.updated_at)).toBe(true)

    // Spec fields are not status: a status body with only those sets nothing (400).
    for (const field of SESSION_SPEC_FIELDS) {
      const value = field === 'timeout' || field === 'llm_max_tokens' ? 1 : field === 'llm_temperature' ? 0.5 : 'x'
      expectErrorBody(await api(server, 'PATCH', `/sessions/${s.id}/status`, {[field]: value}), 400)
    }
    // Status fields through the main PATCH or a create body are ignored.
    const before = obj((await api(server, 'GET', `/sessions/${s.id}`)).body)
    for (const field of [...SESSION_STATUS_PATCH_FIELDS, 'kube_cr_name']) {
      const value = field === 'sdk_restart_count' ? 7 : field.endsWith('_time') ? '2026-01-01T00:00:00Z' : 'x'
      const patched = obj((await api(server, 'PATCH', `/sessions/${s.id}`, {[field]: value})).body)
      expect(patched[field]).toEqual(before[field])
      const created = await api(server, 'POST', '/sessions', {name: 'n', [field]: value})
      expect(created.status).toBe(201)
      expect(obj(created.body)[field]).toEqual(field === 'kube_cr_name' ? obj(created.body).id : undefined)
    }
    const latest = obj((await api(server, 'GET', `/sessions/${s.id}`)).body)
    expectErrorBody(await api(server, 'PATCH', `/sessions/${s.id}/status`, {}), 400)
    expectErrorBody(await api(server, 'PATCH', `/sessions/${s.id}/status`, {phase: 'Exploded'}), 400)
    expectErrorBody(await api(server, 'PATCH', `/sessions/${s.id}/status`, {start_time: 'yesterday'}), 400)
    expectErrorBody(await api(server, 'PATCH', '/sessions/nope/status', {phase: 'Running'}), 404)
    // Nothing refused above changed the session.
    expect(obj((await api(server, 'GET', `/sessions/${s.id}`)).body).updated_at).toBe(latest.updated_at)
  })

  it('applies the start/stop rules for every phase', async () => {
    for (const phase of ['', ...SESSION_PHASES]) {
      const s = await createSession({name: `phase-${phase || 'none'}`})
      if (phase) await setPhase(String(s.id), phase)
      const start = await api(server, 'POST', `/sessions/${s.id}/start`)
      if (STARTABLE_PHASES.has(phase)) {
        expect(start.status, `start from ${phase}`).toBe(200)
        expect(obj(start.body).phase).toBe('Pending')
      } else {
        const body = expectErrorBody(start, 409)
        expect(body.reason).toContain(phase)
      }

      const t = await createSession({name: `stop-${phase || 'none'}`})
      if (phase) await setPhase(String(t.id), phase)
      const stop = await api(server, 'POST', `/sessions/${t.id}/stop`)
      if (STOPPABLE_PHASES.has(phase)) {
        expect(stop.status, `stop from ${phase}`).toBe(200)
        expect(obj(stop.body).phase).toBe('Stopping')
        expect(String(obj(stop.body).updated_at) > String(t.updated_at)).toBe(true)
      } else {
        expectErrorBody(stop, 409)
      }
    }
    expectErrorBody(await api(server, 'POST', '/sessions/nope/start'), 404)
    expectErrorBody(await api(server, 'POST', '/sessions/nope/stop'), 404)
  })

  it('serves projects, project_settings and users', async () => {
    const p = obj((await api(server, 'POST', '/projects', {name: 'team-a', display_name: 'Team A', labels: '{"a":"b"}'})).body)
    expect(p).toMatchObject({kind: 'Project', id: 'team-a', name: 'team-a', href: `${server.basePath}/projects/team-a`})
    const p2 = obj((await api(server, 'PATCH', `/projects/${p.id}`, {status: 'Active', description: 'd'})).body)
    expect(p2).toMatchObject({status: 'Active', description: 'd', display_name: 'Team A'})
    expect(obj((await api(server, 'GET', '/projects')).body).kind).toBe('ProjectList')

    const ps = await api(server, 'POST', '/project_settings', {project_id: p.id, group_access: '[{"group":"devs","role":"edit"}]'})
    expect(ps.status).toBe(201)
    expect(ps.body).toMatchObject({kind: 'ProjectSettings', project_id: p.id})
    expectErrorBody(await api(server, 'POST', '/project_settings', {project_id: p.id}), 409)
    expectErrorBody(await api(server, 'POST', '/project_settings', {group_access: '[]'}), 400)
    expect(obj((await api(server, 'GET', '/project_settings')).body).kind).toBe('ProjectSettingsList')

    const u = await api(server, 'POST', '/users', {username: 'alice', name: 'Alice', email: 'a@example.com'})
    expect(u.status).toBe(201)
    expect(u.body).toMatchObject({kind: 'User', username: 'alice'})
    // The token's own user is there from the start.
    const users = obj((await api(server, 'GET', '/users')).body)
    expect(users).toMatchObject({kind: 'UserList', total: 2})
    expect(items(users).map((x) => x.username)).toEqual([USERNAME, 'alice'])
    expect((await api(server, 'DELETE', `/users/${obj(u.body).id}`)).status).toBe(204)
    expectErrorBody(await api(server, 'POST', '/users', {name: 'no username'}), 400)
    expectErrorBody(await api(server, 'POST', '/users', {username: 'no-name'}), 400)
  })
})

describe('REST errors', () => {
  it('answers every bad input with the error body and keeps serving', async () => {
    const s = await createSession()
    const cases: [string, string, unknown, number][] = [
      ['POST', '/sessions', '{not json', 400],
      ['POST', '/sessions', '', 400],
      ['POST', '/sessions', '[1,2]', 400],
      ['POST', '/sessions', '"a string"', 400],
      ['POST', '/sessions', 'null', 400],
      ['POST', '/sessions', {}, 400],
      ['POST', '/sessions', {name: ''}, 400],
      ['POST', '/sessions', {name: 123}, 400],
      ['POST', '/sessions', {name: 'x', timeout: 'abc'}, 400],
      ['POST', '/sessions', {name: 'x', timeout: 1.5}, 400],
      ['POST', '/sessions', {name: 'x', timeout: 2 ** 31}, 400],
      ['POST', '/sessions', {name: 'x', llm_temperature: 'hot'}, 400],
      ['POST', '/sessions', {name: 'x', repos: [{url: 'u'}]}, 400],
      ['POST', '/sessions', {name: 'x', labels: {a: 'b'}}, 400],
      ['POST', '/sessions', {name: 'x', color: 'blue'}, 400],
      ['POST', '/sessions', {name: 'x', interactive: true}, 400],
      ['POST', '/sessions', {name: 'x', id: 'mine'}, 400],
      ['POST', '/sessions', {name: 'x', created_at: 'not a time'}, 400],
      ['POST', '/sessions', {name: 'x'.repeat(256)}, 400],
      ['PATCH', `/sessions/${s.id}`, {name: ''}, 400],
      ['PATCH', `/sessions/${s.id}`, {timeout: '10'}, 400],
      ['PATCH', `/sessions/${s.id}`, '{"name": ', 400],
      ['PATCH', '/sessions/does-not-exist', {prompt: 'x'}, 404],
      ['GET', '/sessions/does-not-exist', undefined, 404],
      ['POST', '/projects', {display_name: 'no name'}, 400],
      ['GET', '/nothing-here', undefined, 404],
      ['GET', '/sessions/a/b/c', undefined, 404],
      ['GET', '/sessions/', undefined, 404],
      ['GET', `/sessions/${s.id}/start`, undefined, 405],
      ['PUT', `/sessions/${s.id}`, {name: 'x'}, 405],
      ['DELETE', '/sessions', undefined, 405],
      ['POST', `/projects/${s.id}/start`, undefined, 404],
    ]
    for (const [method, path, body, status] of cases) {
      const res = await api(server, method, path, body)
      const err = expectErrorBody(res, status)
      expect(err.href).toBe(`${server.basePath}/errors/${err.id}`)
      expect((await api(server, 'GET', `/sessions/${s.id}`)).status, `still serving after ${method} ${path}`).toBe(200)
    }
    const wrongMethod = await api(server, 'PUT', `/sessions/${s.id}`, {})
    expect(wrongMethod.headers.get('allow')).toBe('GET, PATCH, DELETE')
    expect(obj((await api(server, 'GET', `/sessions/${s.id}`)).body).updated_at).toBe(s.updated_at)
  })

  it('maps error kinds to rh-trex style ids', async () => {
    expect(expectErrorBody(await api(server, 'GET', '/sessions/nope'), 404).id).toBe('7')
    expect(expectErrorBody(await api(server, 'POST', '/sessions', {}), 400).id).toBe('8')
    expect(expectErrorBody(await api(server, 'POST', '/sessions', '{'), 400).id).toBe('17')
    expect(expectErrorBody(await api(server, 'GET', `/sessions?search=${encodeURIComponent('x ~ 1')}`), 400).id).toBe('23')
  })

  it('rejects bodies over the limit with 413 and keeps serving', async () => {
    const big = JSON.stringify({name: 'big', prompt: 'x'.repeat(1024 * 1024 + 10)})
    expectErrorBody(await api(server, 'POST', '/sessions', big), 413)
    // Chunked (no Content-Length): the limit applies while reading.
    const chunked = await new Promise<{status: number; body: string}>((resolve, reject) => {
      const url = new URL(`${server.url}${server.basePath}/sessions`)
      const req = request(url, {method: 'POST', headers: {Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json'}}, (res) => {
        let text = ''
        res.on('data', (c: Buffer) => (text += c.toString()))
        res.on('end', () => resolve({status: res.statusCode ?? 0, body: text}))
      })
      req.on('error', (err) => {
        // The server may close before the whole body is written; that is allowed.
        if ((err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET') return
        reject(err)
      })
      for (let i = 0; i < 20; i++) req.write('x'.repeat(100 * 1024))
      req.end()
    })
    expect(chunked.status).toBe(413)
    expect(obj(JSON.parse(chunked.body))).toMatchObject({kind: 'Error', id: '17', code: 'ambient-api-server-17'})
    expect((await api(server, 'GET', '/sessions?size=1')).status).toBe(200)
  })

  it('requires the bearer token everywhere, refusing in plain text like the real middleware', async () => {
    const s = await createSession()
    const bad: [Record<string, string>, string][] = [
      [{}, 'missing authorization header'],
      [{Authorization: 'Bearer wrong'}, 'invalid bearer token'],
      [{Authorization: `Basic ${TOKEN}`}, 'invalid authorization header format'],
      [{Authorization: 'Bearer'}, 'invalid authorization header format'],
      [{Authorization: `Bearer ${TOKEN}x`}, 'invalid bearer token'],
    ]
    for (const [headers, reason] of bad) {
      for (const [method, path] of [
        ['GET', '/sessions'],
        ['GET', `/sessions/${s.id}`],
        ['DELETE', `/sessions/${s.id}`],
        ['POST', `/sessions/${s.id}/start`],
        ['GET', '/nowhere'],
      ]) {
        const res = await fetch(`${server.url}${server.basePath}${path}`, {method, headers})
        expect(res.status).toBe(401)
        expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
        expect(await res.text()).toBe(`${reason}\n`)
      }
    }
    expect((await api(server, 'GET', `/sessions/${s.id}`)).status).toBe(200)
  })

  it('echoes a caller operation id and generates one otherwise', async () => {
    const given = await api(server, 'GET', '/sessions/nope', undefined, {'X-Operation-ID': 'op-123'})
    expect(expectErrorBody(given, 404).operation_id).toBe('op-123')
    const a = await api(server, 'GET', '/sessions?size=1')
    const b = await api(server, 'GET', '/sessions?size=1')
    expect(a.headers.get('x-operation-id')).toMatch(/^[0-9A-Za-z]{27}$/)
    expect(a.headers.get('x-operation-id')).not.toBe(b.headers.get('x-operation-id'))
  })

  it('keeps connections alive between requests', async () => {
    const agent = new Agent({keepAlive: true, maxSockets: 1})
    const reused: boolean[] = []
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request(`${server.url}${server.basePath}/sessions?size=1`, {agent, headers: {Authorization: `Bearer ${TOKEN}`}}, (res) => {
          res.resume()
          res.on('end', () => resolve())
        })
        req.on('error', reject)
        reused.push(req.reusedSocket)
        req.end()
      })
    }
    agent.destroy()
    expect(reused).toEqual([false, true, true])
  })
})
