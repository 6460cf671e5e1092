// One proxied exchange with a runner. Streaming both ways: the request body is piped, the
// response is relayed chunk by chunk with back-pressure (pause upstream while the client's
// socket is full), nothing is buffered whole, and no timer cuts a long event stream. The
// upstream is aborted when the client's RESPONSE closes: `req` 'close' fires as soon as a GET
// body has been read, which would be the wrong moment (node-http-proxy #1520 left upstreams open).
import http, {type IncomingMessage, type ServerResponse} from 'node:http'
import type {Logger} from '../log.js'
import {errorMessage} from '../errors.js'
import {SESSION_TOKEN_HEADER} from '../process/token.js'
import {endToEndHeaders, isEventStream, upstreamRequestHeaders} from './headers.js'

export interface UpstreamTarget {
  port: number
  token: string
}

export interface ForwardOptions {
  req: IncomingMessage
  res: ServerResponse
  target: UpstreamTarget
  method: string
  /** Path on the runner, with the client's query string. */
  path: string
  agent: http.Agent
  logger: Logger
  /** Client asked for an event stream: no compression upstream either. */
  eventStream: boolean
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}

const RETRYABLE = new Set(['ECONNRESET', 'EPIPE'])

export function forward(options: ForwardOptions, attempt = 0): void {
  const {req, res, target, logger} = options
  const headers = upstreamRequestHeaders(req.headers, target.token, target.port)
  if (options.eventStream) delete headers['accept-encoding']
  // No body unless the client announced one; such requests can be replayed safely.
  const hasBody = options.method !== 'GET' && (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0')
  let responded = false
  let finished = false

  const upReq = http.request({host: '127.0.0.1', port: target.port, method: options.method, path: options.path, headers, agent: options.agent})
  // A stream may be silent for minutes; no timer of ours may end it.
  upReq.setTimeout(0)
  upReq.setNoDelay(true)

  const abortUpstream = () => {
    if (!finished) upReq.destroy()
  }
  res.once('close', abortUpstream)

  upReq.on('error', (err: NodeJS.ErrnoException) => {
    if (finished || res.destroyed) return
    // A pooled keep-alive socket the runner had just closed: safe to retry a request without body once.
    if (!responded && upReq.reusedSocket && !hasBody && attempt === 0 && err.code && RETRYABLE.has(err.code)) {
      res.off('close', abortUpstream)
      forward(options, attempt + 1)
      return
    }
    finished = true
    logger.debug({err, port: target.port}, 'runner request failed')
    if (!responded) sendJson(res, 502, {error: `runner unreachable: ${errorMessage(err)}`})
    else res.destroy(err)
  })

  upReq.on('response', (upRes) => {
    responded = true
    const out = endToEndHeaders(upRes.headers, [SESSION_TOKEN_HEADER])
    const upstreamVary = upRes.headers.vary
    if (upstreamVary) out.vary = `${upstreamVary}, Origin`
    if (isEventStream(upRes.headers['content-type'])) {
      out['cache-control'] = 'no-cache, no-transform'
      out['x-accel-buffering'] = 'no'
      delete out['content-length']
    }
    res.writeHead(upRes.statusCode ?? 502, out)
    // Clients must see the stream open now, not with the first event.
    res.flushHeaders()

    const resume = () => upRes.resume()
    res.on('drain', resume)
    upRes.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) upRes.pause()
    })
    upRes.on('end', () => {
      finished = true
      res.off('drain', resume)
      res.end()
    })
    // Upstream died mid-body: the client must see its response end abnormally, not hang.
    upRes.on('error', (err) => logger.debug({err, port: target.port}, 'runner response aborted'))
    upRes.on('close', () => {
      if (!upRes.complete) {
        finished = true
        res.off('drain', resume)
        res.destroy()
      }
    })
  })

  if (hasBody) req.pipe(upReq)
  else upReq.end()
}
