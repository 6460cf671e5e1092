// Field-level difference between the CR kube mode wants and the one the API server holds,
// limited to the fields kube mode owns and taken after the CRD's defaults, so a value the
// server filled in (timeout 300, branch "main", autoPush false) is never an endless "fix".
import {ANNOTATION_SESSION_METADATA_KEYS, type AgenticSession, type AgenticSessionRepo, type AgenticSessionSpec} from '../../kube/types.js'
import {isRecord} from '../../util/is-record.js'
import {jsonEqual} from './json-fields.js'

/**
 * Defaults the AgenticSession CRD declares (deploy/crd.yaml, the platform's values; contract 3).
 * A real API server fills them into every object it stores or reads, so both sides of a
 * comparison are taken with them applied.
 */
export const CRD_DEFAULTS = {
  timeout: 300,
  repo: {branch: 'main', autoPush: false},
  llmSettings: {model: 'claude-3-7-sonnet-latest', temperature: 0.7, maxTokens: 4000},
  activeWorkflow: {branch: 'main'},
} as const

export interface Drift {
  /** Display path, e.g. `spec.timeout` or `metadata.labels["team"]`. */
  path: string
  segments: readonly string[]
  /** undefined = the field should be absent. */
  desired: unknown
  actual: unknown
}

/**
 * The spec as the API server stores it: defaults fill absent (or null) fields of objects that
 * exist; an absent object (llmSettings, activeWorkflow) stays absent, as on a real server.
 */
export function applyCrdDefaults(spec: AgenticSessionSpec | undefined): AgenticSessionSpec {
  const out: AgenticSessionSpec = {...(spec ?? {})}
  out.timeout ??= CRD_DEFAULTS.timeout
  if (Array.isArray(out.repos)) {
    out.repos = out.repos.map(
      (r): AgenticSessionRepo =>
        isRecord(r) ? {...r, branch: r.branch ?? CRD_DEFAULTS.repo.branch, autoPush: r.autoPush ?? CRD_DEFAULTS.repo.autoPush} : r,
    )
  }
  if (isRecord(out.llmSettings)) {
    const llm = out.llmSettings
    out.llmSettings = {
      ...llm,
      model: llm.model ?? CRD_DEFAULTS.llmSettings.model,
      temperature: llm.temperature ?? CRD_DEFAULTS.llmSettings.temperature,
      maxTokens: llm.maxTokens ?? CRD_DEFAULTS.llmSettings.maxTokens,
    }
  }
  if (isRecord(out.activeWorkflow))
    out.activeWorkflow = {...out.activeWorkflow, branch: out.activeWorkflow.branch ?? CRD_DEFAULTS.activeWorkflow.branch}
  return out
}

/** Keys the last write took from the session's labels/annotations (see the annotation). */
export function trackedMetadataKeys(annotations: Record<string, string> | undefined): {labels: string[]; annotations: string[]} {
  const raw = annotations?.[ANNOTATION_SESSION_METADATA_KEYS]
  if (!raw) return {labels: [], annotations: []}
  try {
    const parsed: unknown = JSON.parse(raw)
    if (!isRecord(parsed)) return {labels: [], annotations: []}
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
    return {labels: strings(parsed.labels), annotations: strings(parsed.annotations)}
  } catch {
    return {labels: [], annotations: []}
  }
}

/**
 * The owned fields where `actual` differs from `desired`, both taken after the CRD's defaults.
 * A drifted field's desired value is the defaulted one, written explicitly rather than as null:
 * on a cluster whose CRD declares other defaults, null would be refilled with those and the
 * difference would never go away; an explicit value converges under any CRD.
 */
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
  // llmSettings is removed as a whole when the session has no LLM settings: clearing its keys
  // one by one would leave `{}`, which the server fills with its defaults again, forever.
  if (d.llmSettings === undefined) value(['spec', 'llmSettings'], undefined, a.llmSettings)
  else map(['spec', 'llmSettings'], d.llmSettings, asRecord(a.llmSettings))
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
    if (isRecord(next)) node = next
    else {
      const created: Record<string, unknown> = {}
      node[seg] = created
      node = created
    }
  }
  const last = segments.at(-1)
  if (last !== undefined) node[last] = value
}

function displayPath(segments: readonly string[]): string {
  return segments.map((s, i) => (i === 0 ? s : /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join('')
}

/** Empty arrays and objects mean the same as an absent field for the fields kube mode owns. */
function emptyToUndefined(v: unknown): unknown {
  if (v === null || v === undefined) return undefined
  if (Array.isArray(v) && v.length === 0) return undefined
  if (isRecord(v) && Object.keys(v).length === 0) return undefined
  return v
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return isRecord(v) ? v : undefined
}
