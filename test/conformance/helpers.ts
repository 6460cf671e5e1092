// Shared by the conformance tests (one test per fact of ../shared/contract/ambient-api.md,
// named after it): the embedded API server on 127.0.0.1 with ephemeral ports, raw REST calls
// (status, headers and body text as the wire has them), grpc-js clients of the generated
// services, and the contract's field lists. Nothing here goes through src/lib/api, so a test
// sees what a foreign client would see.
import {credentials, Metadata, status} from '@grpc/grpc-js'
import {afterAll, beforeAll} from 'vitest'
import {ProjectServiceClient} from '../../src/gen/ambient/v1/projects.js'
import {ProjectSettingsServiceClient} from '../../src/gen/ambient/v1/project_settings.js'
import {SessionServiceClient} from '../../src/gen/ambient/v1/sessions.js'
import {UserServiceClient} from '../../src/gen/ambient/v1/users.js'
import {startApiServer, type ApiServer, type ApiServerOptions} from '../../src/lib/server/index.js'

export const TOKEN = 'conformance-token'
/** The user TOKEN belongs to: the server's idea of "the caller". */
export const USERNAME = 'conformance-user'
/** The real server's error code prefix (rh-trex `trex.Init({ServiceName: "ambient-api-server"})`). */
export const ERROR_PREFIX = 'ambient-api-server'

export function startServer(options: Partial<ApiServerOptions> = {}): Promise<ApiServer> {
  return startApiServer({host: '127.0.0.1', port: 0, grpcPort: 0, token: TOKEN, username: USERNAME, ...options})
}

export interface RawResponse {
  status: number
  headers: Headers
  text: string
  /** The body parsed as JSON; undefined when it is empty or not JSON. */
  json: unknown
}

export interface CallOptions {
  body?: unknown
  headers?: Record<string, string>
  /** Sends no Authorization header when null; default `Bearer ${TOKEN}`. */
  token?: string | null
}

/** One REST call below the server's base path; `body` strings are sent as they are. */
export async function call(server: ApiServer, method: string, path: string, options: CallOptions = {}): Promise<RawResponse> {
  const headers: Record<string, string> = {...options.headers}
  const token = options.token === undefined ? TOKEN : options.token
  if (token !== null) headers.Authorization = `Bearer ${token}`
  let body: string | undefined
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    headers['Content-Type'] = 'application/json'
  }
  const res = await fetch(`${server.url}${server.basePath}${path}`, {method, headers, body})
  const text = await res.text()
  let json: unknown
  try {
    json = text ? (JSON.parse(text) as unknown) : undefined
  } catch {
    json = undefined
  }
  return {status: res.status, headers: res.headers, text, json}
}

export type Json = Record<string, unknown>

export function asObject(value: unknown): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not a JSON object: ${JSON.stringify(value)}`)
  return value as Json
}

/** The JSON object of a response that must have `status`. */
export function expectStatus(res: RawResponse, expected: number): Json {
  if (res.status !== expected) throw new Error(`expected HTTP ${expected}, got ${res.status}: ${res.text.slice(0, 500)}`)
  return res.json === undefined ? {} : asObject(res.json)
}

export function itemsOf(list: Json): Json[] {
  if (!Array.isArray(list.items)) throw new Error(`no items array: ${JSON.stringify(list).slice(0, 300)}`)
  return list.items.map(asObject)
}

export async function create(server: ApiServer, resource: string, body: Json): Promise<Json> {
  return expectStatus(await call(server, 'POST', `/${resource}`, {body}), 201)
}

/** A unique, valid project name (DNS-1123, starts with a letter). */
let projectSeq = 0
export function projectName(prefix = 'p'): string {
  return `${prefix}-${process.pid}-${++projectSeq}`
}

export function authMetadata(token = TOKEN): Metadata {
  const md = new Metadata()
  md.set('authorization', `Bearer ${token}`)
  return md
}

export interface GrpcClients {
  sessions: SessionServiceClient
  projects: ProjectServiceClient
  settings: ProjectSettingsServiceClient
  users: UserServiceClient
  close(): void
}

export function grpcClients(server: ApiServer): GrpcClients {
  const creds = credentials.createInsecure()
  const clients = {
    sessions: new SessionServiceClient(server.grpcAddress, creds),
    projects: new ProjectServiceClient(server.grpcAddress, creds),
    settings: new ProjectSettingsServiceClient(server.grpcAddress, creds),
    users: new UserServiceClient(server.grpcAddress, creds),
  }
  return {
    ...clients,
    close: () => {
      for (const c of Object.values(clients)) c.close()
    },
  }
}

/** A server and gRPC clients of it for one test file: started before its tests, closed after. */
export function useServerWithGrpc(options: Partial<ApiServerOptions> = {}): {server: ApiServer; grpc: GrpcClients} {
  const ctx = {} as {server: ApiServer; grpc: GrpcClients}
  beforeAll(async () => {
    ctx.server = await startServer(options)
    ctx.grpc = grpcClients(ctx.server)
  })
  afterAll(async () => {
    ctx.grpc?.close()
    await ctx.server?.close()
  })
  return ctx
}

// `unary<Res>((cb) => client.getX(req, authMetadata(), cb))` and the ServiceError a call fails with.
export {grpcCall as unary, grpcError as grpcFailure} from '../server/helpers.js'
export {status as grpcStatus}
export {waitFor} from '../helpers/wait.js'
