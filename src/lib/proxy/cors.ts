// CORS for exactly one origin (CORS_ALLOWED_ORIGIN). The origin is echoed only when it
// matches, never '*': the proxy fronts agents that act for the user.
import type {IncomingMessage, ServerResponse} from 'node:http'

export const DEFAULT_CORS_ORIGIN = 'http://localhost:3000'
export const ALLOWED_METHODS = 'GET, POST, OPTIONS'
const ALLOWED_HEADERS = 'Content-Type, Accept, Authorization, Cache-Control, Last-Event-ID, X-Requested-With'

export function applyCors(req: IncomingMessage, res: ServerResponse, allowedOrigin: string): void {
  // Responses differ by Origin: caches must key on it.
  res.setHeader('vary', 'Origin')
  if (req.headers.origin !== allowedOrigin) return
  res.setHeader('access-control-allow-origin', allowedOrigin)
  res.setHeader('access-control-allow-methods', ALLOWED_METHODS)
  res.setHeader('access-control-allow-headers', ALLOWED_HEADERS)
  res.setHeader('access-control-max-age', '600')
}
