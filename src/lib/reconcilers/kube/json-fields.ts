// The Ambient API carries several documents as JSON strings and any of them can be malformed
// in real data: these readers turn each into a typed value or a problem naming the field,
// never a throw, so one bad session cannot stop a reconcile loop.
import {MAX_JSON_FIELD_DEPTH} from '../../api/session-status.js'
import {isRecord} from '../../util/is-record.js'
import {jsonShapeProblem} from '../../util/json-shape.js'

export {MAX_JSON_FIELD_DEPTH}

export interface FieldProblem {
  field: string
  message: string
}

export type FieldResult<T> = {ok: true; value: T | undefined} | {ok: false; problem: FieldProblem}

/** Parses a JSON string field; empty, whitespace-only and `null` mean "absent". */
export function parseJsonField(field: string, raw: string | undefined | null): FieldResult<unknown> {
  if (raw === undefined || raw === null || raw.trim() === '') return {ok: true, value: undefined}
  if (jsonShapeProblem(raw, {maxDepth: MAX_JSON_FIELD_DEPTH})) {
    return {ok: false, problem: {field, message: `${field}: nested deeper than ${MAX_JSON_FIELD_DEPTH} levels`}}
  }
  try {
    const value: unknown = JSON.parse(raw)
    return {ok: true, value: value === null ? undefined : value}
  } catch (err) {
    return {ok: false, problem: {field, message: `${field}: not valid JSON (${err instanceof Error ? err.message : String(err)})`}}
  }
}

/** An object of string to string (labels, annotations, environment_variables). */
export function parseStringMap(field: string, raw: string | undefined | null): FieldResult<Record<string, string>> {
  const parsed = parseJsonField(field, raw)
  if (!parsed.ok || parsed.value === undefined) return parsed as FieldResult<Record<string, string>>
  if (!isRecord(parsed.value)) {
    return {ok: false, problem: {field, message: `${field}: expected a JSON object of string to string, got ${describe(parsed.value)}`}}
  }
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(parsed.value)) {
    if (typeof value !== 'string') {
      return {ok: false, problem: {field, message: `${field}: value of ${JSON.stringify(key)} must be a string, got ${describe(value)}`}}
    }
    out[key] = value
  }
  return {ok: true, value: out}
}

/** Any JSON object (resource_overrides): validated so bad data is reported, not written. */
export function parseObject(field: string, raw: string | undefined | null): FieldResult<Record<string, unknown>> {
  const parsed = parseJsonField(field, raw)
  if (!parsed.ok || parsed.value === undefined) return parsed as FieldResult<Record<string, unknown>>
  if (!isRecord(parsed.value)) {
    return {ok: false, problem: {field, message: `${field}: expected a JSON object, got ${describe(parsed.value)}`}}
  }
  return {ok: true, value: parsed.value}
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`
}

export {jsonEqual} from '../../util/json-equal.js'
