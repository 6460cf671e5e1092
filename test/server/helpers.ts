// Test helpers: a server on ephemeral ports, a fetch wrapper, grpc-js clients straight from
// the generated code, and a watch-event collector. No client code from src/lib/api.
import {credentials, Metadata, type ClientReadableStream, type ServiceError} from '@grpc/grpc-js'
import {startApiServer, type ApiServer, type ApiServerOptions, type Store, type StoreResource} from '../../src/lib/server/index.js'
import {SessionServiceClient} from '../../src/gen/ambient/v1/sessions.js'
import {ProjectServiceClient} from '../../src/gen/ambient/v1/projects.js'
import {ProjectSettingsServiceClient} from '../../src/gen/ambient/v1/project_settings.js'
import {UserServiceClient} from '../../src/gen/ambient/v1/users.js'

export const TOKEN = 'test-token-123'
/** The user TOKEN belongs to. */
export const USERNAME = 'test-user'

const subscriptionCounts = new WeakMap<Store, Map<StoreResource, number>>()

/** Counts every subscription ever made to the store's change feed (the watch streams'). */
function subscriptionsOf(store: Store): Map<StoreResource, number> {
  let counts = subscriptionCounts.get(store)
  if (counts) return counts
  const made = new Map<StoreResource, number>()
  counts = made
  subscriptionCounts.set(store, made)
  const on = store.on.bind(store)
  store.on = (resource, listener) => {
    made.set(resource, (made.get(resource) ?? 0) + 1)
    return on(resource, listener)
  }
  return made
}

/** True once `k` more watch streams of `resource` have subscribed than when this was called. */
export function afterSubscribers(store: Store, resource: StoreResource, k = 1): () => boolean {
  const counts = subscriptionsOf(store)
  const base = counts.get(resource) ?? 0
  return () => (counts.get(resource) ?? 0) >= base + k
}

export function startTestServer(options: Partial<ApiServerOptions> = {}): Promise<ApiServer> {
  return startApiServer({token: TOKEN, username: USERNAME, port: 0, grpcPort: 0, ...options})
}

export interface JsonResponse {
  status: number
  headers: Headers
  body: unknown
}

export async function api(
  server: ApiServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const init: RequestInit = {method, headers: {Authorization: `Bearer ${TOKEN}`, ...headers}}
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    ;(init.headers as Record<string, string>)['Content-Type'] = 'application/json'
  }
  const res = await fetch(`${server.url}${server.basePath}${path}`, init)
  const text = await res.text()
  return {status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined}
}

/** Narrowing helper: tests index into JSON bodies. */
export function obj(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`not an object: ${JSON.stringify(v)}`)
  return v as Record<string, unknown>
}

export function items(v: unknown): Record<string, unknown>[] {
  const list = obj(v).items
  if (!Array.isArray(list)) throw new Error('no items')
  return list.map(obj)
}

export function expectErrorBody(res: JsonResponse, status: number): Record<string, unknown> {
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)}`)
  const body = obj(res.body)
  const keys = Object.keys(body).sort()
  if (JSON.stringify(keys) !== JSON.stringify(['code', 'href', 'id', 'kind', 'operation_id', 'reason'])) {
    throw new Error(`not an error body: ${JSON.stringify(body)}`)
  }
  if (body.kind !== 'Error' || body.code !== `ambient-api-server-${String(body.id)}` || typeof body.reason !== 'string' || body.reason === '') {
    throw new Error(`bad error body: ${JSON.stringify(body)}`)
  }
  if (body.operation_id !== res.headers.get('x-operation-id')) throw new Error('operation_id differs from X-Operation-ID')
  if (res.headers.get('content-type') !== 'application/json') throw new Error(`content-type ${res.headers.get('content-type')}`)
  return body
}

export function authMetadata(token = TOKEN): Metadata {
  const md = new Metadata()
  md.set('authorization', `Bearer ${token}`)
  return md
}

export function grpcClients(server: ApiServer) {
  const creds = credentials.createInsecure()
  return {
    sessions: new SessionServiceClient(server.grpcAddress, creds),
    projects: new ProjectServiceClient(server.grpcAddress, creds),
    settings: new ProjectSettingsServiceClient(server.grpcAddress, creds),
    users: new UserServiceClient(server.grpcAddress, creds),
    close() {
      this.sessions.close()
      this.projects.close()
      this.settings.close()
      this.users.close()
    },
  }
}

/** Promisifies one unary call: `grpcCall<Res>((cb) => client.getX(req, md, cb))`. */
export function grpcCall<Res>(invoke: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke((err, res) => (err ? reject(err) : resolve(res)))
  })
}

export async function grpcError(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p
  } catch (err) {
    return err as ServiceError
  }
  throw new Error('expected the call to fail')
}

import {waitFor} from '../helpers/wait.js'

export {waitFor}

/**
 * Collects a watch stream's events. The server, like the real one (grpc-go), sends no
 * headers before the first event, so the client cannot see when it is subscribed: `ready`
 * resolves when `registered()` (a look at the server's side) says so, and rejects if the
 * stream fails first.
 */
export class Collector<T> {
  readonly events: T[] = []
  error: ServiceError | undefined
  ended = false
  readonly ready: Promise<void>

  constructor(
    readonly stream: ClientReadableStream<T>,
    registered: () => boolean = () => false,
  ) {
    stream.on('data', (e: T) => this.events.push(e))
    stream.on('error', (err: ServiceError) => {
      this.error = err
    })
    stream.on('end', () => {
      this.ended = true
    })
    this.ready = waitFor(() => registered() || this.error !== undefined, 'the server to subscribe the watch').then(() => {
      if (this.error) throw this.error
    })
    // The 'ready' rejection is observed through `error`; keep it from being unhandled.
    this.ready.catch(() => undefined)
  }

  async waitForCount(n: number): Promise<T[]> {
    await waitFor(() => this.events.length >= n || this.error !== undefined, `${n} watch events`)
    if (this.events.length < n) throw new Error(`stream failed after ${this.events.length} events: ${this.error?.message}`)
    return this.events
  }

  async waitForError(): Promise<ServiceError> {
    await waitFor(() => this.error !== undefined, 'the stream to fail')
    return this.error as ServiceError
  }
}
