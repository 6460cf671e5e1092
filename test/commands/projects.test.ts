// `ambient projects ...` and `ambient project-settings ...` as real processes.
import fs from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {ListResponse, Project, ProjectSettings} from '../../src/lib/api/types.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {assertBuilt, json, record, runCli, tempConfigDir} from './helpers.js'

const TOKEN = 'cli-projects-token'
let server: ApiServer
let configDir: string
let env: Record<string, string>

beforeAll(async () => {
  assertBuilt([
    'projects:ls',
    'projects:get',
    'projects:create',
    'projects:rm',
    'project-settings:ls',
    'project-settings:get',
    'project-settings:create',
    'project-settings:rm',
  ])
  server = await startApiServer({host: '127.0.0.1', port: 0, grpcPort: 0, token: TOKEN})
  configDir = tempConfigDir()
  env = {AMBIENT_CONFIG_DIR: configDir, AMBIENT_API_SERVER_URL: server.url, AMBIENT_API_TOKEN: TOKEN}
})
afterAll(async () => {
  await server.close()
  fs.rmSync(configDir, {recursive: true, force: true})
})

describe('projects', () => {
  it('creates, gets, lists and deletes a project', async () => {
    const created = await runCli(['projects', 'create', '--name', 'team-a', '--display-name', 'Team A', '--description', 'Frontend', '--json'], env)
    expect(created.code, created.stderr).toBe(0)
    const project = record(json(created)) as unknown as Project
    expect(project).toMatchObject({kind: 'Project', name: 'team-a', display_name: 'Team A', description: 'Frontend'})

    // A project's id is its name.
    expect(project.id).toBe('team-a')
    const got = await runCli(['projects', 'get', 'team-a', '--json'], env)
    expect(json(got)).toEqual(project)

    const listed = await runCli(['projects', 'ls', '--json'], env)
    expect(json(listed)).toEqual([project])
    const page = await runCli(['projects', 'ls', '--size', '1', '--json'], env)
    expect(json(page) as ListResponse<Project>).toMatchObject({kind: 'ProjectList', page: 1, total: 1, items: [project]})

    const removed = await runCli(['projects', 'rm', project.id, '--json'], env)
    expect(json(removed)).toEqual({deleted: [project.id]})
    const gone = await runCli(['projects', 'get', project.id], env)
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain(`project ${project.id} not found`)
  })

  it('exits 2 without a name', async () => {
    expect((await runCli(['projects', 'create'], env)).code).toBe(2)
  })

  it('explains why the server refuses a name, and a second project of the same name', async () => {
    // oclif wraps long messages: read them as one line.
    const flat = (text: string) => text.replace(/\s*›\s*/g, ' ').replace(/\s+/g, ' ')
    const bad = await runCli(['projects', 'create', '--name', 'Team_A'], env)
    expect(bad.code).toBe(1)
    expect(flat(bad.stderr)).toContain('DNS-1123')
    expect(flat(bad.stderr)).toContain('HTTP 400')
    expect((await runCli(['projects', 'create', '--name', 'dup-team'], env)).code).toBe(0)
    const again = await runCli(['projects', 'create', '--name', 'dup-team'], env)
    expect(again.code).toBe(1)
    expect(flat(again.stderr)).toContain('This Project already exists (HTTP 409')
  })
})

describe('project-settings', () => {
  it('creates, gets, lists and deletes project settings', async () => {
    const project = server.store.create('projects', {name: 'team-b'})
    const created = await runCli(
      [
        'project-settings',
        'create',
        '--project-id',
        project.id,
        '--group-access',
        '[{"group": "devs", "role": "edit"}]',
        '--repositories',
        '[{"url": "https://github.com/acme/web"}]',
        '--json',
      ],
      env,
    )
    expect(created.code, created.stderr).toBe(0)
    const settings = record(json(created)) as unknown as ProjectSettings
    expect(settings).toMatchObject({
      kind: 'ProjectSettings',
      project_id: project.id,
      group_access: '[{"group":"devs","role":"edit"}]',
      repositories: '[{"url":"https://github.com/acme/web"}]',
    })

    expect(json(await runCli(['project-settings', 'get', settings.id, '--json'], env))).toEqual(settings)
    expect(json(await runCli(['project-settings', 'ls', '--json'], env))).toEqual([settings])
    const table = await runCli(['project-settings', 'ls'], env)
    expect(table.stdout.split('\n')[0].split(/\s+/)).toEqual(['ID', 'PROJECT', 'GROUPS', 'REPOSITORIES', 'AGE'])

    // One settings object per project: the server's conflict reaches the user.
    const duplicate = await runCli(['project-settings', 'create', '--project-id', project.id], env)
    expect(duplicate.code).toBe(1)
    expect(duplicate.stderr).toContain('HTTP 409')

    expect(json(await runCli(['project-settings', 'rm', settings.id, '--json'], env))).toEqual({deleted: [settings.id]})
    const gone = await runCli(['project-settings', 'get', settings.id], env)
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain(`project settings ${settings.id} not found`)
  })

  it('refuses malformed group access with exit 2', async () => {
    const result = await runCli(['project-settings', 'create', '--project-id', 'p', '--group-access', '[{"group": "devs"}]'], env)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--group-access')
    expect(server.store.count('project_settings')).toBe(0)
  })
})
