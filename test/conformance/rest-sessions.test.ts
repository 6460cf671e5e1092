// Contract 1.3: the Session resource over REST (spec and status fields, what create and the
// two PATCHes take, what the server sets).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SESSION_PHASES, SESSION_SPEC_FIELDS, SESSION_STATUS_PATCH_FIELDS} from '../../src/lib/api/types.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import {call, create, expectStatus, startServer, USERNAME, type Json} from './helpers.js'

let server: ApiServer

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

/** A value of the right wire type for every spec field. */
const SPEC: Json = {
  name: 'spec',
  repo_url: 'https://github.com/acme/web',
  prompt: 'do it',
  assigned_user_id: 'bob',
  workflow_id: 'wf',
  repos: '[{"url":"https://github.com/acme/web","branch":"dev","autoPush":true}]',
  timeout: 600,
  llm_model: 'opus',
  llm_temperature: 0.2,
  llm_max_tokens: 1000,
  parent_session_id: 'parent',
  bot_account_name: 'bot',
  resource_overrides: '{"cpu":"2"}',
  environment_variables: '{"A":"1"}',
  labels: '{"team":"a"}',
  annotations: '{"note":"x"}',
  project_id: 'spec-project',
}

/** A value of the right wire type for every status field the status PATCH takes. */
const STATUS: Json = {
  phase: 'Running',
  start_time: '2026-01-02T03:04:05.123456Z',
  completion_time: '2026-01-02T04:04:05.654321Z',
  sdk_session_id: 'sdk',
  sdk_restart_count: 2,
  conditions: '[{"type":"Ready","status":"True"}]',
  reconciled_repos: '[{"url":"https://github.com/acme/web","status":"Ready"}]',
  reconciled_workflow: '{"status":"Active"}',
  kube_cr_uid: 'uid-1',
  kube_namespace: 'ns-1',
}

const sessionPath = (s: Json, sub = '') => `/sessions/${String(s.id)}${sub}`

describe('contract 1.3: Session', () => {
  it('1.3 name is required', async () => {
    for (const body of [{}, {name: ''}, {prompt: 'no name'}])
      expect((await call(server, 'POST', '/sessions', {body})).status, JSON.stringify(body)).toBe(400)
  })

  it('1.3 every spec field can be set on create', async () => {
    expect(Object.keys(SPEC).sort()).toEqual([...SESSION_SPEC_FIELDS].sort())
    expect(await create(server, 'sessions', SPEC)).toMatchObject(SPEC)
  })

  it('1.3 created_by_user_id is set from the caller identity, whatever the body says', async () => {
    expect((await create(server, 'sessions', {name: 'mine'})).created_by_user_id).toBe(USERNAME)
    expect((await create(server, 'sessions', {name: 'spoofed', created_by_user_id: 'mallory'})).created_by_user_id).toBe(USERNAME)
    const other = await startServer({username: 'someone-else'})
    try {
      expect((await create(other, 'sessions', {name: 'theirs'})).created_by_user_id).toBe('someone-else')
    } finally {
      await other.close()
    }
  })

  it('1.3 create assigns the id; a body that carries id is 400', async () => {
    const a = await create(server, 'sessions', {name: 'a'})
    const b = await create(server, 'sessions', {name: 'b'})
    expect(typeof a.id).toBe('string')
    expect(a.id).not.toBe(b.id)
    expect((await call(server, 'POST', '/sessions', {body: {name: 'c', id: 'chosen'}})).status).toBe(400)
    expect((await call(server, 'GET', '/sessions/chosen')).status).toBe(404)
  })

  it('1.3 create sets kube_cr_name to the id', async () => {
    const s = await create(server, 'sessions', {name: 'cr'})
    expect(s.kube_cr_name).toBe(s.id)
    expect(s.kube_cr_uid).toBeUndefined()
  })

  it('1.3 create fills llm_model "sonnet", llm_temperature 0.7 and llm_max_tokens 4000 when absent', async () => {
    expect(await create(server, 'sessions', {name: 'defaults'})).toMatchObject({llm_model: 'sonnet', llm_temperature: 0.7, llm_max_tokens: 4000})
    expect(await create(server, 'sessions', {name: 'given', llm_model: 'opus', llm_temperature: 0, llm_max_tokens: 1})).toMatchObject({
      llm_model: 'opus',
      llm_temperature: 0,
      llm_max_tokens: 1,
    })
  })

  it('1.3 create bodies: a key the resource does not declare at all is 400', async () => {
    for (const key of ['color', 'interactive', 'runner_secrets']) {
      expect((await call(server, 'POST', '/sessions', {body: {name: 'x', [key]: 'v'}})).status, key).toBe(400)
    }
  })

  it('1.3 create bodies: declared read-only keys (created_by_user_id, status fields) are accepted and dropped', async () => {
    const body: Json = {
      name: 'dropped',
      created_by_user_id: 'mallory',
      kube_cr_name: 'mine',
      ...STATUS,
      kind: 'Session',
      href: '/x',
      created_at: '2020-01-01T00:00:00Z',
      updated_at: '2020-01-01T00:00:00Z',
    }
    const s = await create(server, 'sessions', body)
    expect(s.created_by_user_id).toBe(USERNAME)
    expect(s.kube_cr_name).toBe(s.id)
    for (const field of SESSION_STATUS_PATCH_FIELDS) expect(s[field], field).toBeUndefined()
    expect(String(s.created_at) > '2020-01-01').toBe(true)
    // Dropped, but still decoded: a declared key of the wrong type is 400.
    for (const bad of [{kind: 5}, {created_by_user_id: 1}, {phase: ['Running']}, {created_at: 'yesterday'}]) {
      expect((await call(server, 'POST', '/sessions', {body: {name: 'typed', ...bad}})).status, JSON.stringify(bad)).toBe(400)
    }
  })

  it('1.3 PATCH /sessions/{id} takes every spec field except project_id', async () => {
    const s = await create(server, 'sessions', {name: 'edit', project_id: 'first'})
    const changes: Json = {...SPEC, name: 'edited', project_id: 'second'}
    const patched = expectStatus(await call(server, 'PATCH', sessionPath(s), {body: changes}), 200)
    expect(patched).toMatchObject({...changes, project_id: 'first'})
  })

  it('1.3 project_id is immutable: a session never moves between projects', async () => {
    const s = await create(server, 'sessions', {name: 'stay', project_id: 'home'})
    expect(expectStatus(await call(server, 'PATCH', sessionPath(s), {body: {project_id: 'away'}}), 200).project_id).toBe('home')
    expect(expectStatus(await call(server, 'GET', sessionPath(s)), 200).project_id).toBe('home')
  })

  it('1.3 PATCH bodies are decoded leniently: keys the PATCH does not take are ignored, so a fetched object can be PATCHed back', async () => {
    const s = await create(server, 'sessions', {name: 'round', prompt: 'one'})
    expectStatus(await call(server, 'PATCH', sessionPath(s, '/status'), {body: {phase: 'Running', kube_cr_uid: 'uid'}}), 200)
    const fetched = expectStatus(await call(server, 'GET', sessionPath(s)), 200)
    const back = expectStatus(
      await call(server, 'PATCH', sessionPath(s), {
        body: {...fetched, prompt: 'two', id: 'other', phase: 'Failed', kube_cr_uid: 'x', unknown_key: {deep: [1]}},
      }),
      200,
    )
    expect(back).toMatchObject({id: s.id, prompt: 'two', phase: 'Running', kube_cr_uid: 'uid', created_at: s.created_at})
    expect(back.unknown_key).toBeUndefined()
  })

  it('1.3 the status PATCH is decoded leniently too: keys it does not take are ignored', async () => {
    const s = await create(server, 'sessions', {name: 'lenient', prompt: 'keep'})
    const fetched = expectStatus(await call(server, 'GET', sessionPath(s)), 200)
    const res = expectStatus(
      await call(server, 'PATCH', sessionPath(s, '/status'), {
        body: {...fetched, phase: 'Creating', prompt: 'changed', kube_cr_name: 'x', whatever: true},
      }),
      200,
    )
    expect(res).toMatchObject({phase: 'Creating', prompt: 'keep', kube_cr_name: s.id})
    // A body with nothing the status PATCH takes sets nothing: 400, like the real server.
    expect((await call(server, 'PATCH', sessionPath(s, '/status'), {body: {prompt: 'x'}})).status).toBe(400)
  })

  it('1.3 the status PATCH takes phase, start_time, completion_time, sdk_session_id, sdk_restart_count, conditions, reconciled_repos, reconciled_workflow, kube_cr_uid and kube_namespace', async () => {
    expect(Object.keys(STATUS).sort()).toEqual([...SESSION_STATUS_PATCH_FIELDS].sort())
    const s = await create(server, 'sessions', {name: 'status'})
    expect(expectStatus(await call(server, 'PATCH', sessionPath(s, '/status'), {body: STATUS}), 200)).toMatchObject(STATUS)
  })

  it('1.3 status fields are read-only on the main resource (written only through /status)', async () => {
    const s = await create(server, 'sessions', {name: 'ro'})
    const patched = expectStatus(await call(server, 'PATCH', sessionPath(s), {body: {...STATUS, kube_cr_name: 'x', name: 'ro2'}}), 200)
    expect(patched.name).toBe('ro2')
    for (const field of [...SESSION_STATUS_PATCH_FIELDS]) expect(patched[field], field).toBeUndefined()
    expect(patched.kube_cr_name).toBe(s.id)
  })

  it('1.3 JSON-document fields are strings, and malformed content is kept as it is', async () => {
    const malformed = {name: 'docs', repos: '[{"url":', labels: 'not json', annotations: '{', resource_overrides: '[]', environment_variables: 'x=1'}
    expect(await create(server, 'sessions', malformed)).toMatchObject(malformed)
    expect((await call(server, 'POST', '/sessions', {body: {name: 'obj', labels: {team: 'a'}}})).status).toBe(400)
  })

  it('1.3 the phases are Pending, Creating, Running, Stopping, Stopped, Completed and Failed', async () => {
    const s = await create(server, 'sessions', {name: 'phases'})
    for (const phase of SESSION_PHASES)
      expect(expectStatus(await call(server, 'PATCH', sessionPath(s, '/status'), {body: {phase}}), 200).phase).toBe(phase)
    expect(SESSION_PHASES).toEqual(['Pending', 'Creating', 'Running', 'Stopping', 'Stopped', 'Completed', 'Failed'])
    for (const phase of ['Exploded', 'running', ''])
      expect((await call(server, 'PATCH', sessionPath(s, '/status'), {body: {phase}})).status, phase).toBe(400)
  })

  it('1.3 timeout, llm_max_tokens and sdk_restart_count are integers; llm_temperature is a double', async () => {
    expect((await call(server, 'POST', '/sessions', {body: {name: 'i', timeout: 1.5}})).status).toBe(400)
    expect((await call(server, 'POST', '/sessions', {body: {name: 'i', llm_max_tokens: '10'}})).status).toBe(400)
    expect((await create(server, 'sessions', {name: 'd', llm_temperature: 0.25})).llm_temperature).toBe(0.25)
    const s = await create(server, 'sessions', {name: 'c'})
    expect((await call(server, 'PATCH', sessionPath(s, '/status'), {body: {sdk_restart_count: 0.5}})).status).toBe(400)
  })
})
