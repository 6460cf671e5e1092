// Bearer-token check shared by REST and gRPC. The server has one token, so a caller is either
// authenticated or not; `forbidden` stays in the result type so a future per-caller policy
// (contract 1: 403 "not allowed") has a place to go without touching the transports.
// The reasons are the real server's static-token middleware's words (ambient-api-server
// pkg/middleware/bearer_token.go), which its REST face sends as a plain-text 401 body.
import {timingSafeEqual} from 'node:crypto'

export type AuthResult = {ok: true} | {ok: false; status: 401 | 403; reason: string}

export const AUTH_REASONS = {
  missing: 'missing authorization header',
  malformed: 'invalid authorization header format',
  empty: 'empty bearer token',
  invalid: 'invalid bearer token',
} as const

export function checkBearer(header: string | undefined, token: string): AuthResult {
  if (!header) return {ok: false, status: 401, reason: AUTH_REASONS.missing}
  // "<scheme> <token>", split at the first space like the real middleware.
  const space = header.indexOf(' ')
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') return {ok: false, status: 401, reason: AUTH_REASONS.malformed}
  const given = Buffer.from(header.slice(space + 1).trim())
  if (given.length === 0) return {ok: false, status: 401, reason: AUTH_REASONS.empty}
  const want = Buffer.from(token)
  // Constant-time compare, so response timing does not reveal how much of a guess was right.
  if (given.length !== want.length || !timingSafeEqual(given, want)) return {ok: false, status: 401, reason: AUTH_REASONS.invalid}
  return {ok: true}
}
