// `ambient sessions ...` as a real process against the embedded API server.
import fs from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {ListResponse, Session} from '../../src/lib/api/types.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {assertBuilt, json, record, runCli, tempConfigDir} from './helpers.js'

const TOKEN = 'cli-sessions-token'
let server: ApiServer
let configDir: string
let env: Record<string, string>

beforeAll(async () => {
  assertBuilt(['sessions:ls', 'sessions:get', 'sessions:create', 'sessions:rm', 'sessions:start', 'sessions:stop'])
  server = await startApiServer({host: '127.0.0.1', port: 0, grpcPort: 0, token: TOKEN})
  configDir = tempConfigDir()
  env = {AMBIENT_CONFIG_DIR: configDir, AMBIENT_API_SERVER_URL: server.url, AMBIENT_API_TOKEN: TOKEN}
})
afterAll(async () => {
  await server.close()
  fs.rmSync(configDir, {recursive: true, force: true})
})

describe('sessions create / get', () => {
  it('creates a session from flags and returns it under --json', async () => {
    const result = await runCli(
      [
        'sessions',
        'create',
        '--name',
        'cli-made',
        '--prompt',
        'Fix the bug',
        '--repo-url',
        'https://github.com/acme/web',
        '--model',
        'opus',
        '--temperature',
        '0.25',
        '--max-tokens',
        '2048',
        '--timeout',
        '900',
        '--repos',
        '[ {"url": "https://github.com/acme/api", "branch": "dev"} ]',
        '--labels',
        '{"team": "a"}',
        '--env',
        'DEBUG=1',
        '--env',
        'MODE=a=b',
        '--json',
      ],
      {...env, AMBIENT_API_PROJECT: 'from-env'},
    )
    expect(result.code, result.stderr).toBe(0)
    const created = record(json(result))
    expect(created).toMatchObject({
      kind: 'Session',
      name: 'cli-made',
      prompt: 'Fix the bug',
      repo_url: 'https://github.com/acme/web',
      llm_model: 'opus',
      llm_temperature: 0.25,
      llm_max_tokens: 2048,
      timeout: 900,
      repos: '[{"url":"https://github.com/acme/api","branch":"dev"}]',
      labels: '{"team":"a"}',
      environment_variables: '{"DEBUG":"1","MODE":"a=b"}',
      project_id: 'from-env',
    })
    expect(server.store.get('sessions', String(created.id))).toEqual(created)

    const got = await runCli(['sessions', 'get', String(created.id), '--json'], env)
    expect(got.code).toBe(0)
    expect(json(got)).toEqual(created)

    const shown = await runCli(['sessions', 'get', String(created.id)], env)
    expect(shown.stdout).toContain('name: cli-made')
    expect(shown.stdout).toContain(`id: ${created.id}`)
  })

  it('refuses malformed flags with exit 2 before calling the server', async () => {
    const before = server.store.count('sessions')
    const badRepos = await runCli(['sessions', 'create', '--name', 'x', '--repos', '[{"branch":"main"}]'], env)
    expect(badRepos.code).toBe(2)
    expect(badRepos.stderr).toContain('--repos')
    const notJson = await runCli(['sessions', 'create', '--name', 'x', '--labels', '{team: a}'], env)
    expect(notJson.code).toBe(2)
    expect(notJson.stderr).toContain('--labels')
    const badEnv = await runCli(['sessions', 'create', '--name', 'x', '--env', 'NOEQUALS'], env)
    expect(badEnv.code).toBe(2)
    const badTemp = await runCli(['sessions', 'create', '--name', 'x', '--temperature', 'warm'], env)
    expect(badTemp.code).toBe(2)
    const noName = await runCli(['sessions', 'create'], env)
    expect(noName.code).toBe(2)
    expect(server.store.count('sessions')).toBe(before)
  })

  it('exits 1 with the server reason when the server refuses', async () => {
    const result = await runCli(['sessions', 'create', '--name', ''], env)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/name/)
    expect(result.stderr).toContain('HTTP 400')
  })

  it('says "session X not found" and keeps the API fields under --json', async () => {
    const plain = await runCli(['sessions', 'get', 'no-such-session'], env)
    expect(plain.code).toBe(1)
    expect(plain.stderr).toContain('session no-such-session not found')

    const asJson = await runCli(['sessions', 'get', 'no-such-session', '--json'], env)
    expect(asJson.code).toBe(1)
    const error = record(record(json(asJson)).error)
    expect(error).toMatchObject({message: 'session no-such-session not found', code: 'ERR_API_NOT_FOUND', status: 404})
    expect(String(error.reason)).toContain('no-such-session')
  })
})

describe('sessions ls', () => {
  let ids: string[]
  beforeAll(() => {
    ids = []
    server.store.transaction(() => {
      for (let i = 0; i < 230; i++) ids.push(server.store.create('sessions', {name: `bulk-${i}`, project_id: 'bulk'}).id)
    })
  })

  it('lists every page by default', async () => {
    const result = await runCli(['sessions', 'ls', '--project', 'bulk', '--json'], env)
    expect(result.code, result.stderr).toBe(0)
    const sessions = json(result) as Session[]
    expect(sessions.map((s) => s.id)).toEqual(ids)
  })

  it('returns one page as the server gives it with --page/--size', async () => {
    const result = await runCli(['sessions', 'ls', '--project', 'bulk', '--page', '3', '--size', '100', '--json'], env)
    expect(result.code, result.stderr).toBe(0)
    const page = json(result) as ListResponse<Session>
    expect(page).toMatchObject({kind: 'SessionList', page: 3, total: 230})
    expect(page.items.map((s) => s.id)).toEqual(ids.slice(200))
  })

  it('passes search and order to the server', async () => {
    const result = await runCli(['sessions', 'ls', '--search', "name = 'bulk-7'", '--order-by', 'created_at desc', '--json'], env)
    expect(result.code, result.stderr).toBe(0)
    expect((json(result) as Session[]).map((s) => s.name)).toEqual(['bulk-7'])
  })

  it('prints a table on a terminal', async () => {
    const result = await runCli(['sessions', 'ls', '--search', "name = 'bulk-3'"], env)
    expect(result.code).toBe(0)
    const [header, row] = result.stdout.trim().split('\n')
    expect(header.split(/\s+/)).toEqual(['ID', 'NAME', 'PROJECT', 'PHASE', 'AGE'])
    expect(row.split(/\s+/).slice(0, 4)).toEqual([ids[3], 'bulk-3', 'bulk', '<none>'])
  })
})

describe('sessions start / stop / rm', () => {
  it('moves a session through start and stop, refusing a second start', async () => {
    const s = server.store.create('sessions', {name: 'lifecycle'})
    const started = await runCli(['sessions', 'start', s.id, '--json'], env)
    expect(started.code, started.stderr).toBe(0)
    expect(record(json(started)).phase).toBe('Pending')

    const again = await runCli(['sessions', 'start', s.id], env)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('cannot start session')
    expect(again.stderr).toContain('HTTP 409')

    const stopped = await runCli(['sessions', 'stop', s.id, '--json'], env)
    expect(record(json(stopped)).phase).toBe('Stopping')
  })

  it('deletes several sessions', async () => {
    const a = server.store.create('sessions', {name: 'rm-a'})
    const b = server.store.create('sessions', {name: 'rm-b'})
    const result = await runCli(['sessions', 'rm', a.id, b.id, '--json'], env)
    expect(result.code, result.stderr).toBe(0)
    expect(json(result)).toEqual({deleted: [a.id, b.id]})
    expect(server.store.get('sessions', a.id)).toBeUndefined()
    expect(server.store.get('sessions', b.id)).toBeUndefined()

    const missing = await runCli(['sessions', 'rm', a.id], env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain(`session ${a.id} not found`)
  })
})

describe('connection settings', () => {
  it('exits 2 naming AMBIENT_API_TOKEN when there is no token', async () => {
    const result = await runCli(['sessions', 'ls'], {...env, AMBIENT_API_TOKEN: undefined})
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('AMBIENT_API_TOKEN')
  })

  it('lets --server and --token override the environment', async () => {
    const result = await runCli(['sessions', 'ls', '--size', '1', '--server', server.url, '--token', TOKEN, '--json'], {
      ...env,
      AMBIENT_API_SERVER_URL: 'http://127.0.0.1:9',
      AMBIENT_API_TOKEN: 'wrong',
    })
    expect(result.code, result.stderr).toBe(0)
    expect(record(json(result)).kind).toBe('SessionList')
  })

  it('exits 1 naming the URL when the server is unreachable', async () => {
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
    await new Promise((resolve) => closed.close(resolve))
    const result = await runCli(['sessions', 'ls'], {...env, AMBIENT_API_SERVER_URL: url})
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(url)
  })

  it('exits 1 with the server reason for a wrong token', async () => {
    const result = await runCli(['sessions', 'ls'], {...env, AMBIENT_API_TOKEN: 'wrong'})
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('HTTP 401')
    expect(result.stderr).not.toContain('wrong')
  })
})
