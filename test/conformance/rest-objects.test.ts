// Contract 1.2: the fields every object carries, and updated_at on every write.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {ApiServer} from '../../src/lib/server/index.js'
import {call, create, expectStatus, projectName, startServer, type Json} from './helpers.js'

let server: ApiServer
let objects: Record<string, Json>

beforeAll(async () => {
  server = await startServer()
  const project = await create(server, 'projects', {name: projectName('meta')})
  objects = {
    sessions: await create(server, 'sessions', {name: 'meta'}),
    projects: project,
    project_settings: await create(server, 'project_settings', {project_id: String(project.id)}),
    users: await create(server, 'users', {username: 'meta-user', name: 'Meta'}),
  }
})
afterAll(async () => {
  await server.close()
})

const MICROS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/

describe('contract 1.2: common object fields', () => {
  it('1.2 every object carries id, kind, href, created_at and updated_at', async () => {
    const kinds: Record<string, string> = {sessions: 'Session', projects: 'Project', project_settings: 'ProjectSettings', users: 'User'}
    for (const [resource, created] of Object.entries(objects)) {
      const got = expectStatus(await call(server, 'GET', `/${resource}/${String(created.id)}`), 200)
      expect(typeof got.id, resource).toBe('string')
      expect(got.id).not.toBe('')
      expect(got.kind, resource).toBe(kinds[resource])
      expect(got.href, resource).toBe(`${server.basePath}/${resource}/${String(got.id)}`)
      expect(typeof got.created_at, resource).toBe('string')
      expect(typeof got.updated_at, resource).toBe('string')
    }
  })

  it('1.2 timestamps are RFC 3339 with microsecond precision', async () => {
    for (const [resource, created] of Object.entries(objects)) {
      expect(created.created_at, resource).toMatch(MICROS)
      expect(created.updated_at, resource).toMatch(MICROS)
    }
    const s = objects.sessions
    const status = expectStatus(
      await call(server, 'PATCH', `/sessions/${String(s.id)}/status`, {body: {start_time: '2026-05-06T07:08:09.1234567+02:00'}}),
      200,
    )
    expect(status.start_time).toMatch(MICROS)
    expect(status.updated_at).toMatch(MICROS)
  })

  it('1.2 updated_at changes on every write, status writes included', async () => {
    const s = await create(server, 'sessions', {name: 'writes'})
    const id = String(s.id)
    let last = String(s.updated_at)
    const writes: [string, string, unknown][] = [
      ['PATCH', `/sessions/${id}`, {prompt: 'p'}],
      ['PATCH', `/sessions/${id}/status`, {phase: 'Running'}],
      ['PATCH', `/sessions/${id}/status`, {phase: 'Running'}],
      ['POST', `/sessions/${id}/stop`, undefined],
      ['PATCH', `/sessions/${id}/status`, {phase: 'Stopped'}],
      ['POST', `/sessions/${id}/start`, undefined],
    ]
    for (const [method, path, body] of writes) {
      const next = String(expectStatus(await call(server, method, path, {body}), 200).updated_at)
      expect(next > last, `${method} ${path}`).toBe(true)
      last = next
    }
    const project = objects.projects
    const patched = expectStatus(await call(server, 'PATCH', `/projects/${String(project.id)}`, {body: {description: 'd'}}), 200)
    expect(String(patched.updated_at) > String(project.updated_at)).toBe(true)
    expect(patched.created_at).toBe(project.created_at)
  })
})
