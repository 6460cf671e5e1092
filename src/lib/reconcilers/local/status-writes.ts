// Status writes of local mode. A field is sent only when it differs semantically from what the
// session holds, and the session worked from is the newer of the informer's copy and what our
// own last write returned (kept in the session's run): the echo of a write finds nothing to do.
// Writes that move a session forward re-read it first (guard), so a stop the user asked for a
// moment ago is not overwritten by our older view.
import {compareRfc3339} from '../../api/time.js'
import {TERMINAL_PHASES, type Session, type SessionStatusPatch} from '../../api/types.js'
import {statusPatchDiff} from '../../api/session-status.js'
import type {SessionRuns} from './session-run.js'

/** The Ambient API as local mode uses it (RestClient fits). */
export interface SessionApi {
  patchStatus(id: string, patch: SessionStatusPatch, options?: {signal?: AbortSignal}): Promise<Session>
  get(resource: 'sessions', id: string, options?: {signal?: AbortSignal}): Promise<Session>
}

export interface Written {
  session: Session
  /** The re-read showed the phase had moved on (e.g. a stop): nothing was written. */
  superseded: boolean
}

export interface StatusWritesOptions {
  api: SessionApi
  runs: SessionRuns
  /** After shutdown began only final phases are written: a late Creating must not follow our Stopped. */
  closed: () => boolean
}

export class StatusWrites {
  readonly #api: SessionApi
  readonly #runs: SessionRuns
  readonly #closed: () => boolean
  #count = 0

  constructor(options: StatusWritesOptions) {
    this.#api = options.api
    this.#runs = options.runs
    this.#closed = options.closed
  }

  /** Status PATCHes sent so far. */
  get count(): number {
    return this.#count
  }

  /**
   * Sends the fields of `patch` that differ from `session`; nothing when none do. With `guard`,
   * re-reads the session first and writes nothing if its phase has moved on.
   */
  async write(session: Session, patch: SessionStatusPatch, signal: AbortSignal, guard: boolean): Promise<Written> {
    let base = session
    let diff = statusPatchDiff(base, patch)
    if (Object.keys(diff).length === 0) return {session: base, superseded: false}
    if (this.#closed() && !TERMINAL_PHASES.has(patch.phase ?? '')) return {session: base, superseded: false}
    if (guard) {
      const fresh = await this.#api.get('sessions', session.id, {signal})
      this.#remember(fresh)
      if ((fresh.phase ?? '') !== (session.phase ?? '') || fresh.kube_cr_uid) return {session: fresh, superseded: true}
      base = fresh
      diff = statusPatchDiff(base, patch)
      if (Object.keys(diff).length === 0) return {session: base, superseded: false}
    }
    this.#count++
    const updated = await this.#api.patchStatus(session.id, diff, {signal})
    this.#remember(updated)
    return {session: updated, superseded: false}
  }

  #remember(session: Session): void {
    const run = this.#runs.for(session.id)
    if (run.latest && newerOrEqual(run.latest, session)) return
    run.latest = session
  }

  /** The newer of the informer's copy and what our own last write returned. */
  freshest(session: Session): Session {
    const run = this.#runs.get(session.id)
    const mine = run?.latest
    if (!run || !mine) return session
    if (newerOrEqual(session, mine)) {
      run.latest = undefined
      return session
    }
    return mine
  }

  /** The newer of `cached` (the informer's) and our last write's answer, outside a reconcile. */
  newest(id: string, cached: Session | undefined): Session | undefined {
    const mine = this.#runs.get(id)?.latest
    if (!cached) return mine
    if (!mine) return cached
    return newerOrEqual(cached, mine) ? cached : mine
  }
}

/** `a` is at least as new as `b` (by updated_at; unparseable timestamps trust `a`). */
function newerOrEqual(a: Session, b: Session): boolean {
  try {
    return compareRfc3339(a.updated_at, b.updated_at) >= 0
  } catch {
    return true
  }
}
