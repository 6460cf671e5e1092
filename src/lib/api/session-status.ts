// The session status fields of the Ambient API compared semantically, for whoever writes
// them (kube mode copies CR status, local mode its runners'): JSON strings are compared parsed
// and timestamps normalised, so the echo of our own write (re-serialised by the server) is
// never a change. Also the `conditions` document: read leniently, one condition set at a time.
import {normalizeRfc3339} from './time.js'
import type {Condition, Session, SessionStatusPatch} from './types.js'
import {isRecord} from '../util/is-record.js'
import {jsonEqual} from '../util/json-equal.js'
import {jsonShapeProblem} from '../util/json-shape.js'

/**
 * Deepest nesting a JSON document field may have. Real documents are a few levels deep; a
 * deeper one would overflow the stack of the code that compares and serialises it, so it is
 * treated as malformed instead.
 */
export const MAX_JSON_FIELD_DEPTH = 64

const JSON_FIELDS = ['conditions', 'reconciled_repos', 'reconciled_workflow'] as const
const TIME_FIELDS = ['start_time', 'completion_time'] as const
const SCALAR_FIELDS = ['phase', 'sdk_session_id', 'sdk_restart_count', 'kube_cr_uid', 'kube_namespace'] as const

/** The fields of `patch` that differ (semantically) from what the session holds. */
export function statusPatchDiff(session: Partial<Session>, patch: SessionStatusPatch): SessionStatusPatch {
  const out: SessionStatusPatch = {}
  const assign = <K extends keyof SessionStatusPatch>(k: K) => {
    out[k] = patch[k]
  }
  for (const k of SCALAR_FIELDS) {
    if (patch[k] !== undefined && patch[k] !== session[k]) assign(k)
  }
  for (const k of TIME_FIELDS) {
    const want = patch[k]
    if (want !== undefined && normalizeTime(want) !== normalizeTime(session[k])) assign(k)
  }
  for (const k of JSON_FIELDS) {
    const want = patch[k]
    if (want !== undefined && !jsonStringsEqual(want, session[k])) assign(k)
  }
  return out
}

export function statusPatchNeeded(session: Partial<Session>, patch: SessionStatusPatch): boolean {
  return Object.keys(statusPatchDiff(session, patch)).length > 0
}

/** Reads the `conditions` JSON of a session; malformed data counts as none. */
export function parseConditions(raw: string | undefined): Condition[] {
  if (!raw || jsonShapeProblem(raw, {maxDepth: MAX_JSON_FIELD_DEPTH})) return []
  try {
    const parsed: unknown = JSON.parse(raw)
    return Array.isArray(parsed) ? parsed.filter((c): c is Condition => isRecord(c) && typeof c.type === 'string') : []
  } catch {
    return []
  }
}

/**
 * Sets one condition in a `conditions` JSON string, keeping lastTransitionTime when the status
 * did not change (so repeating the same verdict writes nothing new).
 */
export function withCondition(raw: string | undefined, condition: Omit<Condition, 'lastTransitionTime'>, now: string): string {
  const conditions = parseConditions(raw)
  const i = conditions.findIndex((c) => c.type === condition.type)
  const previous = i >= 0 ? conditions[i] : undefined
  const next: Condition = {
    ...condition,
    lastTransitionTime: previous && previous.status === condition.status && previous.lastTransitionTime ? previous.lastTransitionTime : now,
  }
  if (i >= 0) conditions[i] = next
  else conditions.push(next)
  return JSON.stringify(conditions)
}

/** An RFC 3339 time in the canonical form, or the value as it was when it is not one. */
export function normalizeTime(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  try {
    return normalizeRfc3339(value)
  } catch {
    return value
  }
}

function jsonStringsEqual(a: string | undefined, b: string | undefined): boolean {
  const pa = parseLoose(a)
  const pb = parseLoose(b)
  if (pa.malformed || pb.malformed) return a === b
  return jsonEqual(normalizeTimes(pa.value), normalizeTimes(pb.value))
}

function parseLoose(raw: string | undefined): {malformed: boolean; value: unknown} {
  if (raw === undefined || raw.trim() === '') return {malformed: false, value: undefined}
  // Too deep to compare or copy without overflowing the stack: malformed.
  if (jsonShapeProblem(raw, {maxDepth: MAX_JSON_FIELD_DEPTH})) return {malformed: true, value: undefined}
  try {
    const value: unknown = JSON.parse(raw)
    // Empty documents and null say "nothing": equal to an absent field.
    if (value === null || (Array.isArray(value) && value.length === 0) || (isRecord(value) && Object.keys(value).length === 0)) {
      return {malformed: false, value: undefined}
    }
    return {malformed: false, value}
  } catch {
    return {malformed: true, value: undefined}
  }
}

const RFC3339_SHAPE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|z|[+-]\d{2}:\d{2})$/

function normalizeTimes(value: unknown): unknown {
  if (typeof value === 'string') return RFC3339_SHAPE.test(value) ? (normalizeTime(value) ?? value) : value
  if (Array.isArray(value)) return value.map(normalizeTimes)
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeTimes(v)]))
  return value
}
