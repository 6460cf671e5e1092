// The tokens of the `search` language (search.ts): identifiers, single-quoted strings (''
// escapes a quote), numbers, operators and punctuation, in one linear scan of the input.
import {badSearch} from './errors.js'

export type Token =
  | {kind: 'ident'; text: string; pos: number}
  | {kind: 'string'; text: string; pos: number}
  | {kind: 'number'; text: string; pos: number}
  | {kind: 'op'; text: string; pos: number}
  | {kind: 'punct'; text: '(' | ')' | ','; pos: number}

export const KEYWORDS = new Set(['and', 'or', 'not', 'like', 'ilike', 'in', 'between', 'is', 'null'])

export function tokenize(input: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < input.length) {
    const c = input[i] ?? ''
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
    } else if (isDigit(c) || (c === '-' && isDigit(input[i + 1]))) {
      const end = scanNumber(input, i)
      tokens.push({kind: 'number', text: input.slice(i, end), pos: i})
      i = end
    } else if (isIdentStart(c)) {
      let end = i + 1
      while (end < input.length && (isIdentStart(input[end]) || isDigit(input[end]) || input[end] === '.')) end++
      tokens.push({kind: 'ident', text: input.slice(i, end), pos: i})
      i = end
    } else {
      const two = input.slice(i, i + 2)
      const op = two === '<>' || two === '!=' || two === '<=' || two === '>=' ? two : c === '=' || c === '<' || c === '>' ? c : undefined
      if (!op) throw badSearch(`unexpected character ${JSON.stringify(c)} at ${i}`)
      tokens.push({kind: 'op', text: op, pos: i})
      i += op.length
    }
  }
  return tokens
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9'
}

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c === '_')
}

/** End of the number at `start`: -?digits(.digits)?([eE][+-]?digits)?, scanned without a regex. */
function scanNumber(input: string, start: number): number {
  const digits = (from: number) => {
    let j = from
    while (isDigit(input[j])) j++
    return j
  }
  let i = digits(input[start] === '-' ? start + 1 : start)
  if (input[i] === '.' && isDigit(input[i + 1])) i = digits(i + 1)
  if (input[i] === 'e' || input[i] === 'E') {
    const sign = input[i + 1] === '+' || input[i + 1] === '-' ? 1 : 0
    if (isDigit(input[i + 1 + sign])) i = digits(i + 1 + sign)
  }
  return i
}
