// `ambient run --mode test`: one controller per resource with a reconciler that only counts, so
// the whole pipeline (list, watch, cache, queue, workers, metrics) runs for real with no side
// effects.
import {sessionInFlight} from '../../api/phase-requests.js'
import type {Project, ProjectSettings, Session} from '../../api/types.js'
import type {Manager} from '../../controller/manager.js'
import type {ModeStatus} from '../../controller/status.js'
import type {Informer} from '../../informer/index.js'
import {TallyReconciler} from './tally.js'

export interface TestModeOptions {
  informers: {sessions: Informer<Session>; projects: Informer<Project>; project_settings: Informer<ProjectSettings>}
  /** Reconcile workers per resource (WORKER_COUNT). */
  workers: number
}

export function setupTestMode(mgr: Manager, options: TestModeOptions): ModeStatus {
  const {informers, workers} = options
  mgr.addController<Session>({
    name: 'sessions',
    informer: informers.sessions,
    reconciler: new TallyReconciler(),
    workers,
    needsAttention: sessionInFlight,
  })
  mgr.addController<Project>({name: 'projects', informer: informers.projects, reconciler: new TallyReconciler(), workers})
  mgr.addController<ProjectSettings>({name: 'project_settings', informer: informers.project_settings, reconciler: new TallyReconciler(), workers})
  return {}
}
