import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {readFile, readdir, stat} from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import {
  HealthCheckTimeoutError,
  RunnerCapacityError,
  RunnerExistsError,
  RunnerExitedError,
  RunnerManager,
  RunnerRegistry,
  UnsafeSessionIdError,
  groupMembers,
  isPidAlive,
  type RunnerExit,
  type RunnerManagerOptions,
} from '../../src/lib/process/index.js'
import {fixtureCommand, getJson, makeSession, randomPortRange, tempDir, waitFor} from './helpers.js'

const HOST_ENV = {
  HOME: '/home/tester',
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  LANG: 'C.UTF-8',
  AMBIENT_API_TOKEN: 'secret-ambient-token',
  AWS_SECRET_ACCESS_KEY: 'secret-aws',
  NODE_OPTIONS: '--inspect',
  GITHUB_TOKEN: 'gh-token',
  ANTHROPIC_API_KEY: 'anthropic-key',
  GIT_AUTHOR_NAME: 'Tester',
  http_proxy: 'http://proxy.invalid:3128',
  NO_PROXY: 'localhost',
}

let root: {dir: string; cleanup: () => Promise<void>}
const managers: RunnerManager[] = []

beforeEach(async () => {
  root = await tempDir('process')
})

afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.stopAll({graceMs: 200})))
  await root.cleanup()
})

function manager(mode: string, options: Partial<RunnerManagerOptions> = {}): RunnerManager {
  const created = new RunnerManager({
    workspaceRoot: path.join(root.dir, 'workspaces'),
    command: fixtureCommand(mode),
    portRange: randomPortRange(),
    hostEnv: HOST_ENV,
    stopGraceMs: 5000,
    ...options,
  })
  managers.push(created)
  return created
}

function nextExit(target: RunnerManager, sessionId: string): Promise<RunnerExit> {
  return new Promise((resolve) => {
    const off = target.on('exited', (exit) => {
      if (exit.sessionId === sessionId) {
        off()
        resolve(exit)
      }
    })
  })
}

describe('RunnerManager', () => {
  it('spawns a runner with only the allowlisted environment plus the session variables', async () => {
    const registry = new RunnerRegistry({dir: path.join(root.dir, 'state')})
    const runners = manager('serve', {registry, extraEnv: {BOSS_URL: 'http://boss.local', BOSS_SPACE: 'space-1'}})
    const session = makeSession({
      name: 'My Cool Session!',
      prompt: 'say hello',
      llm_model: 'claude-x',
      llm_temperature: 0.5,
      llm_max_tokens: 4000,
      timeout: 300,
      repos: '[{"url":"https://github.com/a/b"}]',
      project_id: 'proj-1',
      environment_variables: '{"LEAK":"yes"}',
    })
    const info = await runners.spawn(session)
    expect(info.workspace).toBe(path.join(root.dir, 'workspaces', session.id))
    expect(info.pgid).toBe(info.pid)
    await runners.waitHealthy(info)

    const {status, body} = await getJson(info.port, '/env', {'x-ambient-session-token': info.token})
    expect(status).toBe(200)
    const env = body as Record<string, string>
    expect(env.AMBIENT_API_TOKEN).toBeUndefined()
    expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined()
    expect(env.NODE_OPTIONS).toBeUndefined()
    expect(env.LEAK).toBeUndefined()
    expect(env.ENVIRONMENT_VARIABLES).toBeUndefined()
    expect(env).toMatchObject({
      HOME: '/home/tester',
      LANG: 'C.UTF-8',
      GITHUB_TOKEN: 'gh-token',
      ANTHROPIC_API_KEY: 'anthropic-key',
      GIT_AUTHOR_NAME: 'Tester',
      http_proxy: 'http://proxy.invalid:3128',
      NO_PROXY: 'localhost',
      SESSION_ID: session.id,
      AGUI_PORT: String(info.port),
      AGUI_TOKEN: info.token,
      WORKSPACE_PATH: info.workspace,
      BOSS_URL: 'http://boss.local',
      BOSS_SPACE: 'space-1',
      AGENTIC_SESSION_NAME: 'My Cool Session!',
      BOSS_AGENT_NAME: 'my-cool-session',
      INITIAL_PROMPT: 'say hello',
      LLM_MODEL: 'claude-x',
      LLM_TEMPERATURE: '0.5',
      LLM_MAX_TOKENS: '4000',
      SESSION_TIMEOUT: '300',
      REPOS_JSON: '[{"url":"https://github.com/a/b"}]',
      PROJECT_NAME: 'proj-1',
    })
    expect(info.token.length).toBeGreaterThanOrEqual(32)

    // Without the token the runner (our fixture checks it like a real one) refuses.
    expect((await getJson(info.port, '/health')).status).toBe(401)

    // Logs are files in the workspace; the registry holds a 0600 record.
    expect((await readdir(info.workspace)).sort()).toEqual(expect.arrayContaining(['stderr.log', 'stdout.log']))
    const record = await registry.read(session.id)
    expect(record).toMatchObject({sessionId: session.id, pid: info.pid, pgid: info.pid, port: info.port, token: info.token, ownerPid: process.pid})
    expect(record?.processStartTicks).toBeGreaterThan(0)
    expect((await stat(path.join(registry.dir, `${session.id}.json`))).mode & 0o777).toBe(0o600)
    expect(runners.list().map((r) => r.sessionId)).toEqual([session.id])

    const exit = await runners.stop(session.id)
    expect(exit).toMatchObject({sessionId: session.id, exitCode: 0, stopRequested: true, adopted: false})
    expect(await isPidAlive(info.pid)).toBe(false)
    expect(await registry.read(session.id)).toBeUndefined()
    expect(runners.list()).toEqual([])
  })

  it('refuses session ids that would escape the workspace root', async () => {
    const runners = manager('serve')
    for (const id of ['../evil', '..', '.', 'a/b', '/etc', 'a\0b', '', '.hidden', 'a\\b', '%2e%2e']) {
      await expect(runners.spawn(makeSession({id})), id).rejects.toBeInstanceOf(UnsafeSessionIdError)
    }
    expect(runners.list()).toEqual([])
    await expect(readdir(root.dir)).resolves.toEqual([])
  })

  it('skips ports in use and ports given to live runners', async () => {
    const range = randomPortRange()
    const blocker = net.createServer()
    await new Promise<void>((resolve, reject) => {
      // Taken by some other process already: just as good a port in use.
      blocker.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve() : reject(err)))
      blocker.listen(range.from, '127.0.0.1', resolve)
    })
    try {
      const runners = manager('serve', {portRange: range})
      const first = await runners.spawn(makeSession())
      expect(first.port).toBeGreaterThan(range.from)
      const second = await runners.spawn(makeSession())
      expect(second.port).toBeGreaterThan(first.port)
      await runners.waitHealthy(first)
      await runners.waitHealthy(second)
    } finally {
      blocker.close()
    }
  })

  it('gives concurrent spawns distinct ports', async () => {
    const runners = manager('serve')
    const infos = await Promise.all(Array.from({length: 6}, () => runners.spawn(makeSession())))
    expect(new Set(infos.map((info) => info.port)).size).toBe(6)
    await Promise.all(infos.map((info) => runners.waitHealthy(info)))
  })

  it('enforces maxSessions and one runner per session', async () => {
    const runners = manager('serve', {maxSessions: 2})
    const a = makeSession()
    await runners.spawn(a)
    await expect(runners.spawn(a)).rejects.toBeInstanceOf(RunnerExistsError)
    await runners.spawn(makeSession())
    await expect(runners.spawn(makeSession())).rejects.toBeInstanceOf(RunnerCapacityError)
    await runners.stop(a.id, {graceMs: 2000})
    // A slot is free again.
    await runners.spawn(makeSession())
    expect(runners.list()).toHaveLength(2)
  })

  it('stops with SIGTERM, then SIGKILLs the whole group when SIGTERM is ignored', async () => {
    const runners = manager('stubborn')
    const info = await runners.spawn(makeSession())
    await runners.waitHealthy(info)
    const pids = await waitFor(async () => {
      try {
        return JSON.parse(await readFile(path.join(info.workspace, 'pids.json'), 'utf8')) as {runner: number; grandchild: number}
      } catch {
        return undefined
      }
    }, 'pids.json')
    expect(pids.runner).toBe(info.pid)
    expect(await isPidAlive(pids.grandchild)).toBe(true)
    expect((await groupMembers(info.pgid)).map((m) => m.pid).sort()).toEqual([pids.runner, pids.grandchild].sort())

    const exit = await runners.stop(info.sessionId, {graceMs: 500})
    expect(exit).toMatchObject({signal: 'SIGKILL', exitCode: null, stopRequested: true})
    // Gone according to /proc (a zombie grandchild nobody reaps counts as gone).
    expect(await isPidAlive(pids.runner)).toBe(false)
    expect(await isPidAlive(pids.grandchild)).toBe(false)
    expect(await groupMembers(info.pgid)).toEqual([])
    expect(exit?.stderrTail).toContain('ignoring SIGTERM')
  })

  it('reports exit codes 0 and 3 with the stderr tail of this run', async () => {
    for (const code of [0, 3]) {
      const runners = manager(`exit:${code}`)
      const session = makeSession()
      const exited = nextExit(runners, session.id)
      const info = await runners.spawn(session)
      const exit = await exited
      expect(exit).toMatchObject({sessionId: session.id, exitCode: code, signal: null, stopRequested: false, adopted: false})
      expect(exit.stderrTail).toHaveLength(50)
      expect(exit.stderrTail[0]).toBe('line 11')
      expect(exit.stderrTail.at(-1)).toBe('line 60')
      expect(await readFile(path.join(info.workspace, 'stdout.log'), 'utf8')).toBe('bye\n')
      expect(runners.list()).toEqual([])
    }
  })

  it('appends logs across runs and keeps the tail to the current run', async () => {
    const runners = manager('exit:3')
    const session = makeSession()
    let exited = nextExit(runners, session.id)
    await runners.spawn(session)
    await exited
    exited = nextExit(runners, session.id)
    const info = await runners.spawn(session)
    const exit = await exited
    expect(exit.stderrTail).toHaveLength(50)
    const log = await readFile(path.join(info.workspace, 'stderr.log'), 'utf8')
    expect(log.split('\n').filter(Boolean)).toHaveLength(120)
    expect(await readFile(path.join(info.workspace, 'stdout.log'), 'utf8')).toBe('bye\nbye\n')
  })

  it('waitHealthy fails fast when the runner exits and times out when it never answers', async () => {
    const crashing = manager('exit:3')
    const info = await crashing.spawn(makeSession())
    const error = await crashing.waitHealthy(info, {timeoutMs: 20_000, intervalMs: 100}).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(RunnerExitedError)
    expect((error as RunnerExitedError).processExitCode).toBe(3)
    expect((error as RunnerExitedError).stderrTail.at(-1)).toBe('line 60')

    const silent = manager('sleep')
    const sleeper = await silent.spawn(makeSession())
    await expect(silent.waitHealthy(sleeper, {timeoutMs: 800, intervalMs: 100})).rejects.toBeInstanceOf(HealthCheckTimeoutError)
    expect((await silent.stop(sleeper.sessionId))?.exitCode).toBe(0)
  })

  it('stopAll leaves no process behind and refuses new spawns', async () => {
    const runners = manager('stubborn')
    const infos = await Promise.all([runners.spawn(makeSession()), runners.spawn(makeSession())])
    await Promise.all(infos.map((info) => runners.waitHealthy(info)))
    const exits = await runners.stopAll({graceMs: 300})
    expect(exits).toHaveLength(2)
    for (const info of infos) expect(await groupMembers(info.pgid)).toEqual([])
    await expect(runners.spawn(makeSession())).rejects.toMatchObject({code: 'ERR_RUNNER_SPAWN'})
  })

  it('reports a command that cannot start', async () => {
    const runners = manager('serve', {command: [path.join(root.dir, 'no-such-binary')]})
    await expect(runners.spawn(makeSession())).rejects.toMatchObject({code: 'ERR_RUNNER_SPAWN'})
    expect(runners.list()).toEqual([])
  })
})
