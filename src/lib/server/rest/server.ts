// The REST face of the embedded API server (contract section 1) on node:http: routing,
// bearer auth, per-request operation ids, JSON bodies and the contract's error body on every
// failure path but one, so a misbehaving client never takes the server down. That one is a
// failed token check: the real server's static-token middleware answers it with a plain-text
// 401 (Go's http.Error), not an Error body, and so does this server.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {Logger} from '../../log.js'
import type {SessionStatusPatch} from '../../api/types.js'
import {checkBearer} from '../auth.js'
import {ApiServerError, forbidden, internal, methodNotAllowed, notFound} from '../errors.js'
import {KsuidGenerator} from '../ids.js'
import {SCHEMAS, STATUS_PATCH_FIELDS, STORE_RESOURCES, type ResourceSchema, type StoreResource} from '../schema.js'
import {Slicer} from '../slicer.js'
import type {CreateInputs, PatchInputs, Store} from '../store.js'
import {decodeCreateBody, decodePatchBody, parseJsonObject, readBody} from './body.js'
import {parseListParams, project} from './list-params.js'
import {Router, segmentsBelow} from './router.js'

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

export interface RestOptions {
  store: Store
  token: string
  /** Who the token belongs to: sessions created over REST get it as created_by_user_id. */
  username: string
  basePath: string
  logger: Logger
  maxBodyBytes?: number
}

interface Reply {
  status: number
  body?: unknown
  /** A JSON body serialised ahead, in pieces (large lists), sent instead of `body`. */
  jsonParts?: readonly string[]
}

interface RequestContext {
  req: IncomingMessage
  url: URL
  /** The route's path parameters; every route here has at most `:id` (empty when absent). */
  params: {readonly id: string}
  json(): Promise<Record<string, unknown>>
  /** Aborted when the client goes away before its answer is sent: costly work stops then. */
  signal: AbortSignal
}

type Handler = (ctx: RequestContext) => Reply | Promise<Reply>

const OPERATION_ID = /^[A-Za-z0-9._:-]{1,128}$/

export function createRestServer(options: RestOptions): Server {
  const {store, token, basePath, logger} = options
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const router = buildRouter(store, options.username)
  const operationIds = new KsuidGenerator()

  const server = createServer({keepAlive: true}, (req, res) => {
    const started = performance.now()
    const given = req.headers['x-operation-id']
    const operationId = typeof given === 'string' && OPERATION_ID.test(given) ? given : operationIds.next()
    res.setHeader('X-Operation-ID', operationId)
    const abandoned = new AbortController()
    res.once('close', () => abandoned.abort())
    handle(req, res, abandoned.signal)
      .catch((err: unknown) => {
        // The client is gone: nobody to answer, and nothing went wrong.
        if (abandoned.signal.aborted && err === abandoned.signal.reason) return
        const apiErr = err instanceof ApiServerError ? err : internal('Unspecified error')
        if (!(err instanceof ApiServerError)) logger.error({err, operationId}, 'REST handler failed')
        if (apiErr.httpStatus === 413) res.setHeader('Connection', 'close')
        send(res, {status: apiErr.httpStatus, body: apiErr.toBody(basePath, operationId)})
      })
      .finally(() => {
        logger.debug({method: req.method, url: req.url, status: res.statusCode, ms: Math.round(performance.now() - started), operationId}, 'request')
      })
  })
  // Longer than typical client pools' idle timeouts, so the client closes first, not us mid-request.
  server.keepAliveTimeout = 65_000
  return server

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const auth = checkBearer(req.headers.authorization, token)
    if (!auth.ok) {
      if (auth.status === 403) throw forbidden(auth.reason)
      sendPlainText(res, 401, auth.reason)
      return
    }

    const url = new URL(req.url ?? '/', 'http://localhost')
    const segments = segmentsBelow(url.pathname, basePath)
    if (!segments) throw notFound(`${url.pathname} is not a known path`)
    const match = router.match(req.method ?? 'GET', segments)
    if (match.kind === 'not-found') throw notFound(`${url.pathname} is not a known path`)
    if (match.kind === 'method-not-allowed') {
      res.setHeader('Allow', match.allow.join(', '))
      throw methodNotAllowed(`HTTP method ${req.method} is not implemented for ${url.pathname}`)
    }
    const reply = await match.handler({
      req,
      url,
      params: {id: match.params.id ?? ''},
      json: async () => parseJsonObject(await readBody(req, maxBody)),
      signal,
    })
    send(res, reply)
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.end()
    return
  }
  if (reply.jsonParts) {
    let length = 0
    for (const part of reply.jsonParts) length += Buffer.byteLength(part)
    res.writeHead(reply.status, {'Content-Type': 'application/json', 'Content-Length': length})
    for (const part of reply.jsonParts) res.write(part)
    res.end()
    return
  }
  if (reply.body === undefined) {
    res.writeHead(reply.status)
    res.end()
    return
  }
  const text = JSON.stringify(reply.body)
  res.writeHead(reply.status, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)})
  res.end(text)
}

/** What Go's http.Error writes: the message and a newline as text/plain, never sniffed. */
function sendPlainText(res: ServerResponse, status: number, message: string): void {
  const text = `${message}\n`
  res.writeHead(status, {'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(text)})
  res.end(text)
}

function buildRouter(store: Store, username: string): Router<Handler> {
  const router = new Router<Handler>()
  for (const resource of STORE_RESOURCES) {
    const schema = SCHEMAS[resource]
    router.add(`/${resource}`, {GET: listHandler(store, schema), POST: createHandler(store, schema, username)})
    router.add(`/${resource}/:id`, {
      GET: ({params}) => {
        const obj = store.get(resource, params.id)
        if (!obj) throw notFound(`${schema.kind} with id='${params.id}' not found`)
        return {status: 200, body: obj}
      },
      PATCH: patchHandler(store, schema),
      DELETE: ({params}) => {
        store.delete(resource, params.id)
        return {status: 204}
      },
    })
  }
  router.add('/sessions/:id/status', {
    PATCH: async ({params, json}) => {
      const fields = decodePatchBody(await json(), SCHEMAS.sessions, STATUS_PATCH_FIELDS)
      return {status: 200, body: store.updateSessionStatus(params.id, fields as SessionStatusPatch)}
    },
  })
  router.add('/sessions/:id/start', {POST: ({params}) => ({status: 200, body: store.startSession(params.id)})})
  router.add('/sessions/:id/stop', {POST: ({params}) => ({status: 200, body: store.stopSession(params.id)})})
  return router
}

/** Pieces of a serialised list are joined up to about this many characters before they are written. */
const LIST_PART_CHARS = 64 * 1024

function listHandler(store: Store, schema: ResourceSchema): Handler {
  return async ({url, req, signal}) => {
    const header = req.headers['x-ambient-project']
    const {query, fields} = parseListParams(url.searchParams, schema, typeof header === 'string' ? header : undefined)
    // Filtering, sorting and serialising grow with the table and the page (up to 65,500 items):
    // all three run in time slices, so a large list never keeps other requests waiting.
    const page = await store.listSliced(schema.resource, query, {signal})
    const slicer = new Slicer({signal})
    const head = {kind: schema.listKind, page: query.page, size: page.items.length, total: page.total}
    const parts: string[] = []
    let part = `${JSON.stringify(head).slice(0, -1)},"items":[`
    for (let i = 0; i < page.items.length; i++) {
      const row = page.items[i]
      const item = fields && row ? project(row, fields) : row
      part += `${i ? ',' : ''}${JSON.stringify(item)}`
      if (part.length >= LIST_PART_CHARS) {
        parts.push(part)
        part = ''
      }
      if ((i & 63) === 63 && slicer.due()) await slicer.pause()
    }
    parts.push(`${part}]}`)
    return {status: 200, jsonParts: parts}
  }
}

function createHandler<R extends StoreResource>(store: Store, schema: ResourceSchema & {resource: R}, username: string): Handler {
  return async ({json, req}) => {
    const fields = decodeCreateBody(await json(), schema)
    if (schema.resource === 'sessions') {
      const header = req.headers['x-ambient-project']
      if (fields.project_id === undefined && typeof header === 'string' && header !== '') fields.project_id = header
      // The caller's identity, whatever the body said (decodeCreateBody dropped it).
      fields.created_by_user_id = username
    }
    return {status: 201, body: store.create(schema.resource, fields as unknown as CreateInputs[R])}
  }
}

function patchHandler<R extends StoreResource>(store: Store, schema: ResourceSchema & {resource: R}): Handler {
  return async ({json, params}) => {
    const fields = decodePatchBody(await json(), schema, schema.patchFields)
    return {status: 200, body: store.update(schema.resource, params.id, fields as unknown as PatchInputs[R])}
  }
}
