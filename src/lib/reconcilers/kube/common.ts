// What the kube reconcilers share: the reconcile contract they implement (the controller's
// Reconciler<T>, restated structurally so this folder does not depend on its file), the
// narrow views of the API they need, and per-reconcile call accounting.
import type {Project, ProjectSettings, Session, SessionStatusPatch} from '../../api/types.js'
import {currentCallScope, newCallScope, runInCallScope, type CallScope} from '../../kube/requests.js'

export interface ReconcileRequest<T> {
  key: string
  id: string
  /** The object from the informer cache; undefined when it was deleted. */
  object: T | undefined
  /** The last state the cache held, when the object was deleted. */
  deleted?: T
}

export interface ReconcileResult {
  requeueAfterMs?: number
}

export interface KubeReconciler<T> {
  reconcile(request: ReconcileRequest<T>, signal: AbortSignal): Promise<ReconcileResult | void>
}

/** The status sub-resource of the Ambient API (RestClient.patchStatus fits). */
export interface SessionStatusWriter {
  patchStatus(id: string, patch: SessionStatusPatch, options?: {signal?: AbortSignal}): Promise<Session>
}

export interface Lookup<T> {
  get(id: string): T | undefined
  list(): T[]
}

export type ProjectLookup = Lookup<Project>
export type ProjectSettingsLookup = Lookup<ProjectSettings>

/** Observes how many calls each reconcile made (kube and Ambient API). */
export type CallObserver = (resource: string, scope: CallScope) => void

/** Runs one reconcile in its own call scope and reports the counts. */
export async function accounted<R>(resource: string, observer: CallObserver | undefined, fn: () => Promise<R>): Promise<R> {
  if (!observer) return fn()
  const scope = newCallScope()
  try {
    return await runInCallScope(scope, fn)
  } finally {
    observer(resource, scope)
  }
}

/** Counts one Ambient API call in the current reconcile's scope. */
export function countApiCall(): void {
  const scope = currentCallScope()
  if (scope) scope.api++
}
