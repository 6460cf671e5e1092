// The AG-UI reverse proxy of local mode (contract 4): one stable address for the UI in front
// of the per-session runner ports, adding each runner's secret token on the way in.
//   /sessions/{id}/agui/events     -> runner GET /  (Server-Sent Events, unbuffered)
//   /sessions/{id}/agui/run        -> runner /
//   /sessions/{id}/agui/interrupt  -> runner /interrupt
//   /sessions/{id}/health, /mcp/status, /repos/status -> the same path on the runner
//   /health                        -> the proxy's own health
// Requests for another Host, and cross-site browser requests that act, are refused first
// (guard.ts).
// Where a session lives comes from `resolve`: the in-process RunnerManager, or the on-disk
// registry (`registryResolver`) for a standalone `ambient proxy`.
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import type {Logger} from '../log.js'
import {silentLogger} from '../log.js'
import {errorMessage} from '../errors.js'
import {ALLOWED_METHODS, DEFAULT_CORS_ORIGIN, applyCors} from './cors.js'
import {type UpstreamTarget, forward, sendJson} from './forward.js'
import {allowedHostSet, crossSiteProblem, hostProblem} from './guard.js'
import {matchRoute} from './routes.js'

export const DEFAULT_PROXY_HOST = '127.0.0.1'
export const DEFAULT_PROXY_PORT = 9080

export type SessionResolver = (sessionId: string) => UpstreamTarget | undefined | Promise<UpstreamTarget | undefined>

export interface AguiProxyOptions {
  /** Default 127.0.0.1. */
  host?: string
  /** Default 9080; 0 picks a free port. */
  port?: number
  /** `CORS_ALLOWED_ORIGIN`, default http://localhost:3000. */
  corsOrigin?: string
  /**
   * `LOCAL_PROXY_ALLOWED_HOSTS`: Host names answered besides localhost, 127.0.0.1 and [::1]
   * with the proxy's port; "name" (with the proxy's port) or "name:port".
   */
  allowedHosts?: readonly string[]
  resolve: SessionResolver
  logger?: Logger
  /** Closes the proxy when aborted. */
  signal?: AbortSignal
}

export interface AguiProxy {
  url: string
  port: number
  /** Stops accepting, cuts open streams, releases upstream connections. */
  close(): Promise<void>
}

/**
 * Path and query of the request target, as sent: no dot-segment normalisation, so
 * `/sessions/../x` is refused as a bad id rather than silently becoming `/x`.
 */
function splitTarget(target: string): {pathname: string; search: string} {
  // Absolute form (`GET http://host/path`) is legal HTTP/1.1; origin form is the norm.
  const raw = target.startsWith('/')
    ? target
    : (() => {
        try {
          const parsed = new URL(target)
          return `${parsed.pathname}${parsed.search}`
        } catch {
          return '/'
        }
      })()
  const query = raw.indexOf('?')
  return query < 0 ? {pathname: raw, search: ''} : {pathname: raw.slice(0, query), search: raw.slice(query)}
}

export async function startAguiProxy(options: AguiProxyOptions): Promise<AguiProxy> {
  const host = options.host ?? DEFAULT_PROXY_HOST
  const corsOrigin = options.corsOrigin ?? DEFAULT_CORS_ORIGIN
  const logger = options.logger ?? silentLogger
  // Keep-alive to runners: no connect per request. Idle pooled sockets are dropped after 4 s,
  // before typical server keep-alive timeouts (uvicorn: 5 s) can race a reuse.
  const agent = new http.Agent({keepAlive: true, timeout: 4000, scheduling: 'lifo'})

  // Known once listening (port 0 picks one); nothing is answered before.
  let allowedHosts: ReadonlySet<string> = new Set()
  const server = http.createServer({noDelay: true, keepAlive: true}, (req, res) => {
    req.on('error', (err) => logger.debug({err}, 'client request aborted'))
    const wrongHost = hostProblem(req.headers.host, allowedHosts)
    if (wrongHost) {
      logger.warn({host: req.headers.host?.slice(0, 200)}, 'AG-UI proxy: request for another host refused')
      sendJson(res, 421, {error: wrongHost})
      return
    }
    applyCors(req, res, corsOrigin)
    const method = req.method ?? 'GET'
    if (method === 'OPTIONS') {
      res.writeHead(204, {allow: ALLOWED_METHODS}).end()
      return
    }
    if (method !== 'GET' && method !== 'POST') {
      res.setHeader('allow', ALLOWED_METHODS)
      sendJson(res, 405, {error: `method ${method} not allowed`})
      return
    }
    const url = splitTarget(req.url ?? '/')
    const route = matchRoute(url.pathname)
    const acts = method === 'POST' || (route.kind === 'session' && (route.name === 'run' || route.name === 'interrupt'))
    const crossSite = acts ? crossSiteProblem(req.headers, {allowedOrigin: corsOrigin, host: req.headers.host ?? ''}) : undefined
    if (crossSite) {
      logger.warn({origin: req.headers.origin?.slice(0, 200), path: url.pathname}, 'AG-UI proxy: cross-site request refused')
      sendJson(res, 403, {error: crossSite})
      return
    }
    switch (route.kind) {
      case 'proxy-health':
        sendJson(res, 200, {status: 'healthy'})
        return
      case 'not-found':
        sendJson(res, 404, {error: `no route for ${url.pathname}`})
        return
      case 'bad-session-id':
        sendJson(res, 400, {error: 'invalid session id'})
        return
      case 'session':
        break
    }
    if (!route.methods.includes(method)) {
      res.setHeader('allow', [...route.methods, 'OPTIONS'].join(', '))
      sendJson(res, 405, {error: `method ${method} not allowed on ${url.pathname}`})
      return
    }
    Promise.resolve()
      .then(() => options.resolve(route.sessionId))
      .then(
        (target) => {
          if (res.destroyed) return
          if (!target) {
            sendJson(res, 404, {error: `no runner for session ${route.sessionId}`})
            return
          }
          forward({req, res, target, method, path: `${route.upstreamPath}${url.search}`, agent, logger, eventStream: route.name === 'events'})
        },
        (err: unknown) => {
          logger.error({err, sessionId: route.sessionId}, 'session lookup failed')
          sendJson(res, 500, {error: `session lookup failed: ${errorMessage(err)}`})
        },
      )
  })
  // Event streams are long-lived responses: the request itself is received quickly, and no
  // idle timer may end a stream (fastify-reply-from #298).
  server.timeout = 0

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? DEFAULT_PROXY_PORT, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const {port} = server.address() as AddressInfo
  allowedHosts = allowedHostSet({port, allowedHosts: options.allowedHosts})
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  logger.info({url, corsOrigin}, 'AG-UI proxy listening')

  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => {
        agent.destroy()
        resolve()
      })
      server.closeAllConnections()
      agent.destroy()
    }))
  options.signal?.addEventListener('abort', () => void close(), {once: true})
  if (options.signal?.aborted) await close()

  return {url, port, close}
}
