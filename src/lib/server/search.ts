// The `search` list parameter: the SQL-WHERE-like language of rh-trex (tree-search-language),
// parsed into a predicate over stored objects. Supported: = != <> < <= > >=, [not] like/ilike
// with % and _, [not] in (...), [not] between .. and .., is [not] null, and/or/not, parentheses.
// String literals are single-quoted ('' escapes a quote). An absent field is SQL NULL, so
// comparisons with it are unknown (three-valued logic), exactly as in the real server's SQL.
import {badSearch} from './errors.js'
import type {FieldType} from './schema.js'
import {normalizeRfc3339} from '../api/time.js'

export type Predicate = (obj: Readonly<Record<string, unknown>>) => boolean

type Tri = boolean | null
type Eval = (obj: Readonly<Record<string, unknown>>) => Tri

type Token =
  | {kind: 'ident'; text: string; pos: number}
  | {kind: 'string'; text: string; pos: number}
  | {kind: 'number'; text: string; pos: number}
  | {kind: 'op'; text: string; pos: number}
  | {kind: 'punct'; text: '(' | ')' | ','; pos: number}

const KEYWORDS = new Set(['and', 'or', 'not', 'like', 'ilike', 'in', 'between', 'is', 'null'])

function tokenize(input: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < input.length) {
    const c = input[i]
    if (/\s/.test(c)) {
      i++
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({kind: 'punct', text: c, pos: i})
      i++
    } else if (c === "'") {
      const start = i
      let text = ''
      i++
      for (;;) {
        if (i >= input.length) throw badSearch(`unterminated string starting at ${start}`)
        if (input[i] === "'") {
          if (input[i + 1] === "'") {
            text += "'"
            i += 2
            continue
          }
          i++
          break
        }
        text += input[i++]
      }
      tokens.push({kind: 'string', text, pos: start})
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(input[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(input.slice(i))
      if (!m) throw badSearch(`bad number at ${i}`)
      tokens.push({kind: 'number', text: m[0], pos: i})
      i += m[0].length
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(input.slice(i))
      if (!m) throw badSearch(`bad identifier at ${i}`)
      tokens.push({kind: 'ident', text: m[0], pos: i})
      i += m[0].length
    } else {
      const m = /^(<>|!=|<=|>=|=|<|>)/.exec(input.slice(i))
      if (!m) throw badSearch(`unexpected character ${JSON.stringify(c)} at ${i}`)
      tokens.push({kind: 'op', text: m[0], pos: i})
      i += m[0].length
    }
  }
  return tokens
}

type Literal = {kind: 'string' | 'number'; text: string}

/** A comparable form of a stored value or a literal, per field type. */
type Scalar = string | number

class Parser {
  private i = 0
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
    if (parts.length === 1) return parts[0]
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
    if (parts.length === 1) return parts[0]
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
      const inner = this.notExpr()
      return (obj) => {
        const v = inner(obj)
        return v === null ? null : !v
      }
    }
    const t = this.peek()
    if (t?.kind === 'punct' && t.text === '(') {
      this.i++
      const e = this.orExpr()
      this.expectPunct(')')
      return e
    }
    return this.comparison()
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
    const {name, type} = this.field()
    const get = (obj: Readonly<Record<string, unknown>>): Scalar | undefined => {
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
      const re = likeToRegExp(lit.text, insensitive)
      return (obj) => {
        const v = get(obj)
        if (v === undefined) return null
        return re.test(String(v)) !== negate
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

function compareEval(get: (obj: Readonly<Record<string, unknown>>) => Scalar | undefined, op: string, lit: Scalar): Eval {
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

function likeToRegExp(pattern: string, insensitive: boolean): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\' && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[++i])
    } else if (c === '%') {
      source += '[\\s\\S]*'
    } else if (c === '_') {
      source += '[\\s\\S]'
    } else {
      source += escapeRegExp(c)
    }
  }
  return new RegExp(`^${source}$`, insensitive ? 'i' : '')
}

function escapeRegExp(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c
}

/** Compiles a search expression for one resource; throws a 400 ApiServerError when invalid. */
export function compileSearch(search: string, fields: ReadonlyMap<string, FieldType>, resource: string): Predicate {
  const tokens = tokenize(search)
  if (tokens.length === 0) return () => true
  const evaluate = new Parser(tokens, fields, resource).parse()
  return (obj) => evaluate(obj) === true
}
