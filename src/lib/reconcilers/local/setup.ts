// `ambient run --mode local`, registered with the Manager: the runner lifecycle (adopt at start,
// stop all at shutdown) and the AG-UI proxy as runnables, one controller for sessions, and the
// runners and proxy URL for the live view. Its state folders are created now, named if they
// cannot be (exit 2).
import {sessionInFlight} from '../../api/phase-requests.js'
import type {RestClient} from '../../api/rest.js'
import type {Session} from '../../api/types.js'
import {ensureDir, type Config} from '../../config/index.js'
import type {Manager} from '../../controller/manager.js'
import type {ModeStatus} from '../../controller/status.js'
import type {Informer} from '../../informer/index.js'
import {createLocalMode, type LocalModeConfig} from './mode.js'

export interface LocalSetupOptions {
  config: LocalModeConfig & Pick<Config, 'WORKER_COUNT'>
  sessions: Informer<Session>
  rest: RestClient
  /** Overrides LOCAL_RUNNER_COMMAND (the embedded echo runner's argv). */
  runnerCommand?: readonly string[]
}

export function setupLocalMode(mgr: Manager, options: LocalSetupOptions): ModeStatus {
  const {config} = options
  ensureDir({dir: config.AMBIENT_STATE_DIR, variable: 'AMBIENT_STATE_DIR', purpose: 'the runner registry of local mode'})
  ensureDir({dir: config.LOCAL_WORKSPACE_ROOT, variable: 'LOCAL_WORKSPACE_ROOT', purpose: "the runners' workspaces"})
  const local = createLocalMode({config, rest: options.rest, sessions: options.sessions, logger: mgr.logger, runnerCommand: options.runnerCommand})
  for (const runnable of local.runnables) mgr.add(runnable)
  const sessions = mgr.addController<Session>({
    name: 'sessions',
    informer: options.sessions,
    reconciler: local.reconciler,
    workers: config.WORKER_COUNT,
    needsAttention: sessionInFlight,
  })
  local.connect((id) => sessions.enqueue(id))
  // Idempotent: the lifecycle runnable already stopped every runner, unless it never started.
  mgr.addCleanup('local-runners', () => local.stop())
  return {runners: () => local.runners(), proxyUrl: () => local.proxyUrl()}
}
