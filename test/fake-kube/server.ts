// HTTP front of the fake: URL routing in the API server's layout, bearer-token auth, the
// request log and fault injection, then dispatch to the registry semantics in api.ts.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {Api, ListQuery} from './api.js'
import * as discovery from './discovery.js'
import type {Faults, Holds, RequestLog, RequestRecord, Verb} from './faults.js'
import {isObject} from './json.js'
import type {Registry} from './registry.js'
import type {ResourceDef} from './resources.js'
import {ApiError, failure, internalError, unknownResource, type Status} from './status.js'
import type {WatchHub} from './watch.js'

const maxBody = 3 * 1024 * 1024

export interface ServerDeps {
  api: Api
  registry: Registry
  watches: WatchHub
  log: RequestLog
  faults: Faults
  holds: Holds
  token: string
}

interface ResourceRoute {
  def: ResourceDef
  namespace: string | undefined
  name: string | undefined
  subresource: string | undefined
  watchPath: boolean
}

function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(code, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers})
  res.end(text)
}

function _sendStatus(res: ServerResponse, status: Status, headers?: Record<string, string>): void {
  sendJson(res, status.code, status, headers)
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buf.length
    if (size > maxBody) throw new ApiError(failure(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'))
    chunks.push(buf)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ApiError(failure(400, 'BadRequest', `couldn't get version/kind; json parse error: ${err instanceof Error ? err.message : String(err)}`))
  }
}

export function createHttpServer(deps: ServerDeps): Server {
  const {api, registry} = deps

  function route(segments: string[]): {group: string; version: string; rest: string[]} | undefined {
    if (segments[0] === 'api' && segments.length >= 2) return {group: '', version: segments[1], rest: segments.slice(2)}
    if (segments[0] === 'apis' && segments.length >= 3) return {group: segments[1], version: segments[2], rest: segments.slice(3)}
    return undefined
  }

  function resourceRoute(group: string, version: string, rest: string[]): ResourceRoute | undefined {
    let segs = rest
    let watchPath = false
    if (segs[0] === 'watch') {
      watchPath = true
      segs = segs.slice(1)
    }
    let namespace: string | undefined
    if (segs[0] === 'namespaces' && segs.length >= 3 && registry.find(group, version, segs[2])?.namespaced) {
      namespace = segs[1]
      segs = segs.slice(2)
    }
    if (segs.length === 0 || segs.length > 3) return undefined
    const def = registry.find(group, version, segs[0])
    if (!def) return undefined
    if (def.namespaced && namespace === undefined && segs.length > 1) return undefined
    return {def, namespace, name: segs[1], subresource: segs[2], watchPath}
  }

  function verbOf(method: string, r: ResourceRoute, query: URLSearchParams): Verb | undefined {
    const watch = r.watchPath || query.get('watch') === 'true' || query.get('watch') === '1'
    switch (method) {
      case 'GET':
        return r.name === undefined ? (watch ? 'watch' : 'list') : watch ? 'watch' : 'get'
      case 'POST':
        return 'create'
      case 'PUT':
        return 'update'
      case 'PATCH':
        return 'patch'
      case 'DELETE':
        return r.name === undefined ? 'deletecollection' : 'delete'
      default:
        return undefined
    }
  }

  function nonResource(path: string, host: string): unknown | undefined {
    const segs = path.split('/').filter(Boolean)
    if (path === '/api' || path === '/api/') return discovery.coreVersions(host)
    if (path === '/apis' || path === '/apis/') return discovery.groupList(registry)
    if (path === '/version' || path === '/version/') return discovery.versionInfo
    if (segs[0] === 'api' && segs.length === 2) return discovery.resourceList(registry, '', segs[1]) ?? null
    if (segs[0] === 'apis' && segs.length === 2) return discovery.group(registry, segs[1]) ?? null
    if (segs[0] === 'apis' && segs.length === 3) return discovery.resourceList(registry, segs[1], segs[2]) ?? null
    return undefined
  }

  function methodNotAllowed(): ApiError {
    return new ApiError(failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'))
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const method = req.method ?? 'GET'
    const path = url.pathname.replace(/\/+$/, '') || '/'
    const query = url.searchParams
    const record: RequestRecord = {
      verb: 'nonresource',
      method,
      path,
      query: url.search,
      group: '',
      version: '',
      resource: '',
      namespace: undefined,
      name: undefined,
      subresource: undefined,
      contentType: req.headers['content-type'],
      userAgent: req.headers['user-agent'],
      at: Date.now(),
    }
    deps.log.add(record)
    const reply = (code: number, body: unknown, headers?: Record<string, string>): void => {
      record.code = code
      sendJson(res, code, body, headers)
    }
    try {
      if (['/healthz', '/livez', '/readyz'].includes(path)) {
        record.code = 200
        res.writeHead(200, {'Content-Type': 'text/plain'})
        res.end('ok')
        return
      }
      if (req.headers.authorization !== `Bearer ${deps.token}`) {
        reply(401, failure(401, 'Unauthorized', 'Unauthorized'))
        return
      }
      const segments = path.split('/').filter(Boolean).map(decodeURIComponent)
      const r = route(segments)
      const rr = r && r.rest.length > 0 ? resourceRoute(r.group, r.version, r.rest) : undefined
      if (!rr) {
        const doc = method === 'GET' ? nonResource(path, req.headers.host ?? '') : undefined
        if (doc === undefined || doc === null) throw unknownResource()
        reply(200, doc)
        return
      }
      const {def, namespace, name, subresource} = rr
      const verb = verbOf(method, rr, query)
      Object.assign(record, {group: def.group, version: def.version, resource: def.plural, namespace, name, subresource})
      if (verb !== undefined) record.verb = verb
      if (subresource !== undefined && (subresource !== 'status' || !def.statusSubresource)) throw unknownResource()
      if (verb === undefined) throw methodNotAllowed()
      if (subresource !== undefined && !['get', 'update', 'patch'].includes(verb)) throw methodNotAllowed()
      // A namespaced resource without a namespace in the path only lists and watches.
      if (def.namespaced && namespace === undefined && !['list', 'watch'].includes(verb)) throw methodNotAllowed()
      if (verb === 'create' && name !== undefined) throw methodNotAllowed()

      const held = deps.holds.wait(record)
      if (held) await held
      const injected = deps.faults.take(record)
      if (injected) {
        const headers: Record<string, string> = injected.retryAfterSeconds === undefined ? {} : {'Retry-After': String(injected.retryAfterSeconds)}
        reply(injected.error.status.code, injected.error.status, headers)
        return
      }

      const text = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ? await readBody(req) : ''
      const dryRun = query.getAll('dryRun').includes('All')
      const listQuery: ListQuery = {
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector: query.get('fieldSelector') ?? undefined,
        limit: query.get('limit') ?? undefined,
        continue: query.get('continue') ?? undefined,
      }
      switch (verb) {
        case 'get': {
          const result = api.get(def, namespace, name ?? '')
          reply(result.code, result.body)
          return
        }
        case 'list': {
          const result = api.list(def, namespace, listQuery)
          reply(result.code, result.body)
          return
        }
        case 'watch': {
          if (name !== undefined) {
            // The deprecated /watch/.../<name> form is a watch with a name field selector.
            const byName = `metadata.name=${name}`
            listQuery.fieldSelector = listQuery.fieldSelector ? `${listQuery.fieldSelector},${byName}` : byName
          }
          const timeout = query.get('timeoutSeconds')
          const params = {
            def,
            namespace,
            selectors: api.parseSelectors(def, listQuery),
            resourceVersion: query.get('resourceVersion') ?? undefined,
            allowBookmarks: query.get('allowWatchBookmarks') === 'true',
            sendInitialEvents: query.get('sendInitialEvents') === 'true',
            timeoutSeconds: timeout === null ? undefined : Number(timeout),
          }
          deps.watches.validate(params)
          record.code = 200
          deps.watches.serve(params, res)
          return
        }
        case 'create': {
          const result = api.create(def, namespace, parseJsonBody(text), dryRun)
          reply(result.code, result.body)
          return
        }
        case 'update': {
          const result = api.update(def, namespace, name ?? '', parseJsonBody(text), {subresource, dryRun})
          reply(result.code, result.body)
          return
        }
        case 'patch': {
          const result = api.patch(def, namespace, name ?? '', req.headers['content-type'] ?? '', text, {
            subresource,
            dryRun,
            fieldManager: query.get('fieldManager') ?? undefined,
          })
          reply(result.code, result.body)
          return
        }
        case 'delete': {
          const options = parseJsonBody(text)
          const result = api.delete(
            def,
            namespace,
            name ?? '',
            options,
            dryRun || (isObject(options) && Array.isArray(options.dryRun) && options.dryRun.includes('All')),
          )
          reply(result.code, result.body)
          return
        }
        case 'deletecollection': {
          const result = api.deleteCollection(def, namespace, listQuery, parseJsonBody(text), dryRun)
          reply(result.code, result.body)
          return
        }
      }
    } catch (err) {
      const status = err instanceof ApiError ? err.status : internalError(err instanceof Error ? err.message : String(err)).status
      if (res.headersSent) {
        res.destroy()
        return
      }
      reply(status.code, status)
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res)
  })
  server.keepAliveTimeout = 60_000
  return server
}
