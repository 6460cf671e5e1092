// RFC 3339 <-> google.protobuf.Timestamp without going through Date, which would drop the
// microseconds the contract promises (updated_at is compared to detect changes).
// Every watch event compares and converts timestamps, so the canonical form this module
// produces (`YYYY-MM-DDTHH:MM:SS.ffffffZ`) has fast paths: read with charCode arithmetic,
// compared as plain strings, and formatted without a Date per call. Anything else takes the
// general (regex) path, with the same results.
import type {Timestamp} from '../../gen/google/protobuf/timestamp.js'

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/

export class TimestampError extends Error {
  readonly code = 'ERR_TIMESTAMP'
}

/** Parses an RFC 3339 string (any offset, 0-9 fraction digits) into seconds + nanos, UTC. */
export function parseRfc3339(value: string): Timestamp {
  const seconds = canonicalSeconds(value)
  if (seconds !== undefined) return {seconds, nanos: canonicalMicros(value) * 1000}
  return parseGeneral(value)
}

function parseGeneral(value: string): Timestamp {
  const m = RFC3339.exec(value)
  if (!m) throw new TimestampError(`not an RFC 3339 timestamp: ${JSON.stringify(value)}`)
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m
  let seconds = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000
  if (Number.isNaN(seconds)) throw new TimestampError(`not an RFC 3339 timestamp: ${JSON.stringify(value)}`)
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const [zh = 0, zm = 0] = zone.slice(1).split(':').map(Number)
    seconds -= sign * (zh * 3600 + zm * 60)
  }
  return {seconds, nanos: frac ? Number(frac.padEnd(9, '0')) : 0}
}

// The last two distinct seconds formatted (created_at and updated_at of one object usually
// share them with the previous object's), so most calls skip the date arithmetic.
let cachedSecondsA = Number.NaN
let cachedPrefixA = ''
let cachedSecondsB = Number.NaN
let cachedPrefixB = ''

/** Formats as UTC with exactly six fraction digits, the server's own format. */
export function formatRfc3339(ts: Timestamp): string {
  const {seconds} = ts
  let prefix: string
  if (seconds === cachedSecondsA) prefix = cachedPrefixA
  else if (seconds === cachedSecondsB) prefix = cachedPrefixB
  else {
    prefix = formatPrefix(seconds)
    cachedSecondsB = cachedSecondsA
    cachedPrefixB = cachedPrefixA
    cachedSecondsA = seconds
    cachedPrefixA = prefix
  }
  const micros = Math.floor(ts.nanos / 1000)
  return `${prefix}.${micros >= 100_000 ? micros : String(micros).padStart(6, '0')}Z`
}

/** `YYYY-MM-DDTHH:MM:SS` of a whole number of seconds since the epoch (UTC). */
function formatPrefix(seconds: number): string {
  const days = Math.floor(seconds / 86_400)
  // Years 0-9999 only (what toISOString writes without a sign); Date handles the rest, and throws alike.
  if (!Number.isInteger(seconds) || days < MIN_DAYS || days > MAX_DAYS) return new Date(seconds * 1000).toISOString().slice(0, 19)
  const secs = seconds - days * 86_400
  const [y, m, d] = civilFromDays(days)
  const hh = Math.floor(secs / 3600)
  const mm = Math.floor((secs % 3600) / 60)
  const ss = secs % 60
  return `${pad4(y)}-${pad2(m)}-${pad2(d)}T${pad2(hh)}:${pad2(mm)}:${pad2(ss)}`
}

/** Canonical form of any RFC 3339 string, so equal instants compare equal as strings. */
export function normalizeRfc3339(value: string): string {
  // A valid canonical string is its own canonical form.
  if (canonicalSeconds(value) !== undefined) return value
  return formatRfc3339(parseGeneral(value))
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
  // Two valid canonical strings (fixed width, UTC) order like their instants.
  if (isCanonical(a) && isCanonical(b)) return a < b ? -1 : 1
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

// ---- the canonical form, read with charCode arithmetic ---------------------------------

const CANONICAL_LENGTH = 27
const C0 = 48 // '0'

/** Days from 1970-01-01 of 0000-01-01 and 9999-12-31. */
const MIN_DAYS = -719_528
const MAX_DAYS = 2_932_896

/**
 * A canonical string whose every field is in range. Anything else goes to the general parser
 * (Date.UTC rolls 24:00 or Feb 30 over and maps years 0-99 to 1900-1999: such strings must
 * not be compared as text).
 */
function isCanonical(value: string): boolean {
  if (
    value.length !== CANONICAL_LENGTH ||
    value.charCodeAt(4) !== 45 || // -
    value.charCodeAt(7) !== 45 ||
    value.charCodeAt(10) !== 84 || // T
    value.charCodeAt(13) !== 58 || // :
    value.charCodeAt(16) !== 58 ||
    value.charCodeAt(19) !== 46 || // .
    value.charCodeAt(26) !== 90 // Z
  ) {
    return false
  }
  const year = num2(value, 0) * 100 + num2(value, 2)
  const month = num2(value, 5)
  const day = num2(value, 8)
  // NaN (a non-digit) fails every comparison below.
  if (!(year >= 100 && month >= 1 && month <= 12 && day >= 1 && num2(value, 11) <= 23 && num2(value, 14) <= 59 && num2(value, 17) <= 59)) return false
  if (day > 28 && day > daysInMonth(year, month)) return false
  for (let i = 20; i < 26; i++) if (Number.isNaN(digit(value, i))) return false
  return true
}

function digit(value: string, i: number): number {
  const d = value.charCodeAt(i) - C0
  return d >= 0 && d <= 9 ? d : Number.NaN
}

function num2(value: string, i: number): number {
  return digit(value, i) * 10 + digit(value, i + 1)
}

/** Seconds since the epoch of a string isCanonical accepts, else undefined. */
function canonicalSeconds(value: string): number | undefined {
  if (!isCanonical(value)) return undefined
  return (
    daysFromCivil(num2(value, 0) * 100 + num2(value, 2), num2(value, 5), num2(value, 8)) * 86_400 +
    num2(value, 11) * 3600 +
    num2(value, 14) * 60 +
    num2(value, 17)
  )
}

/** The six fraction digits of a string canonicalSeconds accepted. */
function canonicalMicros(value: string): number {
  return num2(value, 20) * 10_000 + num2(value, 22) * 100 + num2(value, 24)
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

// Howard Hinnant's civil calendar algorithms (proleptic Gregorian, days since 1970-01-01).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day]
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

function pad4(n: number): string {
  return n >= 1000 ? String(n) : String(n).padStart(4, '0')
}
