// The gRPC face of the embedded API server (contract section 2): the four generated services
// over the same store as REST, so names and fields are validated by the same rules. Errors map from HTTP status the way rh-trex based servers map
// them (400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND,
// 409 ALREADY_EXISTS, else INTERNAL). Lists normalise page/size like the real server's
// grpcutil.NormalizePagination: page < 1 -> 1, size < 1 or > 500 -> 20 (proto3 cannot tell
// an unset size from 0, so nothing here is rejected).
import {
  type Metadata,
  Server,
  ServerCredentials,
  status,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js'
import {eventTypeToProto, projectSettingsToProto, projectToProto, sessionToProto, statusPatchFromProto, userToProto} from '../../api/convert.js'
import type {Logger} from '../../log.js'
import {ProjectServiceService, type ProjectServiceServer, type ProjectWatchEvent} from '../../../gen/ambient/v1/projects.js'
import {
  ProjectSettingsServiceService,
  type ProjectSettingsServiceServer,
  type ProjectSettingsWatchEvent,
} from '../../../gen/ambient/v1/project_settings.js'
import {SessionServiceService, type SessionServiceServer, type SessionWatchEvent} from '../../../gen/ambient/v1/sessions.js'
import {UserServiceService, type UserServiceServer, type UserWatchEvent} from '../../../gen/ambient/v1/users.js'
import type {ListMeta} from '../../../gen/ambient/v1/common.js'
import {AmbientError} from '../../errors.js'
import {checkBearer} from '../auth.js'
import {ApiServerError} from '../errors.js'
import {SCHEMAS, type StoreResource, type StoreTypes} from '../schema.js'
import type {ChangeEvent, CreateInputs, PatchInputs, Store} from '../store.js'
import {DEFAULT_MAX_PENDING_WATCH_EVENTS, WatchStream} from './watch.js'

export const GRPC_DEFAULT_PAGE_SIZE = 20
export const GRPC_MAX_PAGE_SIZE = 500

export type WatchMode = 'on' | 'unimplemented'

export interface GrpcOptions {
  store: Store
  token: string
  /** Who the token belongs to: sessions created over gRPC get it as created_by_user_id. */
  username: string
  logger: Logger
  maxPendingWatchEvents?: number
}

/** A failure that already has its gRPC status (argument checks done before the store). */
class GrpcStatusError extends AmbientError {
  constructor(
    readonly grpcCode: status,
    readonly details: string,
  ) {
    super(details, 'ERR_GRPC_STATUS')
  }
}

const invalid = (details: string) => new GrpcStatusError(status.INVALID_ARGUMENT, details)

function toServiceError(err: unknown, logger: Logger): ServerErrorResponse {
  if (err instanceof GrpcStatusError) return Object.assign(new Error(err.details), {code: err.grpcCode, details: err.details})
  if (err instanceof ApiServerError) {
    const code =
      err.httpStatus === 401
        ? status.UNAUTHENTICATED
        : err.httpStatus === 403
          ? status.PERMISSION_DENIED
          : err.httpStatus === 404
            ? status.NOT_FOUND
            : err.httpStatus === 409
              ? status.ALREADY_EXISTS
              : err.httpStatus >= 400 && err.httpStatus < 500
                ? status.INVALID_ARGUMENT
                : status.INTERNAL
    return Object.assign(new Error(err.reason), {code, details: err.reason})
  }
  logger.error({err}, 'gRPC handler failed')
  return Object.assign(new Error('Unspecified error'), {code: status.INTERNAL, details: 'Unspecified error'})
}

function bearerFrom(metadata: Metadata): string | undefined {
  const v = metadata.get('authorization')[0]
  return v === undefined ? undefined : String(v)
}

function requireId(id: string): string {
  if (!id) throw invalid('id is required')
  return id
}

/** Copies the given keys whose values are set (proto3 optional fields arrive as undefined). */
function pick<T extends object, K extends keyof T>(src: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const k of keys) if (src[k] !== undefined) out[k] = src[k]
  return out
}

export class GrpcApi {
  readonly server = new Server()
  private watchMode: WatchMode = 'on'
  private readonly streams = new Set<WatchStream<unknown>>()
  private readonly maxPending: number

  constructor(private readonly options: GrpcOptions) {
    this.maxPending = options.maxPendingWatchEvents ?? DEFAULT_MAX_PENDING_WATCH_EVENTS
    this.server.addService(SessionServiceService, this.sessionService())
    this.server.addService(ProjectServiceService, this.projectService())
    this.server.addService(ProjectSettingsServiceService, this.projectSettingsService())
    this.server.addService(UserServiceService, this.userService())
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)))
    })
  }

  setWatchMode(mode: WatchMode): void {
    this.watchMode = mode
  }

  get openWatchStreams(): number {
    return this.streams.size
  }

  killWatchStreams(details = 'event broker not available'): void {
    for (const s of [...this.streams]) s.fail(status.UNAVAILABLE, details)
  }

  /** Ends watch streams, lets unary calls finish for up to `graceMs`, then cuts the rest. */
  close(graceMs = 2000): Promise<void> {
    this.killWatchStreams('server shutting down')
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown()
        resolve()
      }, graceMs)
      timer.unref()
      this.server.tryShutdown(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  // ---- plumbing ----

  private unary<Req, Res>(fn: (request: Req) => Res) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const auth = checkBearer(bearerFrom(call.metadata), this.options.token)
      if (!auth.ok) {
        callback({code: auth.status === 403 ? status.PERMISSION_DENIED : status.UNAUTHENTICATED, details: auth.reason})
        return
      }
      try {
        callback(null, fn(call.request))
      } catch (err) {
        callback(toServiceError(err, this.options.logger))
      }
    }
  }

  private watch<Msg>(resource: StoreResource, toMessage: (event: ChangeEvent) => Msg | undefined) {
    return (call: ServerWritableStream<unknown, Msg>): void => {
      if (this.watchMode === 'unimplemented') {
        call.emit('error', {code: status.UNIMPLEMENTED, details: `Method not implemented`})
        return
      }
      const auth = checkBearer(bearerFrom(call.metadata), this.options.token)
      if (!auth.ok) {
        call.emit('error', {code: status.UNAUTHENTICATED, details: auth.reason})
        return
      }
      const stream: WatchStream<Msg> = new WatchStream<Msg>({
        call,
        store: this.options.store,
        resource,
        toMessage,
        maxPending: this.maxPending,
        logger: this.options.logger,
        onDone: () => this.streams.delete(stream as WatchStream<unknown>),
      })
      this.streams.add(stream as WatchStream<unknown>)
      // No sendMetadata here: like the real server (grpc-go handlers that never call
      // SendHeader), the response headers go out with the first event, so an idle stream
      // shows a client nothing at all, and nothing tells it when it was registered.
    }
  }

  private list<R extends StoreResource>(resource: R, page: number, size: number): {items: StoreTypes[R][]; metadata: ListMeta} {
    const p = Math.max(page, 1)
    const s = size < 1 || size > GRPC_MAX_PAGE_SIZE ? GRPC_DEFAULT_PAGE_SIZE : size
    const result = this.options.store.list(resource, {page: p, size: s})
    return {items: result.items, metadata: {page: p, size: result.items.length, total: result.total}}
  }

  private get<R extends StoreResource>(resource: R, id: string): StoreTypes[R] {
    const obj = this.options.store.get(resource, requireId(id))
    if (!obj) throw new GrpcStatusError(status.NOT_FOUND, `${SCHEMAS[resource].kind} with id='${id}' not found`)
    return obj
  }

  // ---- services ----

  private sessionService(): SessionServiceServer {
    const store = this.options.store
    return {
      getSession: this.unary((req) => sessionToProto(this.get('sessions', req.id))),
      createSession: this.unary((req) => {
        // Field 4 (created_by_user_id) is read and dropped: the caller's identity decides.
        const input: CreateInputs['sessions'] = {
          ...pick(req, [
            'repo_url',
            'prompt',
            'assigned_user_id',
            'workflow_id',
            'repos',
            'timeout',
            'llm_model',
            'llm_temperature',
            'llm_max_tokens',
            'parent_session_id',
            'bot_account_name',
            'resource_overrides',
            'environment_variables',
            'labels',
            'annotations',
            'project_id',
          ]),
          name: req.name,
          created_by_user_id: this.options.username,
        }
        return sessionToProto(store.create('sessions', input))
      }),
      // project_id is passed on and the store refuses a different one (INVALID_ARGUMENT): the
      // real server's gRPC handler would move the session, which the contract rules out (a
      // session never moves between projects), and a typed field that is silently dropped would
      // hide the caller's mistake. REST ignores the key instead, as the real REST PATCH does.
      updateSession: this.unary((req) => {
        const patch: PatchInputs['sessions'] = pick(req, [
          'name',
          'repo_url',
          'prompt',
          'assigned_user_id',
          'workflow_id',
          'repos',
          'timeout',
          'llm_model',
          'llm_temperature',
          'llm_max_tokens',
          'parent_session_id',
          'bot_account_name',
          'resource_overrides',
          'environment_variables',
          'labels',
          'annotations',
          'project_id',
        ])
        return sessionToProto(store.update('sessions', requireId(req.id), patch))
      }),
      updateSessionStatus: this.unary((req) => sessionToProto(store.updateSessionStatus(requireId(req.id), statusPatchFromProto(req)))),
      deleteSession: this.unary((req) => {
        store.delete('sessions', requireId(req.id))
        return {}
      }),
      listSessions: this.unary((req) => {
        const {items, metadata} = this.list('sessions', req.page, req.size)
        return {items: items.map(sessionToProto), metadata}
      }),
      watchSessions: this.watch<SessionWatchEvent>('sessions', (e) => {
        if (e.type === 'DELETED') return {type: eventTypeToProto(e.type), session: undefined, resource_id: e.id}
        const obj = store.get('sessions', e.id)
        return obj && {type: eventTypeToProto(e.type), session: sessionToProto(obj), resource_id: e.id}
      }),
    }
  }

  private projectService(): ProjectServiceServer {
    const store = this.options.store
    return {
      getProject: this.unary((req) => projectToProto(this.get('projects', req.id))),
      createProject: this.unary((req) => {
        const input: CreateInputs['projects'] = {...pick(req, ['display_name', 'description', 'labels', 'annotations']), name: req.name}
        return projectToProto(store.create('projects', input))
      }),
      updateProject: this.unary((req) => {
        const patch: PatchInputs['projects'] = pick(req, ['name', 'display_name', 'description', 'labels', 'annotations', 'status'])
        return projectToProto(store.update('projects', requireId(req.id), patch))
      }),
      deleteProject: this.unary((req) => {
        store.delete('projects', requireId(req.id))
        return {}
      }),
      listProjects: this.unary((req) => {
        const {items, metadata} = this.list('projects', req.page, req.size)
        return {items: items.map(projectToProto), metadata}
      }),
      watchProjects: this.watch<ProjectWatchEvent>('projects', (e) => {
        if (e.type === 'DELETED') return {type: eventTypeToProto(e.type), project: undefined, resource_id: e.id}
        const obj = store.get('projects', e.id)
        return obj && {type: eventTypeToProto(e.type), project: projectToProto(obj), resource_id: e.id}
      }),
    }
  }

  private projectSettingsService(): ProjectSettingsServiceServer {
    const store = this.options.store
    return {
      getProjectSettings: this.unary((req) => projectSettingsToProto(this.get('project_settings', req.id))),
      createProjectSettings: this.unary((req) => {
        const input: CreateInputs['project_settings'] = {...pick(req, ['group_access', 'repositories']), project_id: req.project_id}
        return projectSettingsToProto(store.create('project_settings', input))
      }),
      updateProjectSettings: this.unary((req) => {
        const patch: PatchInputs['project_settings'] = pick(req, ['project_id', 'group_access', 'repositories'])
        return projectSettingsToProto(store.update('project_settings', requireId(req.id), patch))
      }),
      deleteProjectSettings: this.unary((req) => {
        store.delete('project_settings', requireId(req.id))
        return {}
      }),
      listProjectSettings: this.unary((req) => {
        const {items, metadata} = this.list('project_settings', req.page, req.size)
        return {items: items.map(projectSettingsToProto), metadata}
      }),
      watchProjectSettings: this.watch<ProjectSettingsWatchEvent>('project_settings', (e) => {
        if (e.type === 'DELETED') return {type: eventTypeToProto(e.type), project_settings: undefined, resource_id: e.id}
        const obj = store.get('project_settings', e.id)
        return obj && {type: eventTypeToProto(e.type), project_settings: projectSettingsToProto(obj), resource_id: e.id}
      }),
    }
  }

  private userService(): UserServiceServer {
    const store = this.options.store
    return {
      getUser: this.unary((req) => userToProto(this.get('users', req.id))),
      createUser: this.unary((req) => {
        const input: CreateInputs['users'] = {...pick(req, ['email']), username: req.username, name: req.name}
        return userToProto(store.create('users', input))
      }),
      updateUser: this.unary((req) => {
        const patch: PatchInputs['users'] = pick(req, ['username', 'name', 'email'])
        return userToProto(store.update('users', requireId(req.id), patch))
      }),
      deleteUser: this.unary((req) => {
        store.delete('users', requireId(req.id))
        return {}
      }),
      listUsers: this.unary((req) => {
        const {items, metadata} = this.list('users', req.page, req.size)
        return {items: items.map(userToProto), metadata}
      }),
      watchUsers: this.watch<UserWatchEvent>('users', (e) => {
        if (e.type === 'DELETED') return {type: eventTypeToProto(e.type), user: undefined, resource_id: e.id}
        const obj = store.get('users', e.id)
        return obj && {type: eventTypeToProto(e.type), user: userToProto(obj), resource_id: e.id}
      }),
    }
  }
}
