// `ambient watch` piped: NDJSON only, filters applied, SIGTERM exits 0; and any other REST
// resource of an older-generation server followed by polling.
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {waitFor} from '../helpers/wait.js'

const root = path.resolve(import.meta.dirname, '../..')
const token = 'watch-cli-token'
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'watch-cli-'))
const servers: ApiServer[] = []

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  fs.rmSync(tmp, {recursive: true, force: true})
})

interface Line {
  type: string
  resource: string
  id: string
  updated_at: string
  name?: string
  project_id?: string
}

function watch(server: ApiServer, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const child = spawn(
    path.join(root, 'node_modules/.bin/node'),
    [path.join(root, 'bin/run.js'), 'watch', ...args, '--server', server.url, '--token', token],
    {
      env: {...process.env, AMBIENT_CONFIG_DIR: path.join(tmp, 'cfg'), AMBIENT_GRPC_SERVER_ADDR: server.grpcAddress, LOG_LEVEL: 'warn', ...extraEnv},
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const lines: Line[] = []
  let raw = ''
  let stderr = ''
  child.stdout?.on('data', (c: Buffer) => {
    raw += c.toString()
    const parts = raw.split('\n')
    raw = parts.pop() ?? ''
    // Every stdout line must be JSON: JSON.parse throws (failing the test) otherwise.
    for (const p of parts) if (p) lines.push(JSON.parse(p) as Line)
  })
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return {child, lines, exited, stderr: () => stderr}
}

describe('ambient watch', () => {
  it('streams ADDED/MODIFIED/DELETED as NDJSON, filtered by project, and exits 0 on SIGTERM', async () => {
    const server = await startApiServer({port: 0, grpcPort: 0, token})
    servers.push(server)
    const before = server.store.create('sessions', {name: 'before', project_id: 'alpha'})
    server.store.create('sessions', {name: 'other-project', project_id: 'beta'})
    const w = watch(server, ['sessions', '--project', 'alpha'])
    await waitFor(() => w.lines.length >= 1, 'the initial list')
    const during = server.store.create('sessions', {name: 'during', project_id: 'alpha'})
    // The server reads an object when it sends its event: let this one be seen before it goes.
    await waitFor(() => w.lines.some((l) => l.name === 'during'), 'the new session')
    server.store.updateSessionStatus(before.id, {phase: 'Running'})
    server.store.delete('sessions', during.id)
    server.store.create('sessions', {name: 'ignored', project_id: 'beta'})
    await waitFor(() => w.lines.some((l) => l.type === 'DELETED'), 'the DELETED line')
    w.child.kill('SIGTERM')
    expect(await w.exited, w.stderr()).toBe(0)
    expect(w.lines.map((l) => `${l.type} ${l.name}`)).toEqual(['ADDED before', 'ADDED during', 'MODIFIED before', 'DELETED during'])
    expect(w.lines.every((l) => l.resource === 'sessions' && l.project_id === 'alpha' && l.updated_at)).toBe(true)
  })

  it('polls another resource of an older-generation server (base path /api/ambient-api-server/v1)', async () => {
    const server = await startApiServer({port: 0, grpcPort: 0, token, basePath: '/api/ambient-api-server/v1'})
    servers.push(server)
    const w = watch(server, ['users', '--base-path', '/api/ambient-api-server/v1'], {POLL_INTERVAL_SECONDS: '1'})
    const created = await fetch(`${server.url}/api/ambient-api-server/v1/users`, {
      method: 'POST',
      headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'},
      body: JSON.stringify({username: 'ada', name: 'Ada'}),
    })
    expect(created.status).toBe(201)
    const user = (await created.json()) as {id: string}
    await waitFor(() => w.lines.some((l) => l.id === user.id), 'the polled user')
    w.child.kill('SIGTERM')
    expect(await w.exited, w.stderr()).toBe(0)
    expect(w.lines.find((l) => l.id === user.id)).toMatchObject({type: 'ADDED', resource: 'users'})
  })
})
