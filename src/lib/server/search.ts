// The `search` list parameter: the SQL-WHERE-like language of rh-trex (tree-search-language),
// parsed into a predicate over stored objects. Supported: = != <> < <= > >=, [not] like/ilike
// with % and _, [not] in (...), [not] between .. and .., is [not] null, and/or/not, parentheses.
// String literals are single-quoted ('' escapes a quote). An absent field is SQL NULL, so
// comparisons with it are unknown (three-valued logic), exactly as in the real server's SQL.
// Cost is bounded (query-limits.ts): length, nesting, comparisons and pattern length are checked
// while parsing, so no query makes the parser recurse deeply or an evaluation take long.
import {badSearch} from './errors.js'
import {LikePattern} from './like.js'
import {MAX_LIKE_PATTERN_LENGTH, MAX_SEARCH_DEPTH, MAX_SEARCH_LENGTH, MAX_SEARCH_TERMS} from './query-limits.js'
import type {FieldType} from './schema.js'
import {KEYWORDS, tokenize, type Token} from './search-tokens.js'
import {normalizeRfc3339} from '../api/time.js'

type Doc = Readonly<Record<string, unknown>>

export interface Predicate {
  (obj: Doc): boolean
  /**
   * The costly part of testing `obj` (LIKE terms over long values), as a sequence of steps of
   * bounded work; undefined when there is none. After running every step, calling the predicate
   * on `obj` is cheap and gives the same answer. A scanner can pause between steps, so one object
   * holding megabytes of text cannot stall the process.
   */
  steps(obj: Doc): Iterator<void> | undefined
}

/**
 * Work (characters × pattern width) a LIKE term does in one go; above it, the term runs in
 * steps of this size. About a millisecond on this project's machines.
 */
export const LIKE_STEP_WORK = 1 << 18

type Tri = boolean | null
type Eval = (obj: Doc) => Tri

type Literal = {kind: 'string' | 'number'; text: string}

/** A comparable form of a stored value or a literal, per field type. */
type Scalar = string | number

/** A LIKE term with its last answer, so a scanner can compute it in steps beforehand. */
interface LikeTerm {
  field: string
  pattern: LikePattern
  memoFor: Doc | undefined
  memo: boolean
}

class Parser {
  private i = 0
  private depth = 0
  private terms = 0
  readonly likeTerms: LikeTerm[] = []
  constructor(
    private readonly tokens: Token[],
    private readonly fields: ReadonlyMap<string, FieldType>,
    private readonly resource: string,
  ) {}

  parse(): Eval {
    const e = this.orExpr()
    const t = this.peek()
    if (t) throw badSearch(`unexpected ${JSON.stringify(t.text)} at ${t.pos}`)
    return e
  }

  private peek(): Token | undefined {
    return this.tokens[this.i]
  }

  private isKeyword(word: string, offset = 0): boolean {
    const t = this.tokens[this.i + offset]
    return t?.kind === 'ident' && t.text.toLowerCase() === word
  }

  private expectKeyword(word: string): void {
    if (!this.isKeyword(word)) throw badSearch(`expected ${word.toUpperCase()} ${this.where()}`)
    this.i++
  }

  private expectPunct(p: '(' | ')' | ','): void {
    const t = this.peek()
    if (t?.kind !== 'punct' || t.text !== p) throw badSearch(`expected "${p}" ${this.where()}`)
    this.i++
  }

  private where(): string {
    const t = this.peek()
    return t ? `at ${t.pos}` : 'at end of query'
  }

  private orExpr(): Eval {
    const parts = [this.andExpr()]
    while (this.isKeyword('or')) {
      this.i++
      parts.push(this.andExpr())
    }
    const [only] = parts
    if (parts.length === 1 && only) return only
    return (obj) => {
      let unknown = false
      for (const p of parts) {
        const v = p(obj)
        if (v === true) return true
        if (v === null) unknown = true
      }
      return unknown ? null : false
    }
  }

  private andExpr(): Eval {
    const parts = [this.notExpr()]
    while (this.isKeyword('and')) {
      this.i++
      parts.push(this.notExpr())
    }
    const [only] = parts
    if (parts.length === 1 && only) return only
    return (obj) => {
      let unknown = false
      for (const p of parts) {
        const v = p(obj)
        if (v === false) return false
        if (v === null) unknown = true
      }
      return unknown ? null : true
    }
  }

  private notExpr(): Eval {
    if (this.isKeyword('not')) {
      this.i++
      const inner = this.nested(() => this.notExpr())
      return (obj) => {
        const v = inner(obj)
        return v === null ? null : !v
      }
    }
    const t = this.peek()
    if (t?.kind === 'punct' && t.text === '(') {
      this.i++
      const e = this.nested(() => this.orExpr())
      this.expectPunct(')')
      return e
    }
    return this.comparison()
  }

  /** Parses one more level of nesting; the bound keeps the recursion (and evaluation) shallow. */
  private nested(parse: () => Eval): Eval {
    if (++this.depth > MAX_SEARCH_DEPTH) throw badSearch(`nested deeper than ${MAX_SEARCH_DEPTH} levels (parentheses and NOT) ${this.where()}`)
    const e = parse()
    this.depth--
    return e
  }

  private field(): {name: string; type: FieldType} {
    const t = this.peek()
    if (t?.kind !== 'ident' || KEYWORDS.has(t.text.toLowerCase())) throw badSearch(`expected a field name ${this.where()}`)
    this.i++
    let name = t.text
    const dot = name.indexOf('.')
    if (dot >= 0) {
      // rh-trex accepts `<table>.<column>`; only the resource's own table exists here.
      const table = name.slice(0, dot)
      if (table !== this.resource) throw badSearch(`${table} is not a related resource of ${this.resource}`)
      name = name.slice(dot + 1)
    }
    const type = this.fields.get(name)
    if (!type) throw badSearch(`${name} is not a valid field name`)
    return {name, type}
  }

  private literal(): Literal {
    const t = this.peek()
    if (t?.kind !== 'string' && t?.kind !== 'number') throw badSearch(`expected a value ${this.where()}`)
    this.i++
    return {kind: t.kind, text: t.text}
  }

  private comparison(): Eval {
    if (++this.terms > MAX_SEARCH_TERMS) throw badSearch(`more than ${MAX_SEARCH_TERMS} comparisons ${this.where()}`)
    const {name, type} = this.field()
    const get = (obj: Doc): Scalar | undefined => {
      const v = obj[name]
      return typeof v === 'string' || typeof v === 'number' ? v : undefined
    }
    const t = this.peek()

    if (t?.kind === 'op') {
      this.i++
      const lit = coerce(this.literal(), type, name)
      return compareEval(get, t.text, lit)
    }

    if (this.isKeyword('is')) {
      this.i++
      const negate = this.isKeyword('not')
      if (negate) this.i++
      this.expectKeyword('null')
      return (obj) => (get(obj) === undefined) !== negate
    }

    let negate = false
    if (this.isKeyword('not')) {
      negate = true
      this.i++
    }

    if (this.isKeyword('like') || this.isKeyword('ilike')) {
      const insensitive = this.isKeyword('ilike')
      this.i++
      if (type !== 'string') throw badSearch(`LIKE needs a text field, ${name} is ${type}`)
      const lit = this.literal()
      if (lit.kind !== 'string') throw badSearch(`LIKE needs a quoted pattern`)
      if (codePoints(lit.text) > MAX_LIKE_PATTERN_LENGTH)
        throw badSearch(`LIKE pattern longer than ${MAX_LIKE_PATTERN_LENGTH} characters ${this.where()}`)
      const term: LikeTerm = {field: name, pattern: new LikePattern(lit.text, {caseInsensitive: insensitive}), memoFor: undefined, memo: false}
      this.likeTerms.push(term)
      return (obj) => {
        const v = get(obj)
        if (v === undefined) return null
        const hit = term.memoFor === obj ? term.memo : term.pattern.matches(String(v))
        return hit !== negate
      }
    }

    if (this.isKeyword('in')) {
      this.i++
      this.expectPunct('(')
      const values: Scalar[] = [coerce(this.literal(), type, name)]
      while (this.peek()?.kind === 'punct' && this.peek()?.text === ',') {
        this.i++
        values.push(coerce(this.literal(), type, name))
      }
      this.expectPunct(')')
      const set = new Set<Scalar>(values)
      return (obj) => {
        const v = get(obj)
        if (v === undefined) return null
        return set.has(v) !== negate
      }
    }

    if (this.isKeyword('between')) {
      this.i++
      const low = coerce(this.literal(), type, name)
      this.expectKeyword('and')
      const high = coerce(this.literal(), type, name)
      return (obj) => {
        const v = get(obj)
        if (v === undefined) return null
        return (v >= low && v <= high) !== negate
      }
    }

    throw badSearch(`expected an operator after ${name} ${this.where()}`)
  }
}

function compareEval(get: (obj: Doc) => Scalar | undefined, op: string, lit: Scalar): Eval {
  const test = (v: Scalar): boolean => {
    switch (op) {
      case '=':
        return v === lit
      case '!=':
      case '<>':
        return v !== lit
      case '<':
        return v < lit
      case '<=':
        return v <= lit
      case '>':
        return v > lit
      default:
        return v >= lit
    }
  }
  return (obj) => {
    const v = get(obj)
    return v === undefined ? null : test(v)
  }
}

/** Literals take the field's type, like Postgres casting '5' to an integer column. */
function coerce(lit: Literal, type: FieldType, field: string): Scalar {
  switch (type) {
    case 'int':
    case 'double': {
      const n = Number(lit.text)
      if (lit.text.trim() === '' || !Number.isFinite(n)) throw badSearch(`${JSON.stringify(lit.text)} is not a number (field ${field})`)
      if (type === 'int' && !Number.isInteger(n)) throw badSearch(`${lit.text} is not an integer (field ${field})`)
      return n
    }
    case 'time': {
      // Stored timestamps are canonical (UTC, six fraction digits), so canonical literals
      // compare correctly as strings. A bare date means its midnight UTC.
      const text = /^\d{4}-\d{2}-\d{2}$/.test(lit.text) ? `${lit.text}T00:00:00Z` : lit.text
      try {
        return normalizeRfc3339(text)
      } catch {
        throw badSearch(`${JSON.stringify(lit.text)} is not an RFC 3339 timestamp (field ${field})`)
      }
    }
    default:
      return lit.text
  }
}

function codePoints(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    // The high half of a surrogate pair counts; its low half does not.
    if (unit < 0xdc00 || unit > 0xdfff || i === 0 || text.charCodeAt(i - 1) < 0xd800 || text.charCodeAt(i - 1) > 0xdbff) n++
  }
  return n
}

/** Runs, in steps of bounded work, every LIKE term whose value in `obj` is long, remembering each answer. */
function* likeSteps(terms: readonly LikeTerm[], obj: Doc): Generator<void, void> {
  for (const term of terms) {
    const v = obj[term.field]
    if (typeof v !== 'string' || v.length * term.pattern.width <= LIKE_STEP_WORK || term.memoFor === obj) continue
    term.memo = yield* term.pattern.matchesInSteps(v, Math.max(1, Math.floor(LIKE_STEP_WORK / term.pattern.width)))
    term.memoFor = obj
    yield
  }
}

/** Compiles a search expression for one resource; throws a 400 ApiServerError when invalid or over a bound. */
export function compileSearch(search: string, fields: ReadonlyMap<string, FieldType>, resource: string): Predicate {
  if (search.length > MAX_SEARCH_LENGTH) throw badSearch(`longer than ${MAX_SEARCH_LENGTH} characters (${search.length})`)
  const tokens = tokenize(search)
  if (tokens.length === 0) return Object.assign(() => true, {steps: () => undefined})
  const parser = new Parser(tokens, fields, resource)
  const evaluate = parser.parse()
  const terms = parser.likeTerms
  const steps = (obj: Doc): Iterator<void> | undefined => {
    const costly = terms.some((t) => {
      const v = obj[t.field]
      return typeof v === 'string' && v.length * t.pattern.width > LIKE_STEP_WORK
    })
    return costly ? likeSteps(terms, obj) : undefined
  }
  return Object.assign((obj: Doc) => evaluate(obj) === true, {steps})
}
