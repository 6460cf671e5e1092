// Sessions -> AgenticSession CRs, level-triggered: from the session (or its absence) and the CR
// in the cache it computes what must change, writes only that, and copies the CR's status back
// to the Ambient API. A reconcile caused by the echo of its own writes finds nothing to do and
// makes no calls: the cache overlays our unseen CR writes, and the session it works from is the
// newest of the informer's copy and the one our last status PATCH returned.
//
// Phases: the CR (its operator) owns the phase, except for two user requests the Ambient API
// records first: `Stopping` (POST /stop) is forwarded to the CR's status (phase Stopping,
// stoppedReason user; the CRD has no stop field in spec), and `Pending` set after the CR
// finished (POST /start, detected by updated_at later than the CR's completionTime) resets
// the CR's status to Pending. A session whose data is invalid gets a `Reconciled=False`
// condition and an Event; it is also marked Failed if it never reached Kubernetes (no CR,
// phase empty or Pending), else its CR keeps the last valid spec and keeps reporting status.
import {keepPendingRequest, pendingPhaseRequest, type ObservedRun} from '../../api/phase-requests.js'
import {compareRfc3339, fromMicros} from '../../api/time.js'
import {TERMINAL_PHASES, type Condition, type Session, type SessionStatusPatch} from '../../api/types.js'
import {AmbientError, errorMessage} from '../../errors.js'
import {silentLogger, type Logger} from '../../log.js'
import type {KubeCache} from '../../kube/cache.js'
import {INDEX_SESSION_ID} from '../../kube/caches.js'
import type {KubeClient} from '../../kube/client.js'
import {isAlreadyExists, isConflict, isNotFound} from '../../kube/errors.js'
import type {EventRecorder, EventReference} from '../../kube/events.js'
import {AGENTIC_SESSION_API_VERSION, AGENTIC_SESSION_KIND, LABEL_SESSION_ID, type AgenticSession} from '../../kube/types.js'
import {
  accounted,
  countApiCall,
  type CallObserver,
  type KubeReconciler,
  type ReconcileRequest,
  type ReconcileResult,
  type SessionStatusWriter,
} from './common.js'
import {desiredAgenticSession, driftPatch, namespaceForProject, specDrift, type DesiredSession} from './desired.js'
import {parseConditions, statusPatchDiff, statusToApi} from './status.js'
import type {Project} from '../../api/types.js'

export const RECONCILED_CONDITION = 'Reconciled'
/** Phases of a session that wants to run but has not reached Kubernetes yet. */
const NOT_STARTED: ReadonlySet<string> = new Set(['', 'Pending'])

export interface SessionReconcilerOptions {
  kube: KubeClient
  cache: KubeCache<AgenticSession>
  status: SessionStatusWriter
  /** Known projects, so a session lands in its project's namespace (lower-cased name). */
  projects?: {get(id: string): Project | undefined}
  recorder?: EventRecorder
  /** Where Events about sessions without a CR go (the control plane's namespace). */
  controlPlaneNamespace: string
  logger?: Logger
  now?: () => number
  /** Re-read-and-retry rounds after 409 Conflict before giving up to the work queue. */
  maxConflictRetries?: number
  onCalls?: CallObserver
}

export class NamespaceMissingError extends AmbientError {
  constructor(
    readonly namespace: string,
    options?: {cause?: unknown},
  ) {
    super(`namespace ${JSON.stringify(namespace)} does not exist (yet)`, 'ERR_NAMESPACE_MISSING', options)
  }
}

interface Verdict {
  reason: string
  message: string
}

export class SessionReconciler implements KubeReconciler<Session> {
  private readonly options: SessionReconcilerOptions
  private readonly logger: Logger
  private readonly now: () => number
  /** What our last status PATCH returned, until the informer has caught up with it. */
  private readonly latest = new Map<string, Session>()

  constructor(options: SessionReconcilerOptions) {
    this.options = options
    this.logger = (options.logger ?? silentLogger).child({reconciler: 'sessions'})
    this.now = options.now ?? Date.now
  }

  reconcile(request: ReconcileRequest<Session>, signal: AbortSignal): Promise<ReconcileResult | void> {
    return accounted('sessions', this.options.onCalls, () => this.run(request, signal))
  }

  private async run(request: ReconcileRequest<Session>, signal: AbortSignal): Promise<ReconcileResult | void> {
    const {cache} = this.options
    if (!request.object) {
      this.latest.delete(request.id)
      for (const cr of cache.byIndex(INDEX_SESSION_ID, request.id)) await this.deleteCr(cr, signal)
      return
    }
    const session = this.freshest(request.object)
    const desired = desiredAgenticSession(session, {projectNamespace: (id) => this.projectNamespace(id)})
    const owned = cache.byIndex(INDEX_SESSION_ID, session.id)
    if (!desired.ok) {
      await this.writeStatus(session, owned[0], {verdict: desired}, signal)
      return
    }
    // The CR found by the session-id label is the session's CR, even if the project was renamed
    // since it was created: moving a running session would kill it. Duplicates are removed.
    let cr = owned.find((o) => o.metadata.namespace === desired.namespace && o.metadata.name === desired.name) ?? owned[0]
    for (const other of owned) if (other !== cr) await this.deleteCr(other, signal)
    if (!cr) {
      const squatter = cache.get(desired.namespace, desired.name)
      if (squatter) {
        await this.writeStatus(session, undefined, {verdict: nameConflict(desired, squatter.metadata.labels?.[LABEL_SESSION_ID])}, signal)
        return
      }
      const plan = planForMissingCr(session)
      if (plan === 'none') {
        await this.writeStatus(session, undefined, {}, signal)
        return
      }
      if (plan === 'lost') {
        await this.writeStatus(session, undefined, {lost: true}, signal)
        return
      }
      const created = await this.create(session, desired, signal)
      if ('conflict' in created) {
        await this.writeStatus(session, undefined, {verdict: created.conflict}, signal)
        return
      }
      cr = created.cr
    } else {
      cr = await this.update(desired.object, cr, signal)
    }
    cr = await this.forwardPhaseRequest(session, cr, signal)
    await this.writeStatus(session, cr, {}, signal)
  }

  private projectNamespace(projectId: string): string | undefined {
    const project = this.options.projects?.get(projectId)
    return project ? namespaceForProject(project) : undefined
  }

  /** The newer of the informer's copy and what our own last write returned. */
  private freshest(session: Session): Session {
    const mine = this.latest.get(session.id)
    if (!mine) return session
    let informerIsCurrent = true
    try {
      informerIsCurrent = compareRfc3339(session.updated_at, mine.updated_at) >= 0
    } catch {
      // Unparseable timestamps: trust the informer.
    }
    if (informerIsCurrent) {
      this.latest.delete(session.id)
      return session
    }
    return mine
  }

  private async create(
    session: Session,
    desired: Extract<DesiredSession, {ok: true}>,
    signal: AbortSignal,
  ): Promise<{cr: AgenticSession} | {conflict: Verdict}> {
    const {kube, cache} = this.options
    try {
      const cr = await kube.agenticSessions.create(desired.object, {signal})
      cache.observeWrite(cr)
      this.logger.debug({session: session.id, cr: `${desired.namespace}/${desired.name}`}, 'created AgenticSession')
      return {cr}
    } catch (err) {
      if (isAlreadyExists(err)) {
        // Another writer was faster, or an unlabelled CR of that name exists: read it and
        // treat this as an update, unless it belongs to a different session.
        const existing = await kube.agenticSessions.get(desired.namespace, desired.name, {signal})
        const owner = existing.metadata.labels?.[LABEL_SESSION_ID]
        if (owner && owner !== session.id) return {conflict: nameConflict(desired, owner)}
        cache.observeWrite(existing)
        return {cr: await this.update(desired.object, existing, signal)}
      }
      if (isNotFound(err)) throw new NamespaceMissingError(desired.namespace, {cause: err})
      // Cancelled (shutdown, or the lease lost) is not a failure to report.
      if (!signal.aborted) this.event(session, undefined, 'Warning', 'CreateFailed', 'Create', errorMessage(err))
      throw err
    }
  }

  /** Merge-patches the drifted fields; on 409 re-reads, recomputes and tries again. */
  private async update(desired: AgenticSession, cr: AgenticSession, signal: AbortSignal): Promise<AgenticSession> {
    const {kube, cache} = this.options
    const namespace = cr.metadata.namespace ?? ''
    const name = cr.metadata.name ?? ''
    const max = this.options.maxConflictRetries ?? 5
    let current = cr
    for (let attempt = 0; ; attempt++) {
      const drift = specDrift(desired, current)
      if (drift.length === 0) return current
      try {
        const updated = await kube.agenticSessions.patch(namespace, name, driftPatch(drift), {signal})
        cache.observeWrite(updated)
        this.logger.debug({cr: `${namespace}/${name}`, fields: drift.map((d) => d.path)}, 'updated AgenticSession')
        return updated
      } catch (err) {
        if (!isConflict(err) || attempt >= max) throw err
        current = await kube.agenticSessions.get(namespace, name, {signal})
        cache.observeWrite(current)
      }
    }
  }

  /** Forwards the user's stop/restart to the CR's status; returns the CR as it now is. */
  private async forwardPhaseRequest(session: Session, cr: AgenticSession, signal: AbortSignal): Promise<AgenticSession> {
    const crPhase = cr.status?.phase ?? ''
    const request = pendingPhaseRequest(session, observedRun(cr))
    if (request === 'stop') {
      const updated = await this.patchCrStatus(cr, {phase: 'Stopping', stoppedReason: 'user'}, signal)
      this.event(
        session,
        updated,
        'Normal',
        'StopRequested',
        'Stop',
        `phase ${crPhase || '(none)'} -> Stopping: stop requested through the Ambient API`,
      )
      return updated
    }
    if (request === 'restart') {
      const updated = await this.patchCrStatus(cr, {phase: 'Pending', completionTime: null, stoppedReason: null}, signal)
      this.event(session, updated, 'Normal', 'RestartRequested', 'Start', `phase ${crPhase} -> Pending: start requested through the Ambient API`)
      return updated
    }
    return cr
  }

  private async patchCrStatus(cr: AgenticSession, status: Record<string, unknown>, signal: AbortSignal): Promise<AgenticSession> {
    const {kube, cache} = this.options
    const namespace = cr.metadata.namespace ?? ''
    const name = cr.metadata.name ?? ''
    const max = this.options.maxConflictRetries ?? 5
    for (let attempt = 0; ; attempt++) {
      try {
        const updated = await kube.agenticSessions.patchStatus(namespace, name, {status}, {signal})
        cache.observeWrite(updated)
        return updated
      } catch (err) {
        if (!isConflict(err) || attempt >= max) throw err
        cache.observeWrite(await kube.agenticSessions.get(namespace, name, {signal}))
      }
    }
  }

  private async deleteCr(cr: AgenticSession, signal: AbortSignal): Promise<void> {
    const namespace = cr.metadata.namespace ?? ''
    const name = cr.metadata.name ?? ''
    try {
      // The uid precondition protects a same-named successor created meanwhile.
      await this.options.kube.agenticSessions.delete(namespace, name, {uid: cr.metadata.uid, signal})
      this.logger.debug({cr: `${namespace}/${name}`}, 'deleted AgenticSession')
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err
    }
    this.options.cache.observeDelete(namespace, name)
  }

  /** Mirrors the CR (or our verdict) into the session's status, writing only what differs. */
  private async writeStatus(
    session: Session,
    cr: AgenticSession | undefined,
    how: {verdict?: Verdict; lost?: boolean},
    signal: AbortSignal,
  ): Promise<void> {
    const nowIso = fromMicros(BigInt(Math.round(this.now())) * 1000n)
    let patch: SessionStatusPatch = cr ? statusToApi(cr.status, cr) : {}
    const previous = parseConditions(session.conditions).find((c) => c.type === RECONCILED_CONDITION)
    const failure: Verdict | undefined =
      how.verdict ??
      (how.lost ? {reason: 'CustomResourceDeleted', message: 'the AgenticSession of this session was deleted outside the control plane'} : undefined)
    if (failure) {
      const base = cr ? parseConditions(patch.conditions) : parseConditions(session.conditions)
      const since = previous?.status === 'False' && previous.lastTransitionTime ? previous.lastTransitionTime : nowIso
      const condition: Condition = {
        type: RECONCILED_CONDITION,
        status: 'False',
        reason: failure.reason,
        message: failure.message,
        lastTransitionTime: since,
      }
      patch.conditions = JSON.stringify([...base.filter((c) => c.type !== RECONCILED_CONDITION), condition])
      const neverRan = !cr && !session.kube_cr_uid && NOT_STARTED.has(session.phase ?? '')
      if (neverRan || how.lost) {
        patch.phase = how.lost && session.phase === 'Stopping' ? 'Stopped' : 'Failed'
        patch.completion_time = session.completion_time ?? nowIso
      }
    } else if (!cr && previous?.status === 'False') {
      // Valid again with nothing to mirror: drop our old verdict.
      patch.conditions = JSON.stringify(parseConditions(session.conditions).filter((c) => c.type !== RECONCILED_CONDITION))
    }
    // A user request not yet visible on the CR must not be overwritten by the CR's old phase.
    if (cr && !failure) patch = keepPendingRequest(session, patch, observedRun(cr))
    const diff = statusPatchDiff(session, patch)
    if (Object.keys(diff).length === 0) return
    countApiCall()
    const updated = await this.options.status.patchStatus(session.id, diff, {signal})
    this.latest.set(session.id, updated)
    if (failure) {
      this.logger.warn({session: session.id, reason: failure.reason}, failure.message)
      this.event(session, cr, 'Warning', failure.reason, 'Reconcile', failure.message)
    }
  }

  private event(session: Session, cr: AgenticSession | undefined, type: 'Normal' | 'Warning', reason: string, action: string, note: string): void {
    const recorder = this.options.recorder
    if (!recorder) return
    const regarding: EventReference = cr
      ? {
          apiVersion: AGENTIC_SESSION_API_VERSION,
          kind: AGENTIC_SESSION_KIND,
          name: cr.metadata.name ?? '',
          namespace: cr.metadata.namespace,
          uid: cr.metadata.uid,
        }
      : {apiVersion: 'ambient-code.io/v1', kind: 'Session', name: session.id, namespace: this.options.controlPlaneNamespace}
    recorder.record({regarding, type, reason, action, note})
  }
}

function nameConflict(desired: {namespace: string; name: string}, owner: string | undefined): Verdict {
  return {
    reason: 'NameConflict',
    message: `AgenticSession ${desired.namespace}/${desired.name} belongs to session ${owner ?? '(unknown)'}; set a distinct kube_cr_name`,
  }
}

/**
 * What to do when the session has no CR: create it when the session wants to run, nothing when
 * it is over, and report it lost when it was running on a CR that has since been deleted.
 */
export function planForMissingCr(session: Session): 'create' | 'none' | 'lost' {
  const phase = session.phase ?? ''
  if (NOT_STARTED.has(phase)) return 'create'
  if (TERMINAL_PHASES.has(phase)) return 'none'
  if (session.kube_cr_uid || phase === 'Stopping') return 'lost'
  return 'create'
}

/** The CR's status as the run the stop/restart rule looks at. */
export function observedRun(cr: AgenticSession): ObservedRun {
  return {phase: cr.status?.phase, completionTime: cr.status?.completionTime}
}
