// `ambient api-server` as a process: it announces itself, stores where it is so that other
// commands on the machine need no flags, keeps state across restarts with --db, and exits 0
// on SIGTERM.
import {execFile, spawn, type ChildProcess} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, describe, expect, it} from 'vitest'

const root = path.resolve(import.meta.dirname, '../..')
const node = path.join(root, 'node_modules/.bin/node')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'api-server-cli-'))
const env: NodeJS.ProcessEnv = {...process.env, AMBIENT_CONFIG_DIR: path.join(tmp, 'config'), LOG_LEVEL: 'warn'}
delete env.AMBIENT_API_TOKEN
const children: ChildProcess[] = []

afterAll(() => {
  for (const c of children) c.kill('SIGKILL')
  fs.rmSync(tmp, {recursive: true, force: true})
})

interface Ready {
  type: 'READY'
  url: string
  grpcAddress: string
  token?: string
}

async function startServer(args: string[]): Promise<{child: ChildProcess; ready: Ready; exited: Promise<number | null>}> {
  const child = spawn(node, [path.join(root, 'bin/run.js'), 'api-server', '--port', '0', '--grpc-port', '0', '--json', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const ready = await new Promise<Ready>((resolve, reject) => {
    let buf = ''
    let err = ''
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()))
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString()
      const nl = buf.indexOf('\n')
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as Ready)
    })
    child.once('exit', (code) => reject(new Error(`api-server exited ${code}: ${err}`)))
  })
  return {child, ready, exited}
}

const cli = (...args: string[]) => promisify(execFile)(node, [path.join(root, 'bin/run.js'), ...args], {env})

describe('ambient api-server', () => {
  it('generates a token, is found by other commands without flags, persists with --db, exits 0 on SIGTERM', async () => {
    const db = path.join(tmp, 'state.db')
    const first = await startServer(['--db', db])
    expect(first.ready.type).toBe('READY')
    expect(first.ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(first.ready.token).toMatch(/^[\w-]{20,}$/)

    // No --server, no --token: both come from the settings file the server wrote.
    const created = JSON.parse((await cli('sessions', 'create', '--name', 'persisted', '--prompt', 'hello', '--json')).stdout) as {
      id: string
      created_at: string
    }
    expect(created.id).toBeTruthy()

    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)

    // Same file, a new process (and a new token): the session is still there, timestamps intact.
    const second = await startServer(['--db', db])
    const listed = JSON.parse((await cli('sessions', 'ls', '--json')).stdout) as {id: string; name: string; created_at: string}[]
    expect(listed).toEqual([expect.objectContaining({id: created.id, name: 'persisted', created_at: created.created_at})])
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })

  it('rejects a wrong token with exit 1 and the server reason', async () => {
    const server = await startServer(['--token', 'right-token', '--no-remember'])
    const err = await cli('sessions', 'ls', '--server', server.ready.url, '--token', 'wrong-token').then(
      () => undefined,
      (e: {code: number; stderr: string}) => e,
    )
    expect(err?.code).toBe(1)
    expect(err?.stderr).toMatch(/401|unauthori[sz]ed|token/i)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })
})
