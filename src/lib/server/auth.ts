// Bearer-token check shared by REST and gRPC. The server has one token, so a caller is either
// authenticated or not; `forbidden` stays in the result type so a future per-caller policy
// (contract 1: 403 "not allowed") has a place to go without touching the transports.
import {timingSafeEqual} from 'node:crypto'

export type AuthResult = {ok: true} | {ok: false; status: 401 | 403; reason: string}

export function checkBearer(header: string | undefined, token: string): AuthResult {
  if (!header) return {ok: false, status: 401, reason: 'Request is missing the Authorization: Bearer <token> header'}
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (!m) return {ok: false, status: 401, reason: 'Authorization header is not a bearer token'}
  const given = Buffer.from(m[1])
  const want = Buffer.from(token)
  // Constant-time compare, so response timing does not reveal how much of a guess was right.
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    return {ok: false, status: 401, reason: 'Account authentication could not be verified'}
  }
  return {ok: true}
}
