// gRPC client of the Ambient API (contract section 2): the three services over one channel,
// watch streams as typed async iterables, the bearer token sent as per-call metadata (call
// credentials are refused on a plaintext channel, and plaintext is the default here).
import type {Readable} from 'node:stream'
import {
  connectivityState,
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
import {WatchUnimplementedError, type WatchStream} from '../informer/source.js'
import {silentLogger, type Logger} from '../log.js'
import {eventTypeFromProto, projectFromProto, projectSettingsFromProto, sessionFromProto, statusPatchToProto} from './convert.js'
import {ApiError, ApiUnreachableError, WatchStreamError} from './errors.js'
import {fetchAllPages} from './rest.js'
import type {ObjectMeta, ResourceName, ResourceTypes, Session, SessionStatusPatch, WatchEvent} from './types.js'

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
 * A watch stream of the gRPC client: iterate it to open the call. `sent` resolves once the
 * call is open on a connected channel (stays pending if it never is).
 */
export type GrpcWatch<T extends ObjectMeta> = AsyncIterableIterator<WatchEvent<T>> & Required<Omit<WatchStream<T>, typeof Symbol.asyncIterator>>

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
        list: (req, md, opts, cb) =>
          sessions.listSessions(req, md, opts, (err, res) => cb(err, res && {items: res.items.map(sessionFromProto), metadata: res.metadata})),
        get: (req, md, opts, cb) => sessions.getSession(req, md, opts, (err, res) => cb(err, res && sessionFromProto(res))),
        watch: (md) =>
          watchCall(sessions.watchSessions({}, md), (ev) => ({
            type: ev.type,
            object: ev.session && sessionFromProto(ev.session),
            resourceId: ev.resource_id,
          })),
      },
      projects: {
        list: (req, md, opts, cb) =>
          projects.listProjects(req, md, opts, (err, res) => cb(err, res && {items: res.items.map(projectFromProto), metadata: res.metadata})),
        get: (req, md, opts, cb) => projects.getProject(req, md, opts, (err, res) => cb(err, res && projectFromProto(res))),
        watch: (md) =>
          watchCall(projects.watchProjects({}, md), (ev) => ({
            type: ev.type,
            object: ev.project && projectFromProto(ev.project),
            resourceId: ev.resource_id,
          })),
      },
      project_settings: {
        list: (req, md, opts, cb) =>
          settings.listProjectSettings(req, md, opts, (err, res) =>
            cb(err, res && {items: res.items.map(projectSettingsFromProto), metadata: res.metadata}),
          ),
        get: (req, md, opts, cb) => settings.getProjectSettings(req, md, opts, (err, res) => cb(err, res && projectSettingsFromProto(res))),
        watch: (md) =>
          watchCall(settings.watchProjectSettings({}, md), (ev) => ({
            type: ev.type,
            object: ev.project_settings && projectSettingsFromProto(ev.project_settings),
            resourceId: ev.resource_id,
          })),
      },
    }
  }

  private adapter<R extends ResourceName>(resource: R): Adapters[R] {
    if (!Object.hasOwn(this.adapters, resource)) {
      throw new AmbientError(`the gRPC API has no resource ${JSON.stringify(resource)}`, 'ERR_GRPC_RESOURCE')
    }
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
    const res = await this.unary(adapter.list, {page, size}, `List ${resource}`, {resource}, options)
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
    return this.unary(adapter.get, {id}, `Get ${resource}`, {resource, id}, options)
  }

  async updateSessionStatus(id: string, patch: SessionStatusPatch, options: GrpcCallOptions = {}): Promise<Session> {
    const call: Unary<{id: string}, Session> = (_req, md, opts, cb) =>
      this.sessions.updateSessionStatus(statusPatchToProto(id, patch), md, opts, (err, res) => cb(err, res && sessionFromProto(res)))
    return this.unary(call, {id}, 'UpdateSessionStatus', {resource: 'sessions', id}, options)
  }

  /**
   * Changes made after the server registered the stream. Ends when the server ends the
   * stream cleanly or the signal is aborted; throws WatchUnimplementedError when the server
   * has no watch and WatchStreamError (with the gRPC code) for any other failure. Like the
   * real server (grpc-go), a server may send no headers until its first event: nothing here
   * waits for them.
   */
  watch<R extends ResourceName>(resource: R, signal: AbortSignal): GrpcWatch<ResourceTypes[R]> {
    const adapter: ResourceAdapter<ResourceTypes[R]> = this.adapter(resource)
    return this.watchStream(resource, adapter, signal)
  }

  /**
   * The stream's messages are taken in flowing mode and handed out from a small buffer by a
   * hand-written iterator: one resolved promise per event, where async generators stacked on
   * Readable's iterator cost several. The call opens on the first next(), and past
   * WATCH_BUFFER unread events the stream is paused, so a slow consumer still holds the
   * server back (HTTP/2 flow control).
   */
  private watchStream<T extends ObjectMeta>(
    resource: string,
    adapter: ResourceAdapter<T>,
    signal: AbortSignal,
  ): GrpcWatch<T> {
    let call: WatchCall<T> | undefined
    let started = false
    let ended = false
    let finished = false
    let failure: Error | undefined
    let paused = false
    let items: WatchEvent<T>[] = []
    let head = 0
    let waiter: {resolve: (r: IteratorResult<WatchEvent<T>>) => void; reject: (err: unknown) => void} | undefined
    let markSent: () => void = () => {}
    const sent = new Promise<void>((resolve) => (markSent = resolve))
    const onAbort = (): void => call?.cancel()

    const finish = (): void => {
      if (finished) return
      finished = true
      ended = true
      items = []
      head = 0
      if (!call) return
      signal.removeEventListener('abort', onAbort)
      this.openWatches.delete(onAbort)
      // Also reached when the consumer breaks out of its loop: the call must not linger.
      call.cancel()
      this.logger.debug({resource}, 'watch closed')
    }
    const settle = (): void => {
      const w = waiter
      if (!w) return
      waiter = undefined
      if (failure) {
        const err = failure
        failure = undefined
        finish()
        w.reject(err)
      } else {
        finish()
        w.resolve({value: undefined, done: true})
      }
    }
    const push = (event: WatchEvent<T>): void => {
      if (ended) return
      if (waiter) {
        const w = waiter
        waiter = undefined
        w.resolve({value: event, done: false})
        return
      }
      items.push(event)
      if (!paused && items.length - head >= WATCH_BUFFER) {
        paused = true
        call?.stream.pause()
      }
    }
    const toError = (err: unknown): Error => {
      const code = isServiceError(err) ? err.code : GrpcStatus.UNKNOWN
      if (code === GrpcStatus.UNIMPLEMENTED) return new WatchUnimplementedError(resource, {cause: err})
      const detail = isServiceError(err) ? `${GrpcStatus[code] ?? code}: ${err.details}` : String(err)
      return new WatchStreamError(resource, code, detail, {cause: err})
    }
    const end = (): void => {
      ended = true
      settle()
    }
    // grpc-js ends the readable side, then emits the status error: the messages still
    // buffered are delivered first, then the error (after 'end'), as Readable's iterator does.
    const onError = (err: unknown): void => {
      if (ended) return
      if (signal.aborted || this.closed) end()
      else failure ??= toError(err)
    }
    /** A message that cannot be converted fails the stream at once. */
    const onBadMessage = (err: unknown): void => {
      if (ended) return
      failure = toError(err)
      end()
      call?.cancel()
    }
    const start = (): void => {
      started = true
      if (signal.aborted) {
        ended = true
        finished = true
        return
      }
      const opened = adapter.watch(this.metadata())
      call = opened
      whenReady(this.sessions.getChannel(), () => ended).then(markSent, () => undefined)
      // Errors surface through next(); this listener also keeps a late CANCELLED status
      // (after the consumer stopped reading) from becoming an unhandled 'error' event.
      opened.stream.on('error', onError)
      opened.stream.once('end', end)
      opened.stream.once('close', end)
      opened.onEvent((raw) => {
        const event = this.toWatchEvent(resource, raw)
        if (event) push(event)
      }, onBadMessage)
      signal.addEventListener('abort', onAbort, {once: true})
      this.openWatches.add(onAbort)
      this.logger.debug({resource, address: this.address}, 'watch opened')
    }

    const iterator: AsyncIterableIterator<WatchEvent<T>> = {
      next: (): Promise<IteratorResult<WatchEvent<T>>> => {
        if (!started) start()
        if (head < items.length) {
          const value = items[head++]
          if (head === items.length) {
            items = []
            head = 0
          } else if (head >= WATCH_BUFFER * 8) {
            // A consumer that never quite catches up: drop what it has read.
            items = items.slice(head)
            head = 0
          }
          if (paused && items.length - head <= WATCH_BUFFER / 2) {
            paused = false
            call?.stream.resume()
          }
          return Promise.resolve({value, done: false})
        }
        if (failure) {
          const err = failure
          failure = undefined
          finish()
          return Promise.reject(err)
        }
        if (ended) {
          finish()
          return Promise.resolve({value: undefined, done: true})
        }
        return new Promise((resolve, reject) => (waiter = {resolve, reject}))
      },
      return: (): Promise<IteratorResult<WatchEvent<T>>> => {
        ended = true
        failure = undefined
        settle()
        finish()
        return Promise.resolve({value: undefined, done: true})
      },
      [Symbol.asyncIterator]() {
        return iterator
      },
    }
    // WatchBufferHint: the events already received, handed over without a promise each.
    const takeBuffered = (): WatchEvent<T>[] => {
      if (head >= items.length) return []
      const taken = head === 0 ? items : items.slice(head)
      items = []
      head = 0
      if (paused) {
        paused = false
        call?.stream.resume()
      }
      return taken
    }
    return Object.assign(iterator, {takeBuffered, sent})
  }

  private toWatchEvent<T extends ObjectMeta>(resource: string, raw: RawEvent<T>): WatchEvent<T> | undefined {
    const type = eventTypeFromProto(raw.type)
    if (type === undefined) {
      this.logger.debug({resource, type: raw.type}, 'skipping watch event of unspecified type')
      return undefined
    }
    if (type === 'DELETED') {
      const id = raw.resourceId || raw.object?.id || ''
      if (!id) {
        this.logger.warn({resource}, 'skipping DELETED watch event without a resource id')
        return undefined
      }
      return {type, id}
    }
    if (!raw.object) {
      this.logger.warn({resource, type, id: raw.resourceId}, 'skipping watch event without an object')
      return undefined
    }
    return {type, id: raw.object.id || raw.resourceId, object: raw.object}
  }

  private unary<Req, Res>(
    invoke: Unary<Req, Res>,
    request: Req,
    operation: string,
    about: {resource: string; id?: string},
    options: GrpcCallOptions,
  ): Promise<Res> {
    const {signal} = options
    const timeoutMs = options.timeoutMs ?? this.timeoutMs
    return new Promise<Res>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason)
        return
      }
      const onAbort = () => call.cancel()
      const call = invoke(request, this.metadata(), {deadline: Date.now() + timeoutMs}, (err, res) => {
        signal?.removeEventListener('abort', onAbort)
        if (!err) {
          resolve(res)
          return
        }
        if (signal?.aborted) reject(signal.reason)
        else reject(this.toError(err, operation, about, timeoutMs))
      })
      signal?.addEventListener('abort', onAbort, {once: true})
    })
  }

  private toError(err: ServiceError, operation: string, about: {resource: string; id?: string}, timeoutMs: number): Error {
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
      resource: about.resource,
      id: about.id,
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

/** Unread watch events past which the stream is paused. */
const WATCH_BUFFER = 128

/** An open watch call: its messages (converted on demand), and the handle to cancel it. */
interface WatchCall<T> {
  /** Calls `handler` per converted message, in order; `onBadMessage` when one cannot be converted. */
  onEvent(handler: (raw: RawEvent<T>) => void, onBadMessage: (err: unknown) => void): void
  cancel(): void
  /** For 'metadata', 'error' and 'end', and pause/resume. */
  stream: Readable
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
    cancel: () => stream.cancel(),
    stream,
  }
}

/**
 * Resolves when the channel is READY (a call started on it goes out at once); never resolves
 * once `gone()` is true or the channel is shut down. A call started on a connecting channel
 * waits for the connection, so "started" is not "sent" until then.
 */
type Channel = ReturnType<InstanceType<typeof SessionServiceClient>['getChannel']>

function whenReady(channel: Channel, gone: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      const state = channel.getConnectivityState(false)
      if (state === connectivityState.READY) return resolve()
      if (gone() || state === connectivityState.SHUTDOWN) return
      try {
        // No deadline: a timer would hold the process open; the channel's close wakes it.
        channel.watchConnectivityState(state, Infinity, check)
      } catch {
        // The channel was shut down meanwhile.
      }
    }
    check()
  })
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err
}

/** The HTTP status a gRPC code stands for (the mapping rh-trex servers use in reverse). */
export function httpStatusOf(code: number): number {
  switch (code) {
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return 400
    case GrpcStatus.UNAUTHENTICATED:
      return 401
    case GrpcStatus.PERMISSION_DENIED:
      return 403
    case GrpcStatus.NOT_FOUND:
      return 404
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.ABORTED:
    case GrpcStatus.FAILED_PRECONDITION:
      return 409
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return 429
    case GrpcStatus.CANCELLED:
      return 499
    case GrpcStatus.UNIMPLEMENTED:
      return 501
    case GrpcStatus.UNAVAILABLE:
      return 503
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 504
    default:
      return 500
  }
}
