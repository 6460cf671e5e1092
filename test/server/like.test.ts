// The LIKE matcher (src/lib/server/like.ts) against two references: the regular-expression
// translation this server used before (same escapes and ILIKE case rules; exponential, so only
// on short inputs), and a plain dynamic-programming matcher for long patterns. Plus the facts
// that differ from a UTF-16 regex (`_` is one code point) and resuming mid-text.
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {LikePattern} from '../../src/lib/server/like.js'

/** The translation used before (one regex per pattern): the reference for semantics. */
function regexLike(pattern: string, caseInsensitive: boolean, unicode = false): RegExp {
  let source = ''
  const chars = unicode ? [...pattern] : pattern.split('')
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]
    if (c === '\\' && i + 1 < chars.length) source += escapeRegex(chars[++i])
    else if (c === '%') source += '[\\s\\S]*'
    else if (c === '_') source += '[\\s\\S]'
    else source += escapeRegex(c)
  }
  return new RegExp(`^${source}$`, `${caseInsensitive ? 'i' : ''}${unicode ? 'u' : ''}`)
}
const escapeRegex = (c: string) => (/[.*+?^${}()|[\]\\/-]/.test(c) ? `\\${c}` : c)

/** Classic O(text × pattern) dynamic programming over code points (case-sensitive). */
function dpLike(pattern: string, text: string): boolean {
  const tokens: ({star: true} | {any: true} | {char: string})[] = []
  const p = [...pattern]
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\' && i + 1 < p.length) tokens.push({char: p[++i]})
    else if (p[i] === '%') tokens.push({star: true})
    else if (p[i] === '_') tokens.push({any: true})
    else tokens.push({char: p[i]})
  }
  // reach[j]: tokens[0..j) match the text read so far.
  let reach = [true, ...tokens.map(() => false)]
  for (let j = 0; j < tokens.length; j++) if ('star' in tokens[j]) reach[j + 1] = reach[j]
  for (const ch of text) {
    const next = [false, ...tokens.map(() => false)]
    for (let j = 0; j < tokens.length; j++) {
      const tok = tokens[j]
      if ('star' in tok) next[j + 1] = reach[j + 1] || next[j]
      else next[j + 1] = reach[j] && ('any' in tok || tok.char === ch)
    }
    reach = next
  }
  return reach[tokens.length]
}

const like = (pattern: string, text: string, caseInsensitive = false) => new LikePattern(pattern, {caseInsensitive}).matches(text)

describe('LIKE semantics', () => {
  it('has % (any run), _ (one character), backslash escapes and exact equality', () => {
    expect(like('foo%', 'foobar')).toBe(true)
    expect(like('foo%', 'afoo')).toBe(false)
    expect(like('%bar', 'foobar')).toBe(true)
    expect(like('f_o', 'foo')).toBe(true)
    expect(like('f_o', 'fo')).toBe(false)
    expect(like('%', '')).toBe(true)
    expect(like('', '')).toBe(true)
    expect(like('', 'x')).toBe(false)
    expect(like('a%%b', 'ab')).toBe(true)
    expect(like('foo\\_%', 'foo_1')).toBe(true)
    expect(like('foo\\_%', 'foo-1')).toBe(false)
    expect(like('100\\%', '100%')).toBe(true)
    expect(like('100\\%', '1000')).toBe(false)
    expect(like('a\\\\b', 'a\\b')).toBe(true)
    // A trailing lone backslash is a literal backslash, as before.
    expect(like('a\\', 'a\\')).toBe(true)
    // Regex syntax means nothing.
    expect(like('a.c', 'abc')).toBe(false)
    expect(like('(a|b)*', '(a|b)*')).toBe(true)
  })

  it('ILIKE folds case like a regular expression with the i flag; LIKE does not', () => {
    expect(like('FOO-_', 'foo-1', true)).toBe(true)
    expect(like('FOO-_', 'foo-1')).toBe(false)
    expect(like('ä%', 'ÄRGER', true)).toBe(true)
    // ß upper-cases to two letters and ſ to an ASCII S: neither folds (ECMA-262 Canonicalize).
    expect(like('ss', 'ß', true)).toBe(false)
    expect(like('s', 'ſ', true)).toBe(false)
  })

  it('takes `_` as one character (a code point), not one UTF-16 unit', () => {
    expect(like('_', '😀')).toBe(true)
    expect(like('__', '😀')).toBe(false)
    expect(like('a_b', 'a😀b')).toBe(true)
    expect(like('%😀%', 'x😀y')).toBe(true)
    expect(like('😀%', '😀😀', true)).toBe(true)
  })

  it('answers in one pass over the text whatever the pattern (the patterns that backtrack)', () => {
    const text = 'a'.repeat(100_000)
    // As a regex: C(100000, 127) ways to try. Here: 100,000 steps of 4 words.
    expect(like(`${'%a'.repeat(127)}%b`, text)).toBe(false)
    expect(like(`${'%a'.repeat(127)}%`, text)).toBe(true)
    expect(like(`%${'_'.repeat(255)}b`, text)).toBe(false)
    expect(like('_'.repeat(2000), text.slice(0, 2000))).toBe(true)
  })
})

// Short strings over letters that exercise every rule: wildcards, escapes, case pairs, letters
// whose case mapping is special, and regex metacharacters that must stay literal.
const patternChars = ['a', 'b', 'A', 'B', '%', '_', '\\', '.', '*', 'ä', 'Ä', 'ß', 'ſ', 's', 'S', 'K', 'k', 'ı', 'I', 'i']
const textChars = patternChars.filter((c) => c !== '\\')
const shortPattern = fc.array(fc.constantFrom(...patternChars), {maxLength: 8}).map((cs) => cs.join(''))
const shortText = fc.array(fc.constantFrom(...textChars), {maxLength: 10}).map((cs) => cs.join(''))

describe('LIKE against references', () => {
  it('agrees with the former regular-expression matcher on short inputs (LIKE and ILIKE)', () => {
    fc.assert(
      fc.property(shortPattern, shortText, fc.boolean(), (pattern, text, ci) => {
        expect(like(pattern, text, ci)).toBe(regexLike(pattern, ci).test(text))
      }),
      {numRuns: 3000},
    )
  })

  it('agrees with a code-point regular expression when text has astral characters', () => {
    const chars = ['a', '😀', '𝒳', '%', '_', '\\']
    const pattern = fc.array(fc.constantFrom(...chars), {maxLength: 8}).map((cs) => cs.join(''))
    const text = fc.array(fc.constantFrom('a', '😀', '𝒳', '%', '_'), {maxLength: 10}).map((cs) => cs.join(''))
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        expect(like(p, t)).toBe(regexLike(p, false, true).test(t))
      }),
      {numRuns: 2000},
    )
  })

  it('agrees with dynamic programming on long patterns (several 32-bit words of state)', () => {
    const pattern = fc.array(fc.constantFrom('a', 'b', '%', '_'), {minLength: 20, maxLength: 200, size: 'max'}).map((cs) => cs.join(''))
    const text = fc.array(fc.constantFrom('a', 'b'), {maxLength: 300, size: 'max'}).map((cs) => cs.join(''))
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        expect(like(p, t)).toBe(dpLike(p, t))
      }),
      {numRuns: 1500},
    )
    // Random texts rarely match long patterns: check the matching side on purpose too.
    fc.assert(
      fc.property(text, fc.array(fc.nat(), {maxLength: 40, size: 'max'}), (t, cuts) => {
        // A pattern built from the text itself, with pieces replaced by % and _: it must match.
        const chars = [...t]
        for (const c of cuts) if (chars.length) chars[c % chars.length] = c % 2 ? '_' : '%'
        const p = chars.join('')
        expect(dpLike(p, t)).toBe(true)
        expect(like(p, t)).toBe(true)
      }),
      {numRuns: 1000},
    )
  })

  it('gives the same answer when the text is fed in chunks of any size', () => {
    const chars = ['a', 'b', '😀', '%', '_']
    const pattern = fc.array(fc.constantFrom(...chars), {maxLength: 60, size: 'max'}).map((cs) => cs.join(''))
    const text = fc.array(fc.constantFrom('a', 'b', '😀'), {maxLength: 80, size: 'max'}).map((cs) => cs.join(''))
    fc.assert(
      fc.property(pattern, text, fc.integer({min: 1, max: 9}), fc.boolean(), (p, t, chunk, ci) => {
        const compiled = new LikePattern(p, {caseInsensitive: ci})
        const steps = compiled.matchesInSteps(t, chunk)
        let r = steps.next()
        while (!r.done) r = steps.next()
        expect(r.value).toBe(compiled.matches(t))
      }),
      {numRuns: 2000},
    )
  })
})
