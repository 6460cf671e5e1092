// Contract 1.4: Project and ProjectSettings over REST.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {ApiServer} from '../../src/lib/server/index.js'
import {call, create, expectStatus, projectName, startServer, type Json} from './helpers.js'

let server: ApiServer

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

/** Names the rule refuses, and why. */
const BAD_NAMES: [string, string][] = [
  ['a', 'shorter than 2'],
  ['a'.repeat(64), 'longer than 63'],
  ['Team-a', 'upper case'],
  ['1team', 'starts with a digit'],
  ['-team', 'starts with a hyphen'],
  ['team-', 'ends with a hyphen'],
  ['team_a', 'underscore'],
  ['team.a', 'dot'],
  ['team a', 'space'],
  ['tëam', 'not ASCII'],
]
const GOOD_NAMES = ['ab', 'a1', 'team-a', 'a--b', `a${'b'.repeat(62)}`]

describe('contract 1.4: Project and ProjectSettings', () => {
  it("1.4 a project's id is its name, so GET /projects/{name} works", async () => {
    const name = projectName('byname')
    const p = await create(server, 'projects', {name})
    expect(p.id).toBe(name)
    expect(p.href).toBe(`${server.basePath}/projects/${name}`)
    expect(expectStatus(await call(server, 'GET', `/projects/${name}`), 200)).toEqual(p)
  })

  it('1.4 name is required', async () => {
    for (const body of [{}, {name: ''}, {display_name: 'no name'}])
      expect((await call(server, 'POST', '/projects', {body})).status, JSON.stringify(body)).toBe(400)
  })

  it('1.4 a project name is 2 to 63 characters matching ^[a-z][a-z0-9-]*[a-z0-9]$, checked on create, else 400', async () => {
    for (const [name, why] of BAD_NAMES) expect((await call(server, 'POST', '/projects', {body: {name}})).status, `${name} (${why})`).toBe(400)
    for (const name of GOOD_NAMES) expect((await call(server, 'POST', '/projects', {body: {name}})).status, name).toBe(201)
  })

  it('1.4 the name rule is checked on rename too', async () => {
    const p = await create(server, 'projects', {name: projectName('rename')})
    for (const [name, why] of BAD_NAMES)
      expect((await call(server, 'PATCH', `/projects/${String(p.id)}`, {body: {name}})).status, `${name} (${why})`).toBe(400)
    const renamed = expectStatus(await call(server, 'PATCH', `/projects/${String(p.id)}`, {body: {name: projectName('renamed')}}), 200)
    // The id stays what it was: it is set once, on create.
    expect(renamed.id).toBe(p.id)
  })

  it('1.4 a second project with the same name is 409', async () => {
    const name = projectName('twice')
    await create(server, 'projects', {name})
    expect((await call(server, 'POST', '/projects', {body: {name}})).status).toBe(409)
    const other = await create(server, 'projects', {name: projectName('other')})
    expect((await call(server, 'PATCH', `/projects/${String(other.id)}`, {body: {name}})).status).toBe(409)
  })

  it('1.4 a project has name, display_name, description, labels, annotations and status', async () => {
    const fields: Json = {
      name: projectName('fields'),
      display_name: 'Team',
      description: 'd',
      labels: '{"a":"b"}',
      annotations: '{"c":"d"}',
      status: 'Active',
    }
    const p = await create(server, 'projects', fields)
    expect(p).toMatchObject(fields)
    const changes = {display_name: 'Team 2', description: 'd2', labels: '{}', annotations: '{}', status: 'Archived'}
    expect(expectStatus(await call(server, 'PATCH', `/projects/${String(p.id)}`, {body: changes}), 200)).toMatchObject(changes)
  })

  it('1.4 ProjectSettings has project_id (required), group_access and repositories (JSON strings)', async () => {
    const project = await create(server, 'projects', {name: projectName('settings')})
    expect((await call(server, 'POST', '/project_settings', {body: {group_access: '[]'}})).status).toBe(400)
    const body = {
      project_id: String(project.id),
      group_access: '[{"group":"devs","role":"edit"}]',
      repositories: '[{"url":"https://github.com/acme/web"}]',
    }
    expect(await create(server, 'project_settings', body)).toMatchObject({kind: 'ProjectSettings', ...body})
    expect((await call(server, 'POST', '/project_settings', {body: {project_id: 'x', group_access: [{group: 'devs', role: 'edit'}]}})).status).toBe(
      400,
    )
    expect((await call(server, 'POST', '/project_settings', {body: {project_id: 'x', runner_secrets: '{}'}})).status).toBe(400)
  })
})
