// The sanitizer itself: which characters it escapes and how, that it leaves everything else
// alone, and that the JSON variant is still exactly the same JSON.
import {describe, expect, it} from 'vitest'
import {isUnsafeCodeUnit, sanitize, sanitizeJsonValue, sanitizeLines, terminalSafeJson} from '../../src/lib/util/sanitize.js'
import {HOSTILE, HOSTILE_SHOWN, rawControl} from '../helpers/hostile.js'

describe('sanitize', () => {
  it('shows C0, DEL, C1 and bidi controls as escapes', () => {
    expect(sanitize(HOSTILE)).toBe(HOSTILE_SHOWN)
    expect(sanitize('a\tb\nc\rd\u0000e')).toBe('a\\tb\\nc\\rd\\x00e')
    expect(sanitize('\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069')).toBe('\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069')
  })

  it('escapes exactly the unsafe code units and keeps every other one', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c)
      const out = sanitize(ch)
      const unsafe = c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
      expect(isUnsafeCodeUnit(c)).toBe(unsafe)
      if (unsafe) expect(rawControl(out), `U+${c.toString(16)}`).toBeUndefined()
      else expect(out).toBe(ch)
    }
  })

  it('returns clean text unchanged (the same string) and keeps non-ASCII text', () => {
    const clean = 'café 東京 🚀 — naïve'
    expect(sanitize(clean)).toBe(clean)
    expect(sanitize('')).toBe('')
  })

  it('sanitizeLines keeps line breaks and escapes the rest', () => {
    expect(sanitizeLines(`one\n${HOSTILE}\nthree\r`)).toBe(`one\n${HOSTILE_SHOWN}\nthree\\r`)
  })
})

describe('terminalSafeJson', () => {
  it('is the same JSON, with no raw control character left', () => {
    const value = {[HOSTILE]: [HOSTILE, 1, true, null, {nested: HOSTILE}]}
    const json = terminalSafeJson(JSON.stringify(value, null, 2))
    expect(rawControl(json)).toBeUndefined()
    expect(JSON.parse(json)).toEqual(value)
  })

  it('leaves JSON without such characters untouched', () => {
    const json = JSON.stringify({a: 'b', c: 'é\u001b'})
    expect(terminalSafeJson(json)).toBe(json)
  })
})

describe('sanitizeJsonValue', () => {
  it('sanitizes strings and keys at every level', () => {
    expect(sanitizeJsonValue({[HOSTILE]: [HOSTILE, {x: HOSTILE}], n: 1})).toEqual({[HOSTILE_SHOWN]: [HOSTILE_SHOWN, {x: HOSTILE_SHOWN}], n: 1})
  })

  it('stops at a bounded depth instead of recursing without end', () => {
    let deep: unknown = HOSTILE
    for (let i = 0; i < 10_000; i++) deep = [deep]
    const out = JSON.stringify(sanitizeJsonValue(deep))
    expect(out).toContain('[too deep]')
    expect(out).not.toContain('\\u001b')
  })
})
