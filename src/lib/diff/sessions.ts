// Sessions vs AgenticSession CRs: for each session, what the kube session reconciler would do
// on its next pass (create, patch drifted spec, forward a stop/restart, copy status back), and
// for each managed CR no session claims, the delete. Mirrors src/lib/reconcilers/kube/sessions.ts
// decision by decision, on the same desired-state functions, so a converged control plane shows
// no drift.
import {keepPendingRequest, pendingPhaseRequest} from '../api/phase-requests.js'
import type {Project, Session, SessionStatusPatch} from '../api/types.js'
import {LABEL_PROJECT_ID, LABEL_SESSION_ID, objectKey, type AgenticSession, type AgenticSessionStatus} from '../kube/types.js'
import {
  desiredAgenticSession,
  namespaceForProject,
  parseConditions,
  sessionLocation,
  specDrift,
  statusPatchDiff,
  statusToApi,
} from '../reconcilers/kube/desired.js'
import {observedRun, planForMissingCr} from '../reconcilers/kube/sessions.js'
import {displayValue, field, leafFields} from './fields.js'
import type {DiffEntry, DiffField} from './types.js'

/** The condition the kube session reconciler keeps its verdicts in. */
const RECONCILED_CONDITION = 'Reconciled'

export interface SessionsDiffInput {
  sessions: readonly Session[]
  /** Every known project: a session's CR lives in its project's namespace (lower-cased name). */
  projects: readonly Project[]
  /** Every CR carrying the managed label. */
  agenticSessions: readonly AgenticSession[]
  /**
   * Restricts orphan detection to CRs labelled with one of these project ids (`--project`):
   * the sessions list is then only that project's, so other CRs are out of view, not orphans.
   */
  projectIds?: ReadonlySet<string>
}

export function diffSessions(input: SessionsDiffInput): DiffEntry[] {
  const entries: DiffEntry[] = []
  const projectsById = new Map(input.projects.map((p) => [p.id, p]))
  const projectNamespace = (id: string) => {
    const p = projectsById.get(id)
    return p ? namespaceForProject(p) : undefined
  }
  const sessionIds = new Set(input.sessions.map((s) => s.id))
  const byKey = new Map<string, AgenticSession>()
  const bySession = new Map<string, AgenticSession[]>()
  for (const cr of input.agenticSessions) {
    byKey.set(objectKey(cr.metadata), cr)
    const id = cr.metadata.labels?.[LABEL_SESSION_ID]
    if (id) bySession.set(id, [...(bySession.get(id) ?? []), cr])
  }

  for (const session of input.sessions) {
    const owned = bySession.get(session.id) ?? []
    const desired = desiredAgenticSession(session, {projectNamespace})
    if (!desired.ok) {
      const where = sessionLocation(session, {projectNamespace})
      entries.push({
        action: 'invalid',
        resource: 'sessions',
        id: session.id,
        kind: 'AgenticSession',
        ...where,
        fields: [],
        reason: desired.reason,
        message: desired.message,
      })
      continue
    }
    // The CR found by the session-id label is the session's, even in another namespace (its
    // project was renamed); more than one: the others are removed.
    const cr = owned.find((o) => o.metadata.namespace === desired.namespace && o.metadata.name === desired.name) ?? owned[0]
    for (const other of owned) {
      if (!cr || other === cr) continue
      entries.push(
        deleteEntry(
          other,
          session.id,
          'Duplicate',
          `a second AgenticSession of session ${session.id}; the reconciler keeps ${objectKey(cr.metadata)}`,
        ),
      )
    }
    const base = {resource: 'sessions' as const, id: session.id, kind: 'AgenticSession' as const, namespace: desired.namespace, name: desired.name}
    if (!cr) {
      const squatter = byKey.get(objectKey(desired.object.metadata))
      const owner = squatter?.metadata.labels?.[LABEL_SESSION_ID]
      // A squatter whose session is gone is deleted (orphan below), then this session's CR is created.
      if (squatter && (!owner || sessionIds.has(owner))) {
        entries.push({
          ...base,
          action: 'invalid',
          fields: [],
          reason: 'NameConflict',
          message: `AgenticSession ${desired.namespace}/${desired.name} belongs to session ${owner ?? '(unknown)'}; set a distinct kube_cr_name`,
        })
        continue
      }
      const plan = planForMissingCr(session)
      if (plan === 'create') {
        const o = desired.object
        entries.push({
          ...base,
          action: 'create',
          fields: leafFields({metadata: {labels: o.metadata.labels, annotations: o.metadata.annotations}, spec: o.spec}, 'desired'),
        })
      } else if (plan === 'lost') {
        const phase = session.phase === 'Stopping' ? 'Stopped' : 'Failed'
        entries.push({
          ...base,
          action: 'status',
          kind: 'Session',
          fields: [field(['phase'], phase, session.phase)],
          reason: 'CustomResourceDeleted',
          message: 'the AgenticSession of this session was deleted outside the control plane',
        })
      } else {
        // Over, nothing to mirror: an old failure verdict of ours is dropped once valid again.
        const previous = parseConditions(session.conditions).find((c) => c.type === RECONCILED_CONDITION)
        if (previous?.status === 'False') {
          const patch = {conditions: JSON.stringify(parseConditions(session.conditions).filter((c) => c.type !== RECONCILED_CONDITION))}
          const status = statusFields(session, patch)
          if (status.length > 0) entries.push({...base, action: 'status', kind: 'Session', fields: status, reason: 'StatusNotCopied'})
        }
      }
      continue
    }

    const located = {namespace: cr.metadata.namespace ?? desired.namespace, name: cr.metadata.name ?? desired.name}
    const updates: DiffField[] = specDrift(desired.object, cr).map((d) => field(d.segments, d.desired, d.actual))
    const forwarded = forwardedStatus(session, cr)
    if (forwarded) updates.push(field(['status', 'phase'], forwarded.phase, cr.status?.phase))
    if (updates.length > 0) entries.push({...base, ...located, action: 'update', fields: updates, reason: forwarded?.reason})

    const after: AgenticSession = forwarded ? {...cr, status: forwarded.status} : cr
    // A user request not yet visible on the CR must not be overwritten by the CR's old phase.
    const patch = keepPendingRequest(session, statusToApi(after.status, after), observedRun(after))
    const status = statusFields(session, patch)
    if (status.length > 0) entries.push({...base, ...located, action: 'status', kind: 'Session', fields: status, reason: 'StatusNotCopied'})
  }

  for (const cr of input.agenticSessions) {
    const owner = cr.metadata.labels?.[LABEL_SESSION_ID]
    // Without the session-id label no reconcile ever reaches the CR: not ours to delete.
    if (!owner || sessionIds.has(owner)) continue
    if (input.projectIds && !input.projectIds.has(cr.metadata.labels?.[LABEL_PROJECT_ID] ?? '')) continue
    entries.push(deleteEntry(cr, owner, 'SessionDeleted', `session ${owner} does not exist`))
  }
  return entries
}

function deleteEntry(cr: AgenticSession, sessionId: string, reason: string, message: string): DiffEntry {
  return {
    action: 'delete',
    resource: 'sessions',
    id: sessionId,
    kind: 'AgenticSession',
    namespace: cr.metadata.namespace,
    name: cr.metadata.name,
    fields: leafFields({metadata: {labels: cr.metadata.labels}, spec: cr.spec}, 'actual'),
    reason,
    message,
  }
}

/** The status fields the reconciler would PATCH, desired = from the CR, actual = the session's. */
function statusFields(session: Session, patch: SessionStatusPatch): DiffField[] {
  const diff = statusPatchDiff(session, patch)
  return (Object.keys(diff) as (keyof SessionStatusPatch)[]).map((k) => field([k], displayValue(diff[k]), displayValue(session[k])))
}

/**
 * The status the reconciler would write onto the CR to forward a user's request: `Stopping`
 * (POST /stop) or `Pending` after the CR finished (POST /start).
 */
function forwardedStatus(session: Session, cr: AgenticSession): {phase: string; status: AgenticSessionStatus; reason: string} | undefined {
  const request = pendingPhaseRequest(session, observedRun(cr))
  if (request === 'stop') {
    return {phase: 'Stopping', status: {...cr.status, phase: 'Stopping', stoppedReason: 'user'}, reason: 'StopRequested'}
  }
  if (request === 'restart') {
    const status: AgenticSessionStatus = {...cr.status, phase: 'Pending'}
    delete status.completionTime
    delete status.stoppedReason
    return {phase: 'Pending', status, reason: 'RestartRequested'}
  }
  return undefined
}
