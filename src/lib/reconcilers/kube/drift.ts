// Field-level difference between the CR kube mode wants and the one the API server holds,
// limited to the fields kube mode owns and taken after the CRD's defaults, so a value the
// server filled in (timeout 300, branch "main", autoPush false) is never an endless "fix".
import {ANNOTATION_SESSION_METADATA_KEYS, type AgenticSession, type AgenticSessionRepo, type AgenticSessionSpec} from '../../kube/types.js'
import {isPlainObject, jsonEqual} from './json-fields.js'

/** Defaults the AgenticSession CRD declares (deploy/crd.yaml). */
export const CRD_DEFAULTS = {timeout: 300, branch: 'main', autoPush: false} as const

export interface Drift {
  /** Display path, e.g. `spec.timeout` or `metadata.labels["team"]`. */
  path: string
  segments: readonly string[]
  /** undefined = the field should be absent. */
  desired: unknown
  actual: unknown
}

export function applyCrdDefaults(spec: AgenticSessionSpec | undefined): AgenticSessionSpec {
  const out: AgenticSessionSpec = {...(spec ?? {})}
  if (out.timeout === undefined) out.timeout = CRD_DEFAULTS.timeout
  if (Array.isArray(out.repos)) {
    out.repos = out.repos.map((r): AgenticSessionRepo => ({
      ...r,
      branch: r.branch ?? CRD_DEFAULTS.branch,
      autoPush: r.autoPush ?? CRD_DEFAULTS.autoPush,
    }))
  }
  return out
}

/** Keys the last write took from the session's labels/annotations (see the annotation). */
export function trackedMetadataKeys(annotations: Record<string, string> | undefined): {labels: string[]; annotations: string[]} {
  const raw = annotations?.[ANNOTATION_SESSION_METADATA_KEYS]
  if (!raw) return {labels: [], annotations: []}
  try {
    const parsed: unknown = JSON.parse(raw)
    if (!isPlainObject(parsed)) return {labels: [], annotations: []}
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
    return {labels: strings(parsed.labels), annotations: strings(parsed.annotations)}
  } catch {
    return {labels: [], annotations: []}
  }
}

export function specDrift(desired: AgenticSession, actual: AgenticSession): Drift[] {
  const drifts: Drift[] = []
  const d = applyCrdDefaults(desired.spec)
  const a = applyCrdDefaults(actual.spec)
  const value = (segments: string[], dv: unknown, av: unknown) => {
    const dn = emptyToUndefined(dv)
    const an = emptyToUndefined(av)
    if (!jsonEqual(dn, an)) drifts.push({path: displayPath(segments), segments, desired: dn, actual: an})
  }
  const map = (segments: string[], dm: Record<string, unknown> | undefined, am: Record<string, unknown> | undefined, owned?: Iterable<string>) => {
    const keys = new Set<string>(owned ?? [...Object.keys(dm ?? {}), ...Object.keys(am ?? {})])
    for (const k of Object.keys(dm ?? {})) keys.add(k)
    for (const k of [...keys].sort()) value([...segments, k], dm?.[k], am?.[k])
  }

  value(['spec', 'displayName'], d.displayName, a.displayName)
  value(['spec', 'initialPrompt'], d.initialPrompt, a.initialPrompt)
  value(['spec', 'timeout'], d.timeout, a.timeout)
  value(['spec', 'repos'], d.repos, a.repos)
  map(['spec', 'llmSettings'], d.llmSettings, asRecord(a.llmSettings))
  value(['spec', 'userContext', 'userId'], d.userContext?.userId, asRecord(a.userContext)?.userId)
  map(['spec', 'environmentVariables'], d.environmentVariables, asRecord(a.environmentVariables))

  // Labels/annotations: the desired keys plus those an earlier write took from the session
  // (so a key removed from the session is removed); keys others added are left alone.
  const tracked = trackedMetadataKeys(actual.metadata.annotations)
  const dLabels = desired.metadata.labels ?? {}
  const dAnnotations = desired.metadata.annotations ?? {}
  map(['metadata', 'labels'], dLabels, actual.metadata.labels, [...Object.keys(dLabels), ...tracked.labels])
  map(['metadata', 'annotations'], dAnnotations, actual.metadata.annotations, [
    ...Object.keys(dAnnotations),
    ...tracked.annotations,
    ANNOTATION_SESSION_METADATA_KEYS,
  ])
  return drifts
}

/** A JSON merge patch (RFC 7386) that sets every drifted field; null removes one. */
export function driftPatch(drifts: readonly Drift[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {}
  for (const drift of drifts) setPath(patch, drift.segments, drift.desired === undefined ? null : drift.desired)
  return patch
}

/** Sets `value` at a path of object keys, creating the objects on the way. */
export function setPath(doc: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let node = doc
  for (const seg of segments.slice(0, -1)) {
    const next = node[seg]
    if (isPlainObject(next)) node = next
    else {
      const created: Record<string, unknown> = {}
      node[seg] = created
      node = created
    }
  }
  node[segments[segments.length - 1]] = value
}

function displayPath(segments: readonly string[]): string {
  return segments.map((s, i) => (i === 0 ? s : /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join('')
}

/** Empty arrays and objects mean the same as an absent field for the fields kube mode owns. */
function emptyToUndefined(v: unknown): unknown {
  if (v === null || v === undefined) return undefined
  if (Array.isArray(v) && v.length === 0) return undefined
  if (isPlainObject(v) && Object.keys(v).length === 0) return undefined
  return v
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return isPlainObject(v) ? v : undefined
}
