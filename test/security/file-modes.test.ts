// Issue 10, case 5: every file that holds data is its owner's alone, 0600 in a 0700 folder,
// whatever the umask, also when the file or folder already existed with looser modes (an
// earlier version wrote 0644, and the WAL held a session's environment_variables).
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {chmod, chown, mkdir, readFile, readdir, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {RestClient} from '../../src/lib/api/rest.js'
import {createLogger} from '../../src/lib/log.js'
import {RunnerManager, RunnerRegistry} from '../../src/lib/process/index.js'
import {StopRequests} from '../../src/lib/reconcilers/local/stop-requests.js'
import {startApiServer} from '../../src/lib/server/index.js'
import {fixtureCommand, makeSession, randomPortRange, tempDir} from '../process/helpers.js'

const TOKEN = 'file-modes-token'
let root: {dir: string; cleanup: () => Promise<void>}
let savedUmask: number

async function modeOf(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777
}

beforeEach(async () => {
  root = await tempDir('modes')
  // The most permissive umask: nothing may depend on the user's umask being strict.
  savedUmask = process.umask(0)
})

afterEach(async () => {
  process.umask(savedUmask)
  await root.cleanup()
})

describe('data files are 0600 in 0700 folders', () => {
  it('the --db file, its WAL and shared memory', async () => {
    const db = path.join(root.dir, 'api.db')
    const api = await startApiServer({port: 0, grpcPort: 0, token: TOKEN, dbPath: db})
    try {
      const client = new RestClient({baseUrl: api.url, token: () => TOKEN})
      await client.create('sessions', {name: 'secretive', environment_variables: '{"API_KEY":"sk-very-secret"}'})
      const names = await readdir(path.dirname(db))
      expect(names).toEqual(expect.arrayContaining(['api.db', 'api.db-wal', 'api.db-shm']))
      for (const name of names) expect(await modeOf(path.join(path.dirname(db), name)), name).toBe(0o600)
      expect(await readFile(`${db}-wal`, 'latin1')).toContain('sk-very-secret')
    } finally {
      await api.close()
    }
  })

  it('an existing world-readable database and WAL are made private when opened', async () => {
    const dir = path.join(root.dir, 'shared')
    await mkdir(dir, {mode: 0o755})
    const db = path.join(dir, 'api.db')
    const first = await startApiServer({port: 0, grpcPort: 0, token: TOKEN, dbPath: db})
    await first.close()
    // What an earlier version left behind.
    await writeFile(`${db}-wal`, '')
    for (const file of [db, `${db}-wal`]) await chmod(file, 0o644)
    const second = await startApiServer({port: 0, grpcPort: 0, token: TOKEN, dbPath: db})
    try {
      for (const file of [db, `${db}-wal`, `${db}-shm`]) expect(await modeOf(file), file).toBe(0o600)
      // A folder the user chose (the cwd, /tmp) is not ours to lock down.
      expect(await modeOf(dir)).toBe(0o755)
    } finally {
      await second.close()
    }
  })

  it('refuses a database file another user owns, naming it', async () => {
    const db = path.join(root.dir, 'theirs.db')
    await writeFile(db, '', {mode: 0o666})
    await chown(db, 65534, 65534)
    const error = await startApiServer({port: 0, grpcPort: 0, token: TOKEN, dbPath: db}).then(
      async (api) => {
        await api.close()
        return undefined
      },
      (err: unknown) => err,
    )
    expect(error).toMatchObject({code: 'ERR_INSECURE_FILE', message: expect.stringContaining(db)})
    expect(await modeOf(db)).toBe(0o666)
  })

  it('the runner registry and stop requests, also in folders an earlier version made 0755', async () => {
    const state = path.join(root.dir, 'state')
    const registryDir = path.join(state, 'runners')
    const stopDir = path.join(state, 'stop-requests')
    await mkdir(registryDir, {recursive: true, mode: 0o755})
    await mkdir(stopDir, {recursive: true, mode: 0o755})
    const registry = new RunnerRegistry({dir: registryDir})
    await registry.write({
      sessionId: 's1',
      pid: 4242,
      pgid: 4242,
      port: 9100,
      workspace: '/nowhere',
      command: 'x',
      startTime: new Date(0).toISOString(),
      processStartTicks: 1,
      token: 'runner-token',
      ownerPid: process.pid,
      stderrOffset: 0,
    })
    const stops = new StopRequests({dir: stopDir})
    await stops.write({sessionId: 's1', pid: 4242, signal: 'SIGTERM', requestedBy: 'test', requestedAt: new Date(0).toISOString()})
    expect(await modeOf(registryDir)).toBe(0o700)
    expect(await modeOf(path.join(registryDir, 's1.json'))).toBe(0o600)
    expect(await modeOf(stopDir)).toBe(0o700)
    expect(await modeOf(path.join(stopDir, 's1.json'))).toBe(0o600)

    // Created from nothing, under the permissive umask.
    const fresh = new RunnerRegistry({dir: path.join(root.dir, 'fresh', 'runners')})
    await fresh.write({...(await registry.read('s1'))!, sessionId: 's2'})
    expect(await modeOf(path.join(root.dir, 'fresh', 'runners'))).toBe(0o700)
    expect(await modeOf(path.join(root.dir, 'fresh'))).toBe(0o700)
  })

  it('runner workspaces and their logs, an existing 0644 log included', async () => {
    const workspaces = path.join(root.dir, 'workspaces')
    const session = makeSession()
    const workspace = path.join(workspaces, session.id)
    await mkdir(workspace, {recursive: true, mode: 0o755})
    await writeFile(path.join(workspace, 'stdout.log'), 'from an earlier run\n', {mode: 0o644})
    const manager = new RunnerManager({
      workspaceRoot: workspaces,
      command: fixtureCommand('exit:0'),
      portRange: randomPortRange(),
      hostEnv: {PATH: process.env.PATH},
    })
    const exited = new Promise((resolve) => manager.once('exited', resolve))
    try {
      await manager.spawn(session)
      await exited
    } finally {
      await manager.stopAll({graceMs: 200})
    }
    expect(await modeOf(workspace)).toBe(0o700)
    for (const name of await readdir(workspace)) {
      if (name.endsWith('.log') || name.includes('.log.')) expect(await modeOf(path.join(workspace, name)), name).toBe(0o600)
    }
    expect(await readFile(path.join(workspace, 'stdout.log'), 'utf8')).toBe('from an earlier run\nbye\n')
  })

  it("ambient's own log file (run and watch under an Ink view)", async () => {
    const file = path.join(root.dir, 'state', 'logs', 'run.log')
    const logger = createLogger({file, level: 'info'})
    logger.info({sessionName: 'private'}, 'hello')
    await new Promise<void>((resolve) => logger.flush(() => resolve()))
    expect(await modeOf(file)).toBe(0o600)
    expect(await modeOf(path.dirname(file))).toBe(0o700)

    const old = path.join(root.dir, 'old.log')
    await writeFile(old, '', {mode: 0o644})
    const again = createLogger({file: old, level: 'info'})
    again.info('x')
    await new Promise<void>((resolve) => again.flush(() => resolve()))
    expect(await modeOf(old)).toBe(0o600)
  })
})
