// RFC 3339 <-> google.protobuf.Timestamp without going through Date, which would drop the
// microseconds the contract promises (updated_at is compared to detect changes).
import type {Timestamp} from '../../gen/google/protobuf/timestamp.js'

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/

export class TimestampError extends Error {
  readonly code = 'ERR_TIMESTAMP'
}

/** Parses an RFC 3339 string (any offset, 0-9 fraction digits) into seconds + nanos, UTC. */
export function parseRfc3339(value: string): Timestamp {
  const m = RFC3339.exec(value)
  if (!m) throw new TimestampError(`not an RFC 3339 timestamp: ${JSON.stringify(value)}`)
  const [, y, mo, d, h, mi, s, frac = '', zone] = m
  let seconds = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000
  if (Number.isNaN(seconds)) throw new TimestampError(`not an RFC 3339 timestamp: ${JSON.stringify(value)}`)
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const [zh, zm] = zone.slice(1).split(':').map(Number)
    seconds -= sign * (zh * 3600 + zm * 60)
  }
  return {seconds, nanos: frac ? Number(frac.padEnd(9, '0')) : 0}
}

/** Formats as UTC with exactly six fraction digits, the server's own format. */
export function formatRfc3339(ts: Timestamp): string {
  const iso = new Date(ts.seconds * 1000).toISOString() // 2026-01-01T00:00:00.000Z
  const micros = String(Math.floor(ts.nanos / 1000)).padStart(6, '0')
  return `${iso.slice(0, 19)}.${micros}Z`
}

/** Canonical form of any RFC 3339 string, so equal instants compare equal as strings. */
export function normalizeRfc3339(value: string): string {
  return formatRfc3339(parseRfc3339(value))
}

/** Microseconds since the epoch, for ordering and arithmetic. */
export function toMicros(value: string): bigint {
  const ts = parseRfc3339(value)
  return BigInt(ts.seconds) * 1_000_000n + BigInt(Math.floor(ts.nanos / 1000))
}

export function fromMicros(micros: bigint): string {
  const seconds = micros / 1_000_000n
  const rest = micros % 1_000_000n
  return formatRfc3339({seconds: Number(seconds), nanos: Number(rest) * 1000})
}

/** Negative, zero or positive like a comparator; undefined sorts first. */
export function compareRfc3339(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0
  if (a === undefined) return -1
  if (b === undefined) return 1
  const d = toMicros(a) - toMicros(b)
  return d < 0n ? -1 : d > 0n ? 1 : 0
}

/**
 * A clock with microsecond resolution that never repeats or goes backwards, for servers
 * that must give every write a distinct `updated_at`.
 */
export class MicrosecondClock {
  private last = 0n
  constructor(private readonly nowMicros: () => bigint = defaultNowMicros) {}

  next(): string {
    let now = this.nowMicros()
    if (now <= this.last) now = this.last + 1n
    this.last = now
    return fromMicros(now)
  }
}

function defaultNowMicros(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000))
}
