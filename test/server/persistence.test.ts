import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {api, items, obj, startTestServer} from './helpers.js'

let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ambient-api-db-'))
})
afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

describe('--db persistence', () => {
  it('brings every object back after a restart on the same file, timestamps to the microsecond', async () => {
    const dbPath = join(dir, 'ambient.db')
    const first = await startTestServer({dbPath})
    const ids: string[] = []
    for (let i = 0; i < 5; i++)
      ids.push(String(obj((await api(first, 'POST', '/sessions', {name: `keep-${i}`, repos: '[oops', project_id: 'p'})).body).id))
    await api(first, 'PATCH', `/sessions/${ids[1]}/status`, {phase: 'Running', start_time: '2026-04-05T06:07:08.654321Z', conditions: '[]'})
    await api(first, 'PATCH', `/sessions/${ids[2]}`, {prompt: 'edited'})
    await api(first, 'POST', `/sessions/${ids[3]}/start`)
    await api(first, 'DELETE', `/sessions/${ids[4]}`)
    const project = obj((await api(first, 'POST', '/projects', {name: 'kept', labels: '{"x":"y"}'})).body)
    const settings = obj((await api(first, 'POST', '/project_settings', {project_id: project.id, group_access: '[]'})).body)
    const user = obj((await api(first, 'POST', '/users', {username: 'u1', name: 'User One'})).body)
    const sessionsBefore = obj((await api(first, 'GET', '/sessions')).body)
    await first.close()

    const second = await startTestServer({dbPath})
    try {
      expect((await api(second, 'GET', '/sessions')).body).toEqual(sessionsBefore)
      expect(items(sessionsBefore).map((s) => s.id)).toEqual(ids.slice(0, 4))
      const running = obj((await api(second, 'GET', `/sessions/${ids[1]}`)).body)
      expect(running).toMatchObject({phase: 'Running', start_time: '2026-04-05T06:07:08.654321Z', repos: '[oops'})
      expect(running.updated_at).toMatch(/\.\d{6}Z$/)
      expect((await api(second, 'GET', `/sessions/${ids[4]}`)).status).toBe(404)
      expect((await api(second, 'GET', `/projects/${project.id}`)).body).toEqual(project)
      expect((await api(second, 'GET', `/project_settings/${settings.id}`)).body).toEqual(settings)
      expect((await api(second, 'GET', `/users/${user.id}`)).body).toEqual(user)
      // The token's user was registered once, not once per start.
      expect(obj((await api(second, 'GET', '/users')).body).total).toBe(2)
      // Rules that depend on stored state still hold, and new writes get later timestamps and new ids.
      expect((await api(second, 'POST', '/project_settings', {project_id: project.id})).status).toBe(409)
      const latest =
        items(sessionsBefore)
          .map((s) => String(s.updated_at))
          .sort()
          .at(-1) ?? ''
      const fresh = obj((await api(second, 'POST', '/sessions', {name: 'after-restart'})).body)
      expect(String(fresh.created_at) > latest).toBe(true)
      expect(ids).not.toContain(fresh.id)
      const edited = obj((await api(second, 'PATCH', `/sessions/${ids[0]}`, {prompt: 'later'})).body)
      expect(String(edited.updated_at) > latest).toBe(true)
      expect(obj((await api(second, 'GET', '/sessions')).body).total).toBe(5)
    } finally {
      await second.close()
    }

    // The writes of the second run are durable too.
    const third = await startTestServer({dbPath})
    try {
      const list = obj((await api(third, 'GET', '/sessions')).body)
      expect(items(list).map((s) => s.name)).toEqual(['keep-0', 'keep-1', 'keep-2', 'keep-3', 'after-restart'])
      expect(items(list)[0].prompt).toBe('later')
    } finally {
      await third.close()
    }
  })

  it('fails to start on an unusable database path', async () => {
    await expect(startTestServer({dbPath: join(dir, 'missing-dir', 'x.db')})).rejects.toThrow(/cannot open database/)
  })
})
