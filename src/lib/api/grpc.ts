// gRPC client of the Ambient API (contract section 2): the three services over one channel,
// watch streams as typed async iterables, the bearer token sent as per-call metadata (call
// credentials are refused on a plaintext channel, and plaintext is the default here).
import {
  credentials,
  Metadata,
  status as GrpcStatus,
  type CallOptions,
  type ClientOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js'
import type {EventType, ListMeta} from '../../gen/ambient/v1/common.js'
import {ProjectServiceClient} from '../../gen/ambient/v1/projects.js'
import {ProjectSettingsServiceClient} from '../../gen/ambient/v1/project_settings.js'
import {SessionServiceClient} from '../../gen/ambient/v1/sessions.js'
import {AmbientError} from '../errors.js'
import {silentLogger, type Logger} from '../log.js'
import {eventTypeFromProto, projectFromProto, projectSettingsFromProto, sessionFromProto, statusPatchToProto} from './convert.js'
import {ApiError, ApiUnreachableError} from './errors.js'
import {httpStatusOf, watchError, whenReady} from './grpc-calls.js'
import {fetchAllPages} from './paging.js'
import type {ObjectMeta, ResourceName, ResourceTypes, Session, SessionStatusPatch, WatchEvent} from './types.js'
import {WatchQueue, type WatchQueueSource} from './watch-queue.js'

export interface GrpcClientOptions {
  /** host:port, e.g. localhost:8001 */
  address: string
  tls: boolean
  /** Called on every call: pass a TokenSource's get so a rotated token is used at once. */
  token: () => string
  /** Deadline of unary calls (watch streams have none). */
  timeoutMs?: number
  logger?: Logger
  /** Extra channel options, merged over the keepalive defaults. */
  channelOptions?: Partial<ClientOptions>
}

export interface GrpcCallOptions {
  signal?: AbortSignal
  timeoutMs?: number
}

/**
 * A watch stream of the gRPC client: read it to open the call. `sent` resolves once the call
 * is open on a connected channel (stays pending if it never is).
 */
export type GrpcWatch<T extends ObjectMeta> = WatchQueue<WatchEvent<T>>

export interface GrpcListAllOptions extends GrpcCallOptions {
  pageSize?: number
  concurrency?: number
}

export interface GrpcPage<T> {
  items: T[]
  page: number
  size: number
  total: number
}

/**
 * Keepalive for watch streams that can sit idle for hours: a ping every 30 s notices a dead
 * peer (or a NAT that dropped the flow) within 40 s. Servers that allow fewer pings answer
 * with GOAWAY too_many_pings; grpc-js then doubles its interval on its own.
 */
export const DEFAULT_CHANNEL_OPTIONS: Partial<ClientOptions> = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
}

/** What a unary call is about, for its errors. */
type CallAbout = {operation: string; resource: string; id?: string}
type Callback<Res> = (error: ServiceError | null, response: Res) => void
type Unary<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<Res>) => ClientUnaryCall

/** A watch event as every generated *WatchEvent message has it, with the object already converted. */
interface RawEvent<T> {
  type: EventType
  object: T | undefined
  resourceId: string
}

/** What the client needs of one resource's service, bound to the generated client. */
interface ResourceAdapter<T extends ObjectMeta> {
  list: Unary<{page: number; size: number}, {items: T[]; metadata: ListMeta | undefined}>
  get: Unary<{id: string}, T>
  watch: (metadata: Metadata) => WatchCall<T>
}

type Adapters = {[R in ResourceName]: ResourceAdapter<ResourceTypes[R]>}

/** A list callback that hands on the page with its items converted. */
function listed<P, T>(cb: Callback<{items: T[]; metadata: ListMeta | undefined}>, convert: (p: P) => T): Callback<{items: P[]; metadata?: ListMeta}> {
  return (err, res) => cb(err, res && {items: res.items.map(convert), metadata: res.metadata})
}

function rawEvent<T>(message: {type: EventType; resource_id: string}, object: T | undefined): RawEvent<T> {
  return {type: message.type, object, resourceId: message.resource_id}
}

export class GrpcClient {
  readonly address: string
  private readonly token: () => string
  private readonly timeoutMs: number
  private readonly logger: Logger
  private readonly sessions: InstanceType<typeof SessionServiceClient>
  private readonly projects: InstanceType<typeof ProjectServiceClient>
  private readonly settings: InstanceType<typeof ProjectSettingsServiceClient>
  private readonly adapters: Adapters
  private readonly openWatches = new Set<() => void>()
  private closed = false

  constructor(options: GrpcClientOptions) {
    this.address = options.address
    this.token = options.token
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.logger = options.logger ?? silentLogger
    const creds = options.tls ? credentials.createSsl() : credentials.createInsecure()
    const channelOptions = {...DEFAULT_CHANNEL_OPTIONS, ...options.channelOptions}
    this.sessions = new SessionServiceClient(options.address, creds, channelOptions)
    // One channel (one HTTP/2 connection) for the three services.
    const shared = {...channelOptions, channelOverride: this.sessions.getChannel()}
    this.projects = new ProjectServiceClient(options.address, creds, shared)
    this.settings = new ProjectSettingsServiceClient(options.address, creds, shared)
    this.adapters = this.bindAdapters()
  }

  private bindAdapters(): Adapters {
    const {sessions, projects, settings} = this
    return {
      sessions: {
        list: (req, md, opts, cb) => sessions.listSessions(req, md, opts, listed(cb, sessionFromProto)),
        get: (req, md, opts, cb) => sessions.getSession(req, md, opts, (err, res) => cb(err, res && sessionFromProto(res))),
        watch: (md) => watchCall(sessions.watchSessions({}, md), (ev) => rawEvent(ev, ev.session && sessionFromProto(ev.session))),
      },
      projects: {
        list: (req, md, opts, cb) => projects.listProjects(req, md, opts, listed(cb, projectFromProto)),
        get: (req, md, opts, cb) => projects.getProject(req, md, opts, (err, res) => cb(err, res && projectFromProto(res))),
        watch: (md) => watchCall(projects.watchProjects({}, md), (ev) => rawEvent(ev, ev.project && projectFromProto(ev.project))),
      },
      project_settings: {
        list: (req, md, opts, cb) => settings.listProjectSettings(req, md, opts, listed(cb, projectSettingsFromProto)),
        get: (req, md, opts, cb) => settings.getProjectSettings(req, md, opts, (err, res) => cb(err, res && projectSettingsFromProto(res))),
        watch: (md) =>
          watchCall(settings.watchProjectSettings({}, md), (ev) =>
            rawEvent(ev, ev.project_settings && projectSettingsFromProto(ev.project_settings)),
          ),
      },
    }
  }

  private adapter<R extends ResourceName>(resource: R): Adapters[R] {
    if (!Object.hasOwn(this.adapters, resource))
      throw new AmbientError(`the gRPC API has no resource ${JSON.stringify(resource)}`, 'ERR_GRPC_RESOURCE')
    return this.adapters[resource]
  }

  private metadata(): Metadata {
    const md = new Metadata()
    md.set('authorization', `Bearer ${this.token()}`)
    return md
  }

  /** One page (1-based). */
  async list<R extends ResourceName>(resource: R, page: number, size: number, options: GrpcCallOptions = {}): Promise<GrpcPage<ResourceTypes[R]>> {
    const adapter: ResourceAdapter<ResourceTypes[R]> = this.adapter(resource)
    const res = await this.unary(adapter.list, {page, size}, {operation: `List ${resource}`, resource}, options)
    return {
      items: res.items,
      page: res.metadata?.page ?? page,
      size: res.metadata?.size ?? size,
      // Without list metadata the total is unknown: fetchAllPages then reads until a short page.
      total: res.metadata ? res.metadata.total : Number.NaN,
    }
  }

  /** Every object, all pages (page 1 gives the total, the rest are fetched concurrently). */
  async listAll<R extends ResourceName>(resource: R, options: GrpcListAllOptions = {}): Promise<ResourceTypes[R][]> {
    const {pageSize = 100, concurrency = 4, signal, timeoutMs} = options
    return fetchAllPages<ResourceTypes[R]>({
      pageSize,
      concurrency,
      signal,
      fetchPage: (page, size, pageSignal) => this.list(resource, page, size, {signal: pageSignal, timeoutMs}),
    })
  }

  async get<R extends ResourceName>(resource: R, id: string, options: GrpcCallOptions = {}): Promise<ResourceTypes[R]> {
    const adapter: ResourceAdapter<ResourceTypes[R]> = this.adapter(resource)
    return this.unary(adapter.get, {id}, {operation: `Get ${resource}`, resource, id}, options)
  }

  async updateSessionStatus(id: string, patch: SessionStatusPatch, options: GrpcCallOptions = {}): Promise<Session> {
    const call: Unary<{id: string}, Session> = (_req, md, opts, cb) =>
      this.sessions.updateSessionStatus(statusPatchToProto(id, patch), md, opts, (err, res) => cb(err, res && sessionFromProto(res)))
    return this.unary(call, {id}, {operation: 'UpdateSessionStatus', resource: 'sessions', id}, options)
  }

  /**
   * Changes made after the server registered the stream. Ends when the server ends the
   * stream cleanly or the signal is aborted; throws WatchUnimplementedError when the server
   * has no watch and WatchStreamError (with the gRPC code) for any other failure. Like the
   * real server (grpc-go), a server may send no headers until its first event: nothing here
   * waits for them. The call opens on the first read.
   */
  watch<R extends ResourceName>(resource: R, signal: AbortSignal): GrpcWatch<ResourceTypes[R]> {
    const adapter: ResourceAdapter<ResourceTypes[R]> = this.adapter(resource)
    return new WatchQueue({open: (queue) => this.openWatch(resource, adapter, signal, queue)})
  }

  /** Opens the call and feeds its events to `queue`, which pauses and closes it. */
  private openWatch<T extends ObjectMeta>(
    resource: string,
    adapter: ResourceAdapter<T>,
    signal: AbortSignal,
    queue: WatchQueue<WatchEvent<T>>,
  ): WatchQueueSource {
    if (signal.aborted) {
      queue.end()
      return {pause: () => {}, resume: () => {}, close: () => {}}
    }
    const call = adapter.watch(this.metadata())
    const onAbort = (): void => call.stream.cancel()
    // grpc-js ends the readable side, then emits the status error, and 'end' comes once the
    // messages still in the stream are read: the error is passed on at 'end', after them.
    // This listener also keeps a late CANCELLED (after the reader stopped) from being unhandled.
    let failure: Error | undefined
    call.stream.on('error', (err: unknown) => {
      if (signal.aborted || this.closed) queue.end()
      else failure ??= watchError(resource, err)
    })
    const ended = (): void => (failure ? queue.fail(failure) : queue.end())
    call.stream.once('end', ended)
    call.stream.once('close', ended)
    const badMessage = (err: unknown): void => {
      // A message that cannot be converted fails the stream at once.
      queue.fail(watchError(resource, err))
      call.stream.cancel()
    }
    call.onEvent((raw) => {
      const event = this.toWatchEvent(resource, raw)
      if (event) queue.push(event)
    }, badMessage)
    signal.addEventListener('abort', onAbort, {once: true})
    this.openWatches.add(onAbort)
    this.logger.debug({resource, address: this.address}, 'watch opened')
    return {
      pause: () => call.stream.pause(),
      resume: () => call.stream.resume(),
      close: () => {
        signal.removeEventListener('abort', onAbort)
        this.openWatches.delete(onAbort)
        // Also reached when the reader breaks out of its loop: the call must not linger.
        call.stream.cancel()
        this.logger.debug({resource}, 'watch closed')
      },
      sent: whenReady(this.sessions.getChannel(), () => queue.ended),
    }
  }

  private toWatchEvent<T extends ObjectMeta>(resource: string, raw: RawEvent<T>): WatchEvent<T> | undefined {
    const type = eventTypeFromProto(raw.type)
    if (type === undefined) {
      this.logger.debug({resource, type: raw.type}, 'skipping watch event of unspecified type')
      return undefined
    }
    if (type === 'DELETED') {
      const id = raw.resourceId || raw.object?.id || ''
      if (id) return {type, id}
      this.logger.warn({resource}, 'skipping DELETED watch event without a resource id')
      return undefined
    }
    if (raw.object) return {type, id: raw.object.id || raw.resourceId, object: raw.object}
    this.logger.warn({resource, type, id: raw.resourceId}, 'skipping watch event without an object')
    return undefined
  }

  private unary<Req, Res>(invoke: Unary<Req, Res>, request: Req, about: CallAbout, options: GrpcCallOptions): Promise<Res> {
    const {signal} = options
    const timeoutMs = options.timeoutMs ?? this.timeoutMs
    return new Promise<Res>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const onAbort = () => call.cancel()
      const call = invoke(request, this.metadata(), {deadline: Date.now() + timeoutMs}, (err, res) => {
        signal?.removeEventListener('abort', onAbort)
        if (!err) resolve(res)
        else if (signal?.aborted) reject(signal.reason)
        else reject(this.toError(err, about, timeoutMs))
      })
      signal?.addEventListener('abort', onAbort, {once: true})
    })
  }

  private toError(err: ServiceError, {operation, resource, id}: CallAbout, timeoutMs: number): Error {
    if (err.code === GrpcStatus.DEADLINE_EXCEEDED) {
      return new ApiUnreachableError(this.address, true, `${operation}: no answer within ${timeoutMs} ms`, {cause: err})
    }
    if (err.code === GrpcStatus.UNAVAILABLE) {
      return new ApiUnreachableError(this.address, false, `${operation}: ${err.details}`, {cause: err})
    }
    return new ApiError({
      status: httpStatusOf(err.code),
      reason: err.details,
      method: 'gRPC',
      path: operation,
      resource,
      id,
      grpcCode: err.code,
      cause: err,
    })
  }

  /** Ends open watch streams (their iterables finish without error) and closes the shared channel. */
  close(): void {
    this.closed = true
    for (const cancel of [...this.openWatches]) cancel()
    this.projects.close()
    this.settings.close()
    this.sessions.close()
  }
}

/** An open watch call: its messages (converted on demand), and the stream for the rest. */
interface WatchCall<T> {
  /** Calls `handler` per converted message, in order; `onBadMessage` when one cannot be converted. */
  onEvent(handler: (raw: RawEvent<T>) => void, onBadMessage: (err: unknown) => void): void
  /** For 'error' and 'end', pause/resume and cancel. */
  stream: ClientReadableStream<unknown>
}

function watchCall<M, T>(stream: ClientReadableStream<M>, convert: (message: M) => RawEvent<T>): WatchCall<T> {
  return {
    onEvent: (handler, onBadMessage) =>
      stream.on('data', (message: M) => {
        let raw: RawEvent<T>
        try {
          raw = convert(message)
        } catch (err) {
          onBadMessage(err)
          return
        }
        handler(raw)
      }),
    stream,
  }
}

export {httpStatusOf} from './grpc-calls.js'
