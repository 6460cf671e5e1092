// Local mode under test, assembled like `ambient run --mode local` does it but in this process:
// an embedded API server (real REST and gRPC sockets), a sessions informer over them, the
// real Controller driving the local reconciler, and real runner processes. The reconciler's
// REST client counts its requests, so tests can assert on the calls it makes.
import {mkdtemp, rename, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {GrpcClient} from '../../src/lib/api/grpc.js'
import {RestClient} from '../../src/lib/api/rest.js'
import {createSources} from '../../src/lib/api/sources.js'
import type {Session} from '../../src/lib/api/types.js'
import {Controller} from '../../src/lib/controller/controller.js'
import {Informer} from '../../src/lib/informer/index.js'
import {groupMembers} from '../../src/lib/process/index.js'
import {createLocalMode, type LocalMode} from '../../src/lib/reconcilers/local/index.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {waitFor as sharedWaitFor} from '../helpers/wait.js'

export const TOKEN = 'local-mode-test-token'
export const FIXTURE = fileURLToPath(new URL('./fixtures/runner.mjs', import.meta.url))

export function fixtureCommand(): string[] {
  return [process.execPath, FIXTURE]
}

/**
 * Tells a fixture runner to exit with `code`: the file appears whole (written aside, then
 * renamed), so the runner never reads it half-written and exits with the wrong code.
 */
export async function requestExit(workspace: string, code: number): Promise<void> {
  const aside = path.join(workspace, `.exit-now.${process.pid}`)
  await writeFile(aside, String(code))
  await rename(aside, path.join(workspace, 'exit-now'))
}

export async function tempDir(prefix: string): Promise<{dir: string; cleanup: () => Promise<void>}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `ambient-${prefix}-`))
  return {dir, cleanup: () => rm(dir, {recursive: true, force: true})}
}

/** A random 60-port range, so parallel test files (and other engineers' runs) rarely meet. */
/** A random block of 60 ports below Linux's ephemeral range (32768-60999): see test/process/helpers.ts. */
export function randomPortRange(): {from: number; to: number} {
  const from = 10_000 + Math.floor(Math.random() * 375) * 60
  return {from, to: from + 59}
}

/** Polls `check` until it returns a truthy value; fails after `timeoutMs`. No fixed sleeps. */
/** Local-mode waits include process start-up and health checks: a longer default deadline. */
export function waitFor<T>(check: () => T | Promise<T>, what: string | (() => string), timeoutMs = 30_000): Promise<NonNullable<T>> {
  return sharedWaitFor(check, what, timeoutMs)
}

export interface Api {
  server: ApiServer
  /** For the test's own actions: not counted. */
  client: RestClient
  close(): Promise<void>
}

export async function startApi(): Promise<Api> {
  const server = await startApiServer({port: 0, grpcPort: 0, token: TOKEN})
  const client = new RestClient({baseUrl: server.url, token: () => TOKEN})
  return {server, client, close: () => server.close()}
}

/** Requests by "METHOD /path-pattern", the session id replaced by {id}. */
export class CallLog {
  readonly calls: string[] = []

  fetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET')
    this.calls.push(`${method} ${url.pathname.replace(/\/sessions\/[^/]+/, '/sessions/{id}')}`)
    return fetch(input, init)
  }

  count(call: string): number {
    return this.calls.filter((c) => c.endsWith(call) || c === call).length
  }

  get statusPatches(): number {
    return this.calls.filter((c) => c === 'PATCH /api/ambient/v1/sessions/{id}/status').length
  }
}

export interface PlaneOptions {
  stateDir: string
  workspaceRoot: string
  command?: readonly string[]
  maxSessions?: number
  healthTimeoutMs?: number
  stopGraceMs?: number
  capacityRetryMs?: number
  /** Start the AG-UI proxy on an ephemeral port. */
  proxy?: boolean
  portRange?: {from: number; to: number}
}

export interface Plane {
  local: LocalMode
  informer: Informer<Session>
  controller: Controller<Session>
  calls: CallLog
  /** Every runner pid this plane spawned or adopted. */
  pids: Set<number>
  spawned: number
  adopted: number
  /** Orderly stop like SIGTERM to `ambient run`: controller drained, runners stopped, final phases written. */
  stop(): Promise<void>
  /** Like a crash of `ambient run`: reconciling stops, runners are left running. */
  abandon(): Promise<void>
}

export async function startPlane(api: Api, options: PlaneOptions): Promise<Plane> {
  const calls = new CallLog()
  const rest = new RestClient({baseUrl: api.server.url, token: () => TOKEN, fetch: calls.fetch})
  const informerRest = new RestClient({baseUrl: api.server.url, token: () => TOKEN})
  const grpc = new GrpcClient({address: api.server.grpcAddress, tls: false, token: () => TOKEN})
  const informer = new Informer<Session>({source: createSources({rest: informerRest, grpc, watch: 'stream'}).sessions})
  const local = createLocalMode({
    config: {
      AMBIENT_STATE_DIR: options.stateDir,
      LOCAL_WORKSPACE_ROOT: options.workspaceRoot,
      LOCAL_PROXY_ADDR: {host: '127.0.0.1', port: 0},
      LOCAL_PROXY_ALLOWED_HOSTS: [],
      CORS_ALLOWED_ORIGIN: 'http://localhost:3000',
      LOCAL_RUNNER_COMMAND: 'not-used',
      LOCAL_PORT_RANGE: options.portRange ?? randomPortRange(),
      LOCAL_MAX_SESSIONS: options.maxSessions ?? 10,
      LOCAL_RUNNER_LOG_MAX_BYTES: 10 * 1024 * 1024,
      LOCAL_RUNNER_LOG_FILES: 3,
      BOSS_URL: undefined,
      BOSS_SPACE: undefined,
    },
    rest,
    sessions: informer,
    runnerCommand: options.command ?? fixtureCommand(),
    hostEnv: {PATH: process.env.PATH, HOME: process.env.HOME},
    proxy: options.proxy ? undefined : false,
    healthTimeoutMs: options.healthTimeoutMs ?? 60_000,
    healthIntervalMs: 100,
    stopGraceMs: options.stopGraceMs ?? 5000,
    capacityRetryMs: options.capacityRetryMs,
    adoptPollMs: 100,
  })
  const controller = new Controller<Session>({name: 'sessions', informer, reconciler: local.reconciler, workers: 2})
  const disconnect = local.connect((id) => controller.enqueue(id))
  const plane: Plane = {local, informer, controller, calls, pids: new Set(), spawned: 0, adopted: 0, stop, abandon}
  local.manager.on('spawned', (info) => {
    plane.pids.add(info.pid)
    plane.spawned++
  })
  local.manager.on('adopted', (info) => {
    plane.pids.add(info.pid)
    plane.adopted++
  })

  const informerAbort = new AbortController()
  const runnablesAbort = new AbortController()
  const controllerAbort = new AbortController()
  await informer.start(informerAbort.signal)
  const runnables = local.runnables.map((r) => r.start(runnablesAbort.signal))
  const controllerDone = controller.start(controllerAbort.signal)
  await informer.waitForSync()

  async function stopReconciling(): Promise<void> {
    controllerAbort.abort()
    await controllerDone
    disconnect()
  }
  async function stopFollowing(): Promise<void> {
    informerAbort.abort()
    await informer.done
    grpc.close()
  }
  async function stop(): Promise<void> {
    await stopReconciling()
    runnablesAbort.abort()
    await Promise.all(runnables)
    await stopFollowing()
  }
  async function abandon(): Promise<void> {
    await stopReconciling()
    await stopFollowing()
    // What a crash leaves: runners running, their pipes undrained, nobody watching them.
    local.manager.detach()
  }
  return plane
}

export async function createSession(api: Api, spec: Partial<Session> & {name?: string} = {}): Promise<Session> {
  return api.client.create('sessions', {name: spec.name ?? `s-${Math.random().toString(36).slice(2, 8)}`, ...spec})
}

/** Polls the API server until the session satisfies `accept`. */
export async function waitForSession(api: Api, id: string, accept: (s: Session) => boolean, what: string, timeoutMs = 30_000): Promise<Session> {
  let last: Session | undefined
  return waitFor(
    async () => {
      last = await api.client.get('sessions', id)
      return accept(last) ? last : undefined
    },
    () => `session ${id} ${what} (last phase ${last?.phase ?? '<none>'}, conditions ${last?.conditions ?? '<none>'})`,
    timeoutMs,
  )
}

export function waitForPhase(api: Api, id: string, phase: string, timeoutMs = 30_000): Promise<Session> {
  return waitForSession(api, id, (s) => s.phase === phase, `to reach ${phase}`, timeoutMs)
}

export function conditionsOf(session: Session): {type: string; status: string; reason?: string; message?: string}[] {
  return session.conditions ? (JSON.parse(session.conditions) as {type: string; status: string; reason?: string; message?: string}[]) : []
}

export function condition(session: Session, type: string): {type: string; status: string; reason?: string; message?: string} | undefined {
  return conditionsOf(session).find((c) => c.type === type)
}

/** Live (non-zombie) processes left in the groups of these runner pids. */
export async function leftovers(pids: Iterable<number>): Promise<number[]> {
  const left: number[] = []
  for (const pid of pids) for (const member of await groupMembers(pid)) left.push(member.pid)
  return left
}

/** Last resort after a test: nothing of ours keeps running. */
export async function killGroups(pids: Iterable<number>): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
}
