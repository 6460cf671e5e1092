// The per-runner secret: only the proxy (which adds it as a header) and the runner know it,
// so another local user or a web page cannot talk to a runner port directly.
import {randomBytes, timingSafeEqual} from 'node:crypto'

/** Header the proxy adds to every forwarded request and the runner checks. */
export const SESSION_TOKEN_HEADER = 'x-ambient-session-token'

export type RandomBytes = (size: number) => Buffer

export function generateToken(random: RandomBytes = randomBytes): string {
  return random(32).toString('base64url')
}

/** Constant-time comparison, so response timing does not leak the token. */
export function tokenMatches(expected: string, presented: string | string[] | undefined): boolean {
  if (typeof presented !== 'string') return false
  const a = Buffer.from(expected)
  const b = Buffer.from(presented)
  return a.length === b.length && timingSafeEqual(a, b)
}
