// The proxy's URL space (contract 4): which session, and which path on its runner.
import {isSafeSessionId} from '../process/session-id.js'

export type SessionRouteName = 'events' | 'run' | 'interrupt' | 'health' | 'mcp-status' | 'repos-status'

export type Route =
  | {kind: 'proxy-health'}
  | {kind: 'session'; name: SessionRouteName; sessionId: string; upstreamPath: string; methods: readonly string[]}
  | {kind: 'bad-session-id'; sessionId: string}
  | {kind: 'not-found'}

const SESSION_ROUTES: Record<string, {name: SessionRouteName; upstreamPath: string; methods: readonly string[]}> = {
  'agui/events': {name: 'events', upstreamPath: '/', methods: ['GET']},
  'agui/run': {name: 'run', upstreamPath: '/', methods: ['GET', 'POST']},
  'agui/interrupt': {name: 'interrupt', upstreamPath: '/interrupt', methods: ['GET', 'POST']},
  health: {name: 'health', upstreamPath: '/health', methods: ['GET']},
  'mcp/status': {name: 'mcp-status', upstreamPath: '/mcp/status', methods: ['GET']},
  'repos/status': {name: 'repos-status', upstreamPath: '/repos/status', methods: ['GET']},
}

/** Matches a request path (no query). Segments are not percent-decoded: ids never need it. */
export function matchRoute(pathname: string): Route {
  if (pathname === '/health') return {kind: 'proxy-health'}
  const match = /^\/sessions\/([^/]*)\/(.+)$/.exec(pathname)
  if (!match) return {kind: 'not-found'}
  const [, sessionId = '', rest = ''] = match
  const route = SESSION_ROUTES[rest]
  if (!route) return {kind: 'not-found'}
  if (!isSafeSessionId(sessionId)) return {kind: 'bad-session-id', sessionId}
  return {kind: 'session', sessionId, ...route}
}
