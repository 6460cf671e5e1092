// Header hygiene for a reverse proxy: hop-by-hop headers belong to one connection and must
// not cross the proxy (RFC 9110 7.6.1), and the runner token is ours to set, never the client's.
import type {IncomingHttpHeaders, OutgoingHttpHeaders} from 'node:http'
import {SESSION_TOKEN_HEADER} from '../process/token.js'

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
])

function listedInConnection(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection
  const names = new Set<string>()
  if (typeof value === 'string') for (const name of value.split(',')) names.add(name.trim().toLowerCase())
  return names
}

/** Copies `headers` without hop-by-hop ones, those the Connection header names, and `drop`. */
export function endToEndHeaders(headers: IncomingHttpHeaders, drop: readonly string[] = []): OutgoingHttpHeaders {
  const extra = listedInConnection(headers)
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || extra.has(name) || drop.includes(name)) continue
    out[name] = value
  }
  return out
}

/** Client request headers as the runner gets them: no host (set per upstream), no client token. */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, token: string, port: number): OutgoingHttpHeaders {
  const out = endToEndHeaders(headers, ['host', SESSION_TOKEN_HEADER])
  out.host = `127.0.0.1:${port}`
  out[SESSION_TOKEN_HEADER] = token
  return out
}

export function isEventStream(contentType: string | undefined): boolean {
  return typeof contentType === 'string' && contentType.toLowerCase().startsWith('text/event-stream')
}
