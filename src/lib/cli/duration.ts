// Durations on the command line as Kubernetes components take them (`15s`, `500ms`, `1m`),
// or a bare number of seconds; anything else is a usage error naming the flag.
import {FlagError} from './client.js'

const UNIT_MS = {ms: 1, s: 1000, m: 60_000} as const
/** Digits, an optional fraction, an optional unit: no nested quantifiers, so no backtracking. */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/

/** Milliseconds of `value` (undefined stays undefined); must be more than zero. */
export function parseDurationFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const match = DURATION.exec(value.trim())
  const ms = match ? Number(match[1]) * UNIT_MS[(match[2] ?? 's') as keyof typeof UNIT_MS] : Number.NaN
  if (!(ms > 0) || !Number.isFinite(ms)) throw new FlagError(flag, `expected a duration such as 15s, 500ms or 1m, got ${JSON.stringify(value)}`)
  return Math.round(ms)
}
