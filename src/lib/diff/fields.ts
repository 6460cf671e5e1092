// Field lists for whole objects (what a create writes, what a delete removes), in the same
// path notation as the reconcilers' spec drift, so every entry renders the same way.
import {isRecord} from '../util/is-record.js'
import type {DiffField} from './types.js'

/** `spec.timeout`, `metadata.labels["ambient-code.io/managed"]`: identifiers dotted, the rest quoted. */
export function displayPath(segments: readonly string[]): string {
  return segments.map((s, i) => (i === 0 ? s : /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join('')
}

export function field(segments: readonly string[], desired: unknown, actual: unknown): DiffField {
  return {path: displayPath(segments), segments, desired, actual}
}

/**
 * Every leaf of `doc` (objects are walked, arrays and scalars are leaves; empty values are
 * skipped) as a field, its value on the `side` given and absent on the other.
 */
export function leafFields(doc: Record<string, unknown>, side: 'desired' | 'actual', prefix: readonly string[] = []): DiffField[] {
  const out: DiffField[] = []
  const walk = (value: unknown, segments: string[]) => {
    if (value === undefined || value === null) return
    if (isRecord(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...segments, k])
      return
    }
    if (Array.isArray(value) && value.length === 0) return
    out.push(side === 'desired' ? field(segments, value, undefined) : field(segments, undefined, value))
  }
  for (const [k, v] of Object.entries(doc)) walk(v, [...prefix, k])
  return out
}

/** Parses the JSON documents the API carries as strings, for display; anything else as is. */
export function displayValue(value: unknown): unknown {
  if (typeof value !== 'string') return value
  const t = value.trim()
  if (!(t.startsWith('[') || t.startsWith('{'))) return value
  try {
    return JSON.parse(t) as unknown
  } catch {
    return value
  }
}
