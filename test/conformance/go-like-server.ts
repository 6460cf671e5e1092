// A stand-in for the real Ambient API server as its clients meet it, small enough to trust on
// its own: the embedded server's store and REST face (lists, writes, the status sub-resource),
// and a gRPC face written here, separately, that does what the real grpc-go server does:
//   - a watch handler never calls SendHeader: the response headers leave with the first event,
//     so an idle stream shows the client nothing at all;
//   - it subscribes to the event broker inside the handler, at a moment the client cannot see
//     (`registrationDelayMs` after the call arrived): changes before that are on no stream;
//   - CREATED/UPDATED read the object when sent (an event can carry a newer state, two
//     changes can carry the same one); DELETED carries only resource_id;
//   - killStreams() ends every stream with UNAVAILABLE, as when the broker goes away.
// Its unary methods are not served (UNIMPLEMENTED): `ambient` lists and writes over REST.
import type {Server as HttpServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {Server, ServerCredentials, status, type ServerWritableStream} from '@grpc/grpc-js'
import {eventTypeToProto, projectSettingsToProto, projectToProto, sessionToProto} from '../../src/lib/api/convert.js'
import {ProjectServiceService, type ProjectWatchEvent} from '../../src/gen/ambient/v1/projects.js'
import {ProjectSettingsServiceService, type ProjectSettingsWatchEvent} from '../../src/gen/ambient/v1/project_settings.js'
import {SessionServiceService, type SessionWatchEvent} from '../../src/gen/ambient/v1/sessions.js'
import {silentLogger} from '../../src/lib/log.js'
import {createRestServer} from '../../src/lib/server/rest/server.js'
import {Store, type ChangeEvent, type StoreResource} from '../../src/lib/server/index.js'

export const GO_LIKE_TOKEN = 'go-like-server-token'
/** The token's user: sessions created over REST get it as created_by_user_id. */
export const GO_LIKE_USER = 'go-like-user'
const BASE_PATH = '/api/ambient/v1'

export interface GoLikeServerOptions {
  /** Between a watch call's arrival and its subscription (default 0). */
  registrationDelayMs?: number
  token?: string
}

interface OpenStream {
  registered: boolean
  kill(): void
}

export class GoLikeServer {
  readonly store = new Store({basePath: BASE_PATH})
  readonly basePath = BASE_PATH
  readonly token: string
  url = ''
  grpcAddress = ''
  /** Watch calls received so far, and of those how many have been subscribed. */
  watchCalls = 0
  registrationDelayMs: number
  /** While true, watch calls wait for releaseRegistrations() before they are subscribed. */
  holdRegistrations = false
  /** Runs when a watch call arrives, before it is subscribed: writes here are on no stream. */
  onWatchCall: ((resource: StoreResource) => void) | undefined
  private readonly http: HttpServer
  private readonly grpc = new Server()
  private readonly streams = new Set<OpenStream>()
  private held: (() => boolean)[] = []

  private constructor(options: GoLikeServerOptions) {
    this.token = options.token ?? GO_LIKE_TOKEN
    this.registrationDelayMs = options.registrationDelayMs ?? 0
    this.store.create('users', {username: GO_LIKE_USER, name: GO_LIKE_USER})
    this.http = createRestServer({store: this.store, token: this.token, username: GO_LIKE_USER, basePath: BASE_PATH, logger: silentLogger})
    const store = this.store
    this.grpc.addService(SessionServiceService, {
      watchSessions: this.watch<SessionWatchEvent>('sessions', (e) => {
        if (e.type === 'DELETED') return {type: eventTypeToProto('DELETED'), session: undefined, resource_id: e.id}
        const s = store.get('sessions', e.id)
        return s && {type: eventTypeToProto(e.type), session: sessionToProto(s), resource_id: e.id}
      }),
    })
    this.grpc.addService(ProjectServiceService, {
      watchProjects: this.watch<ProjectWatchEvent>('projects', (e) => {
        if (e.type === 'DELETED') return {type: eventTypeToProto('DELETED'), project: undefined, resource_id: e.id}
        const p = store.get('projects', e.id)
        return p && {type: eventTypeToProto(e.type), project: projectToProto(p), resource_id: e.id}
      }),
    })
    this.grpc.addService(ProjectSettingsServiceService, {
      watchProjectSettings: this.watch<ProjectSettingsWatchEvent>('project_settings', (e) => {
        if (e.type === 'DELETED') return {type: eventTypeToProto('DELETED'), project_settings: undefined, resource_id: e.id}
        const p = store.get('project_settings', e.id)
        return p && {type: eventTypeToProto(e.type), project_settings: projectSettingsToProto(p), resource_id: e.id}
      }),
    })
  }

  static async start(options: GoLikeServerOptions = {}): Promise<GoLikeServer> {
    const server = new GoLikeServer(options)
    await new Promise<void>((resolve, reject) => {
      server.http.once('error', reject)
      server.http.listen(0, '127.0.0.1', () => resolve())
    })
    server.url = `http://127.0.0.1:${(server.http.address() as AddressInfo).port}`
    const port = await new Promise<number>((resolve, reject) =>
      server.grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    )
    server.grpcAddress = `127.0.0.1:${port}`
    return server
  }

  /** Open streams subscribed to the broker. */
  registeredStreams(): number {
    return [...this.streams].filter((s) => s.registered).length
  }

  openStreams(): number {
    return this.streams.size
  }

  /** Subscribes the watch calls held so far; returns how many were still open. */
  releaseRegistrations(): number {
    const held = this.held
    this.held = []
    let open = 0
    for (const register of held) if (register()) open++
    return open
  }

  /** Ends every open stream with UNAVAILABLE; returns how many. */
  killStreams(): number {
    const open = [...this.streams]
    for (const s of open) s.kill()
    return open.length
  }

  async close(): Promise<void> {
    this.killStreams()
    this.grpc.forceShutdown()
    this.http.closeAllConnections()
    await new Promise<void>((resolve) => this.http.close(() => resolve()))
    this.store.close()
  }

  private watch<Msg>(resource: StoreResource, toMessage: (event: ChangeEvent) => Msg | undefined) {
    return (call: ServerWritableStream<unknown, Msg>): void => {
      this.watchCalls++
      if (call.metadata.get('authorization')[0] !== `Bearer ${this.token}`) {
        call.emit('error', {code: status.UNAUTHENTICATED, details: 'invalid bearer token'})
        return
      }
      const queue: ChangeEvent[] = []
      let unsubscribe = (): void => {}
      let done = false
      let sending = false
      let waitingForDrain = false
      const stream: OpenStream = {
        registered: false,
        kill: () => {
          if (done) return
          finish()
          call.emit('error', {code: status.UNAVAILABLE, details: 'event broker not available'})
        },
      }
      const finish = (): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        unsubscribe()
        queue.length = 0
        this.streams.delete(stream)
      }
      // Sent later, not in the store's callback: the object is read when sent.
      const send = (): void => {
        sending = false
        while (!done && !waitingForDrain && queue.length > 0) {
          const message = toMessage(queue.shift() as ChangeEvent)
          if (message === undefined) continue
          if (!call.write(message)) {
            waitingForDrain = true
            call.once('drain', () => {
              waitingForDrain = false
              send()
            })
          }
        }
      }
      const register = (): boolean => {
        if (done) return false
        stream.registered = true
        unsubscribe = this.store.on(resource, (event) => {
          queue.push(event)
          if (sending) return
          sending = true
          setImmediate(send)
        })
        return true
      }
      this.onWatchCall?.(resource)
      const timer = setTimeout(() => {
        if (this.holdRegistrations) this.held.push(register)
        else register()
      }, this.registrationDelayMs)
      this.streams.add(stream)
      call.on('cancelled', finish)
      call.on('close', finish)
      call.on('error', finish)
    }
  }
}
