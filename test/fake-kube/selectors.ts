// Label and field selectors with the grammar and matching rules of k8s.io/apimachinery.
import {badRequest} from './status.js'

export interface LabelRequirement {
  key: string
  op: 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt'
  values: string[]
}

const keyRe = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const valueRe = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/** Splits on commas that are not inside `( )`. */
function splitTop(s: string): string[] {
  const parts: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(cur)
      cur = ''
    } else cur += ch
  }
  parts.push(cur)
  return parts
}

function checkKey(key: string): string {
  if (!keyRe.test(key) || key.length > 316) {
    throw badRequest(`unable to parse requirement: key: Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.'`)
  }
  return key
}

function checkValue(value: string): string {
  if (!valueRe.test(value) || value.length > 63) {
    throw badRequest(
      `unable to parse requirement: values[0][${value}]: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'`,
    )
  }
  return value
}

export function parseLabelSelector(selector: string | undefined): LabelRequirement[] {
  if (selector === undefined || selector.trim() === '') return []
  return splitTop(selector).map((raw) => {
    const part = raw.trim()
    let m: RegExpMatchArray | null
    if ((m = part.match(/^!\s*([^\s=!<>(),]+)$/))) return {key: checkKey(m[1]), op: '!exists', values: []}
    if ((m = part.match(/^([^\s=!<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/))) {
      const values = m[3].split(',').map((v) => checkValue(v.trim()))
      return {key: checkKey(m[1]), op: m[2] === 'in' ? 'in' : 'notin', values}
    }
    if ((m = part.match(/^([^\s=!<>(),]+)\s*(==|=|!=)\s*([^\s=!<>(),]*)$/))) {
      return {key: checkKey(m[1]), op: m[2] === '!=' ? '!=' : '=', values: [checkValue(m[3])]}
    }
    if ((m = part.match(/^([^\s=!<>(),]+)\s*(<|>)\s*(-?\d+)$/))) {
      return {key: checkKey(m[1]), op: m[2] === '>' ? 'gt' : 'lt', values: [m[3]]}
    }
    if ((m = part.match(/^([^\s=!<>(),]+)$/))) return {key: checkKey(m[1]), op: 'exists', values: []}
    throw badRequest(`unable to parse requirement: found '${part}', expected: identifier`)
  })
}

export function matchLabels(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {}
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key)
    const v = l[r.key]
    switch (r.op) {
      case 'exists':
        return has
      case '!exists':
        return !has
      case '=':
        return has && v === r.values[0]
      case '!=':
        return !has || v !== r.values[0]
      case 'in':
        return has && r.values.includes(v)
      case 'notin':
        return !has || !r.values.includes(v)
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v)) return false
        return r.op === 'gt' ? Number(v) > Number(r.values[0]) : Number(v) < Number(r.values[0])
      }
      default:
        return false
    }
  })
}

export interface FieldRequirement {
  field: string
  op: '=' | '!='
  value: string
}

/** Parses `a=b,c!=d`; backslash escapes `,`, `=`, `!` and `\` inside values. */
export function parseFieldSelector(selector: string | undefined): FieldRequirement[] {
  if (selector === undefined || selector.trim() === '') return []
  const parts: string[] = []
  let cur = ''
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i]
    if (ch === '\\' && i + 1 < selector.length) {
      cur += ch + selector[++i]
    } else if (ch === ',') {
      parts.push(cur)
      cur = ''
    } else cur += ch
  }
  parts.push(cur)
  return parts.map((part) => {
    const m = part.trim().match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/)
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`)
    const value = m[3].replace(/\\(.)/g, '$1')
    return {field: m[1].trim(), op: m[2] === '!=' ? '!=' : '=', value}
  })
}

export function matchFields(reqs: FieldRequirement[], fields: Record<string, string>): boolean {
  return reqs.every((r) => (r.op === '=' ? fields[r.field] === r.value : fields[r.field] !== r.value))
}
