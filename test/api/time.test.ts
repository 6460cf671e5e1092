import {describe, expect, it} from 'vitest'
import {compareRfc3339, formatRfc3339, fromMicros, normalizeRfc3339, parseRfc3339, TimestampError, toMicros} from '../../src/lib/api/time.js'

// The fast paths (canonical strings read with charCode arithmetic, prefixes formatted without
// Date) are checked against Date itself over a spread of instants, and the strings they must
// NOT take (out-of-range fields that Date.UTC rolls over) against Date.UTC's answers.

/** Deterministic spread of instants (seconds) from year 100 to 9999, plus the edges. */
function sampleSeconds(): number[] {
  const out = [
    0, -1, 1, 86_399, 86_400, 951_782_400 /* 2000-02-29 */, 4_107_542_399 /* 2100-02-28T23:59:59 */, -62_135_596_800 /* 0001-01-01 */,
    253_402_300_799 /* 9999-12-31T23:59:59 */,
  ]
  let x = 12_345
  for (let i = 0; i < 5000; i++) {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648
    out.push(Math.floor(-59_000_000_000 + (x / 2_147_483_648) * 312_000_000_000))
  }
  return out
}

describe('formatRfc3339', () => {
  it('writes what Date writes, with six fraction digits, for years 0-9999', () => {
    for (const seconds of sampleSeconds()) {
      const nanos = (Math.abs(seconds) % 1_000_000) * 1000 + 999
      const expected = `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`
      expect(formatRfc3339({seconds, nanos})).toBe(expected)
    }
  })

  it('keeps Date for instants outside years 0-9999, and its RangeError for impossible ones', () => {
    expect(formatRfc3339({seconds: 253_402_300_800, nanos: 0})).toBe(`${new Date(253_402_300_800_000).toISOString().slice(0, 19)}.000000Z`)
    expect(() => formatRfc3339({seconds: 9e15, nanos: 0})).toThrow(RangeError)
  })

  it('pads the fraction', () => {
    expect(formatRfc3339({seconds: 0, nanos: 1000})).toBe('1970-01-01T00:00:00.000001Z')
    expect(formatRfc3339({seconds: 0, nanos: 999_999_999})).toBe('1970-01-01T00:00:00.999999Z')
    expect(formatRfc3339({seconds: 0, nanos: 123_456_000})).toBe('1970-01-01T00:00:00.123456Z')
  })
})

describe('parseRfc3339', () => {
  it('reads canonical strings back to the seconds and nanos they were written from', () => {
    for (const seconds of sampleSeconds()) {
      const nanos = (Math.abs(seconds) % 1_000_000) * 1000
      const text = formatRfc3339({seconds, nanos})
      if (Number(text.slice(0, 4)) < 100) continue // years 0-99: Date.UTC's 1900 mapping, below
      expect(parseRfc3339(text)).toEqual({seconds, nanos})
    }
  })

  it('gives out-of-range canonical-looking strings the general parser answer (Date.UTC rolls them over)', () => {
    const utc = (...args: [number, number, number, number, number, number]) => Date.UTC(...args) / 1000
    expect(parseRfc3339('2026-02-30T00:00:00.000000Z')).toEqual({seconds: utc(2026, 1, 30, 0, 0, 0), nanos: 0})
    expect(parseRfc3339('2026-13-01T00:00:00.000000Z')).toEqual({seconds: utc(2026, 12, 1, 0, 0, 0), nanos: 0})
    expect(parseRfc3339('2026-01-01T24:00:00.000001Z')).toEqual({seconds: utc(2026, 0, 1, 24, 0, 0), nanos: 1000})
    expect(parseRfc3339('2026-01-01T23:59:60.000000Z')).toEqual({seconds: utc(2026, 0, 1, 23, 59, 60), nanos: 0})
    expect(parseRfc3339('0050-01-01T00:00:00.000000Z')).toEqual({seconds: utc(50, 0, 1, 0, 0, 0), nanos: 0})
  })

  it('reads offsets, short fractions and lower-case separators', () => {
    expect(parseRfc3339('2026-01-02T03:04:05.678901+01:00')).toEqual(parseRfc3339('2026-01-02T02:04:05.678901Z'))
    expect(parseRfc3339('2026-01-01t00:00:00.1z')).toEqual({seconds: Date.UTC(2026, 0, 1) / 1000, nanos: 100_000_000})
    expect(parseRfc3339('2026-01-01T00:00:00Z')).toEqual({seconds: Date.UTC(2026, 0, 1) / 1000, nanos: 0})
  })

  it('rejects what is not RFC 3339', () => {
    for (const bad of ['garbage', '', '2026-01-01T00:00:00.00000xZ', '2026-01-01 00:00:00.000000', '2026-01-0aT00:00:00.000000Z']) {
      expect(() => parseRfc3339(bad)).toThrow(TimestampError)
    }
  })
})

describe('normalizeRfc3339', () => {
  it('returns canonical strings as they are and canonicalizes the rest', () => {
    expect(normalizeRfc3339('2026-03-04T05:06:07.123456Z')).toBe('2026-03-04T05:06:07.123456Z')
    expect(normalizeRfc3339('2026-01-01T00:00:00.1Z')).toBe('2026-01-01T00:00:00.100000Z')
    expect(normalizeRfc3339('2026-01-01T01:00:00+01:00')).toBe('2026-01-01T00:00:00.000000Z')
    expect(normalizeRfc3339('2026-02-30T00:00:00.000000Z')).toBe('2026-03-02T00:00:00.000000Z')
  })
})

describe('compareRfc3339', () => {
  it('orders canonical strings like their microseconds', () => {
    const values = sampleSeconds()
      .filter((s) => s >= -59_011_459_200) // from year 100 on
      .flatMap((seconds) => [formatRfc3339({seconds, nanos: 0}), formatRfc3339({seconds, nanos: 1000})])
    for (let i = 1; i < values.length; i++) {
      const [a, b] = [values[i - 1], values[i]]
      const d = toMicros(a) - toMicros(b)
      expect(compareRfc3339(a, b)).toBe(d < 0n ? -1 : d > 0n ? 1 : 0)
      expect(compareRfc3339(b, a)).toBe(d < 0n ? 1 : d > 0n ? -1 : 0)
    }
  })

  it('compares by instant when either side is not canonical or not in range', () => {
    expect(compareRfc3339('2026-01-01T01:00:00+01:00', '2026-01-01T00:00:00.000000Z')).toBe(0)
    expect(compareRfc3339('2026-02-30T00:00:00.000000Z', '2026-03-01T00:00:00.000000Z')).toBe(1) // Feb 30 is Mar 2
    expect(compareRfc3339('0050-01-01T00:00:00.000000Z', '1000-01-01T00:00:00.000000Z')).toBe(1) // year 50 is 1950
    expect(compareRfc3339(undefined, '2026-01-01T00:00:00.000000Z')).toBe(-1)
    expect(compareRfc3339('2026-01-01T00:00:00.000000Z', undefined)).toBe(1)
    expect(() => compareRfc3339('garbage', '2026-01-01T00:00:00.000000Z')).toThrow(TimestampError)
  })
})

describe('micros', () => {
  it('round-trips through fromMicros and toMicros', () => {
    for (const micros of [0n, 1n, 1_767_225_600_123_456n, 253_402_300_799_999_999n]) expect(toMicros(fromMicros(micros))).toBe(micros)
  })
})
