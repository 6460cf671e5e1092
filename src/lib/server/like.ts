// SQL LIKE / ILIKE without regular expressions. A pattern compiles to a small automaton that a
// bit-parallel simulation (shift-and, one bit per pattern position) runs over the text once,
// code point by code point: O(text × ⌈pattern/32⌉) for every input, never backtracking (a
// regex translation such as /^.*a.*a.*…b$/ takes exponential time on "aaa…"). The simulation
// can stop and resume anywhere in the text, so a caller can split the work on a long value.
//
// Semantics, as in the real server's SQL (Postgres, default ESCAPE '\'):
// - `%` matches any run of characters, `_` exactly one character (a code point);
// - `\` makes the next character literal (`\%`, `\_`, `\\`); a trailing lone `\` is a literal
//   backslash (Postgres refuses that pattern; this server has always accepted it);
// - LIKE compares exactly; ILIKE compares after the case mapping of a JavaScript regular
//   expression's `i` flag (upper-casing BMP characters), as this server always did.

export interface LikeOptions {
  caseInsensitive: boolean
}

type Token = {kind: 'char'; code: number} | {kind: 'any'} | {kind: 'star'}
type Fold = (code: number) => number

/** The outcome of feeding part of a text: undecided yet, or known whatever follows. */
type Progress = 'open' | 'matched' | 'failed'

export class LikePattern {
  /** Work per character of text, in 32-bit words of automaton state. */
  readonly width: number
  private readonly exact: string | undefined
  /** Number of non-`%` positions; state k (all of them matched) accepts. */
  private readonly k: number
  /** Bit i set: state i may consume any character and stay (a `%` follows position i). */
  private readonly selfLoop: Int32Array
  /** Positions a `_` occupies (they match any character). */
  private readonly anyMask: Int32Array
  /** Per ASCII code point: the positions it matches (literal or `_`), `width` words each. */
  private readonly ascii: Int32Array
  /** Per other code point that appears as a literal: the positions it matches (`_` included). */
  private readonly other = new Map<number, Int32Array>()
  private readonly fold: Fold

  constructor(pattern: string, options: LikeOptions) {
    this.fold = options.caseInsensitive ? foldCase : identity
    const tokens = tokenize(pattern, this.fold)
    // The commonest pattern has no wildcard: case-sensitive, that is plain equality.
    if (!options.caseInsensitive && tokens.every((t) => t.kind === 'char')) {
      this.exact = tokens.map((t) => String.fromCodePoint(t.kind === 'char' ? t.code : 0)).join('')
    }
    this.k = tokens.filter((t) => t.kind !== 'star').length
    this.width = ((this.k + 1 + 31) / 32) | 0
    this.selfLoop = new Int32Array(this.width)
    this.anyMask = new Int32Array(this.width)
    const literals: [number, number][] = []
    let position = 0
    for (const t of tokens) {
      if (t.kind === 'star') {
        setBit(this.selfLoop, position)
        continue
      }
      position++
      if (t.kind === 'any') setBit(this.anyMask, position)
      else literals.push([t.code, position])
    }
    this.ascii = new Int32Array(128 * this.width)
    for (let ch = 0; ch < 128; ch++) this.ascii.set(this.anyMask, ch * this.width)
    for (const [code, pos] of literals) {
      if (code < 128) {
        setBit(this.ascii.subarray(code * this.width, (code + 1) * this.width), pos)
        continue
      }
      let mask = this.other.get(code)
      if (!mask) {
        mask = Int32Array.from(this.anyMask)
        this.other.set(code, mask)
      }
      setBit(mask, pos)
    }
  }

  matches(text: string): boolean {
    if (this.exact !== undefined) return text === this.exact
    if (this.width === 1) {
      const state = this.feedOneWord(1, text, 0, text.length)
      return (state & (1 << this.k)) !== 0
    }
    const state = this.initialState()
    const progress = this.feedWords(state, text, 0, text.length)
    return progress === 'open' ? hasBit(state, this.k) : progress === 'matched'
  }

  /**
   * The same answer as `matches`, computed `chunk` characters at a time: the generator yields
   * between chunks (a caller may pause there) and returns the answer.
   */
  *matchesInSteps(text: string, chunk: number): Generator<void, boolean> {
    if (this.exact !== undefined) return text === this.exact
    const state = this.initialState()
    for (let from = 0; from < text.length; ) {
      let to = Math.min(from + chunk, text.length)
      // Never end a chunk between the two halves of a surrogate pair.
      if (to < text.length && isHighSurrogate(text.charCodeAt(to - 1))) to++
      const progress = this.feedWords(state, text, from, to)
      if (progress !== 'open') return progress === 'matched'
      from = to
      if (from < text.length) yield
    }
    return hasBit(state, this.k)
  }

  private initialState(): Int32Array {
    const state = new Int32Array(this.width)
    state[0] = 1
    return state
  }

  /** One step per character of text[from, to) on a one-word state; returns the new state. */
  private feedOneWord(initial: number, text: string, from: number, to: number): number {
    // Typed-array reads past the end are undefined: 0 is the empty mask.
    const selfLoop = this.selfLoop[0] ?? 0
    const anyMask = this.anyMask[0] ?? 0
    const accept = 1 << this.k
    const acceptsRest = (selfLoop & accept) !== 0
    const {ascii, other, fold} = this
    let state = initial
    for (let i = from; i < to; ) {
      let code = text.codePointAt(i) as number
      i += code > 0xffff ? 2 : 1
      code = fold(code)
      const mask = (code < 128 ? ascii[code] : other.get(code)?.[0]) ?? anyMask
      state = ((state << 1) & mask) | (state & selfLoop)
      // Dead (nothing can match any more), or matched with a trailing `%` that takes the rest.
      if (state === 0 || (acceptsRest && (state & accept) !== 0)) return state
    }
    return state
  }

  /** One step per character of text[from, to) on a multi-word state, in place. */
  private feedWords(state: Int32Array, text: string, from: number, to: number): Progress {
    const {width, selfLoop, anyMask, ascii, other, fold, k} = this
    const acceptsRest = hasBit(selfLoop, k)
    for (let i = from; i < to; ) {
      let code = text.codePointAt(i) as number
      i += code > 0xffff ? 2 : 1
      code = fold(code)
      let masks = anyMask
      let base = 0
      if (code < 128) {
        masks = ascii
        base = code * width
      } else {
        masks = other.get(code) ?? anyMask
      }
      // From the top word down, so each word still sees its lower neighbour's old top bit.
      let alive = 0
      for (let w = width - 1; w >= 0; w--) {
        const carry = w > 0 ? (state[w - 1] ?? 0) >>> 31 : 0
        const word = state[w] ?? 0
        const next = (((word << 1) | carry) & (masks[base + w] ?? 0)) | (word & (selfLoop[w] ?? 0))
        state[w] = next
        alive |= next
      }
      if (alive === 0) return 'failed'
      if (acceptsRest && hasBit(state, k)) return 'matched'
    }
    return 'open'
  }
}

function tokenize(pattern: string, fold: Fold): Token[] {
  const tokens: Token[] = []
  for (let i = 0; i < pattern.length; ) {
    let code = pattern.codePointAt(i) as number
    i += code > 0xffff ? 2 : 1
    if (code === 0x5c /* \ */ && i < pattern.length) {
      code = pattern.codePointAt(i) as number
      i += code > 0xffff ? 2 : 1
      tokens.push({kind: 'char', code: fold(code)})
    } else if (code === 0x25 /* % */) {
      // `%%` is the same as `%`.
      if (tokens.at(-1)?.kind !== 'star') tokens.push({kind: 'star'})
    } else if (code === 0x5f /* _ */) {
      tokens.push({kind: 'any'})
    } else {
      tokens.push({kind: 'char', code: fold(code)})
    }
  }
  return tokens
}

function setBit(mask: Int32Array, bit: number): void {
  mask[bit >> 5] = (mask[bit >> 5] ?? 0) | (1 << (bit & 31))
}

function hasBit(mask: Int32Array, bit: number): boolean {
  return ((mask[bit >> 5] ?? 0) & (1 << (bit & 31))) !== 0
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff
}

function identity(code: number): number {
  return code
}

const FOLD_UNKNOWN = -1
const foldTable = new Int32Array(0x10000).fill(FOLD_UNKNOWN)

/**
 * The case mapping of a non-unicode regular expression's `i` flag (ECMA-262 Canonicalize):
 * upper-case a BMP character when that gives exactly one unit, unless it would turn a non-ASCII
 * character into an ASCII one; astral characters stay as they are.
 */
function foldCase(code: number): number {
  if (code < 128) return code >= 0x61 && code <= 0x7a ? code - 32 : code
  if (code > 0xffff) return code
  let folded = foldTable[code] ?? FOLD_UNKNOWN
  if (folded === FOLD_UNKNOWN) {
    const upper = String.fromCharCode(code).toUpperCase()
    folded = upper.length !== 1 || upper.charCodeAt(0) < 128 ? code : upper.charCodeAt(0)
    foldTable[code] = folded
  }
  return folded
}
