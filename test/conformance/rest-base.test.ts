// Contract section 1: base path, auth and the endpoint table, against the embedded server.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SESSION_PHASES} from '../../src/lib/api/types.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import {call, create, expectStatus, itemsOf, projectName, startServer} from './helpers.js'

let server: ApiServer

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

async function sessionInPhase(phase: string): Promise<string> {
  const s = await create(server, 'sessions', {name: `in-${phase || 'none'}`})
  if (phase) expectStatus(await call(server, 'PATCH', `/sessions/${String(s.id)}/status`, {body: {phase}}), 200)
  return String(s.id)
}

/** POST /sessions/{id}/<action> from every phase: allowed ones land in `result`, the others are 409. */
async function checkTransition(action: string, allowedFrom: string[], result: string): Promise<void> {
  for (const phase of ['', ...SESSION_PHASES]) {
    const id = await sessionInPhase(phase)
    const res = await call(server, 'POST', `/sessions/${id}/${action}`)
    if (allowedFrom.includes(phase)) expect(expectStatus(res, 200).phase, `${action} from "${phase}"`).toBe(result)
    else expect(res.status, `${action} from "${phase}"`).toBe(409)
  }
}

describe('contract 1: REST', () => {
  it('1 the base path is /api/ambient/v1 and serves sessions, projects, project_settings and users', async () => {
    expect(server.basePath).toBe('/api/ambient/v1')
    for (const resource of ['sessions', 'projects', 'project_settings', 'users']) {
      expect((await call(server, 'GET', `/${resource}`)).status, resource).toBe(200)
    }
  })

  it('1 the base path is configurable (the older generation used /api/ambient-api-server/v1)', async () => {
    const legacy = await startServer({basePath: '/api/ambient-api-server/v1'})
    try {
      expect((await call(legacy, 'GET', '/sessions')).status).toBe(200)
      const res = await fetch(`${legacy.url}/api/ambient/v1/sessions`, {headers: {Authorization: 'Bearer conformance-token'}})
      expect(res.status).toBe(404)
    } finally {
      await legacy.close()
    }
  })

  it('1 every call needs Authorization: Bearer <token>; a bad token is 401', async () => {
    const s = await create(server, 'sessions', {name: 'auth'})
    for (const [method, path] of [
      ['GET', '/sessions'],
      ['POST', '/sessions'],
      ['GET', `/sessions/${String(s.id)}`],
      ['DELETE', `/sessions/${String(s.id)}`],
      ['POST', `/sessions/${String(s.id)}/start`],
    ]) {
      expect((await call(server, method, path, {token: null})).status, `${method} ${path} without a token`).toBe(401)
      expect((await call(server, method, path, {token: 'wrong'})).status, `${method} ${path} with a wrong token`).toBe(401)
    }
    expect((await call(server, 'GET', `/sessions/${String(s.id)}`)).status).toBe(200)
  })

  it('1 POST /{resource} creates and answers 201 with the object', async () => {
    const created = await call(server, 'POST', '/sessions', {body: {name: 'made'}})
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({kind: 'Session', name: 'made'})
  })

  it('1 GET /{resource}/{id} answers the object, or 404 if absent', async () => {
    const s = await create(server, 'sessions', {name: 'got'})
    expect(expectStatus(await call(server, 'GET', `/sessions/${String(s.id)}`), 200)).toEqual(s)
    for (const resource of ['sessions', 'projects', 'project_settings', 'users']) {
      expect((await call(server, 'GET', `/${resource}/absent-id`)).status, resource).toBe(404)
    }
  })

  it('1 PATCH /{resource}/{id} updates spec fields and keeps the others', async () => {
    const s = await create(server, 'sessions', {name: 'before', prompt: 'keep'})
    const patched = expectStatus(await call(server, 'PATCH', `/sessions/${String(s.id)}`, {body: {name: 'after'}}), 200)
    expect(patched).toMatchObject({id: s.id, name: 'after', prompt: 'keep'})
  })

  it('1 DELETE /{resource}/{id} removes the object', async () => {
    const s = await create(server, 'sessions', {name: 'doomed'})
    expect((await call(server, 'DELETE', `/sessions/${String(s.id)}`)).status).toBe(204)
    expect((await call(server, 'GET', `/sessions/${String(s.id)}`)).status).toBe(404)
    expect((await call(server, 'DELETE', `/sessions/${String(s.id)}`)).status).toBe(404)
  })

  it('1 PATCH /sessions/{id}/status writes status fields and returns the Session with a new updated_at', async () => {
    const s = await create(server, 'sessions', {name: 'status'})
    const res = expectStatus(await call(server, 'PATCH', `/sessions/${String(s.id)}/status`, {body: {phase: 'Running'}}), 200)
    expect(res).toMatchObject({kind: 'Session', id: s.id, name: 'status', phase: 'Running'})
    expect(String(res.updated_at) > String(s.updated_at)).toBe(true)
  })

  it('1 POST /sessions/{id}/start is allowed when the phase is empty, Stopped, Failed or Completed, sets Pending, else 409', async () => {
    await checkTransition('start', ['', 'Stopped', 'Failed', 'Completed'], 'Pending')
  })

  it('1 POST /sessions/{id}/stop is allowed when the phase is Running, Creating or Pending, sets Stopping, else 409', async () => {
    await checkTransition('stop', ['Running', 'Creating', 'Pending'], 'Stopping')
  })

  it('1 every resource has the same five endpoints', async () => {
    const bodies: Record<string, () => Record<string, unknown>> = {
      sessions: () => ({name: 'crud'}),
      projects: () => ({name: projectName('crud')}),
      project_settings: () => ({project_id: projectName('crud')}),
      users: () => ({username: 'crud-user', name: 'Crud User'}),
    }
    for (const [resource, body] of Object.entries(bodies)) {
      const created = await create(server, resource, body())
      const id = String(created.id)
      expect(
        itemsOf(expectStatus(await call(server, 'GET', `/${resource}?size=65500`), 200)).map((o) => o.id),
        resource,
      ).toContain(id)
      expectStatus(await call(server, 'GET', `/${resource}/${id}`), 200)
      expectStatus(await call(server, 'PATCH', `/${resource}/${id}`, {body: {}}), 200)
      expect((await call(server, 'DELETE', `/${resource}/${id}`)).status, resource).toBe(204)
    }
  })
})
