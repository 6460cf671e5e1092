// Local mode: sessions vs runner processes on this machine. Mirrors the local reconciler's
// decisions (src/lib/reconcilers/local/reconciler.ts) for the states that are not transient:
// a session that wants a runner and has none, a runner nobody wants, a phase that lags behind.
// Sessions with kube_cr_uid (a CR exists) belong to Kubernetes and are not compared; every
// session has a kube_cr_name (the real server sets it to the id), so that says nothing.
import {SESSION_PHASES, TERMINAL_PHASES, type Session} from '../api/types.js'
import type {RunnerStatus} from '../process/runner.js'
import {sessionProblem} from '../reconcilers/local/validate.js'
import {field} from './fields.js'
import {compareEntries, type DiffEntry} from './types.js'

/** One record of the runner registry, with whether its process still runs. */
export type LocalRunnerState = Pick<RunnerStatus, 'sessionId' | 'pid' | 'port' | 'alive'>

export interface LocalDiffInput {
  sessions: readonly Session[]
  runners: readonly LocalRunnerState[]
  /** Sessions with a pending stop request (`ambient runners kill`): a missing runner then reads as Stopped. */
  stopRequested?: ReadonlySet<string>
  /** `--project`: only sessions with these project ids (runners without a session are then out of view). */
  projectIds?: ReadonlySet<string>
}

const KNOWN_PHASES: ReadonlySet<string> = new Set(SESSION_PHASES)

export function diffLocal(input: LocalDiffInput): DiffEntry[] {
  const entries: DiffEntry[] = []
  const live = new Map<string, LocalRunnerState>()
  for (const r of input.runners) if (r.alive) live.set(r.sessionId, r)
  const sessions = new Map(input.sessions.map((s) => [s.id, s]))
  const inScope = (s: Session) => !input.projectIds || input.projectIds.has(s.project_id ?? '')

  for (const session of input.sessions) {
    if (session.kube_cr_uid || !inScope(session)) continue
    const id = session.id
    const phase = session.phase ?? ''
    const runner = live.get(id)
    const runnerEntry = {resource: 'sessions' as const, id, kind: 'Runner' as const, name: id}
    const statusEntry = {resource: 'sessions' as const, id, kind: 'Session' as const, name: id, action: 'status' as const}
    if (TERMINAL_PHASES.has(phase)) {
      if (runner)
        entries.push({
          ...runnerEntry,
          action: 'delete',
          fields: runnerFields(runner),
          reason: 'SessionOver',
          message: `the session is ${phase} but its runner still runs: it would be stopped`,
        })
      continue
    }
    if (phase === 'Stopping') {
      if (runner)
        entries.push({
          ...runnerEntry,
          action: 'delete',
          fields: runnerFields(runner),
          reason: 'StopRequested',
          message: 'stop requested: the runner would be terminated',
        })
      else
        entries.push({...statusEntry, fields: [field(['phase'], 'Stopped', phase)], reason: 'RunnerGone', message: 'no runner: the stop is complete'})
      continue
    }
    if (phase === '' || phase === 'Pending') {
      if (runner) {
        entries.push({
          ...statusEntry,
          fields: [field(['phase'], 'Creating', phase || undefined)],
          reason: 'RunnerSpawned',
          message: `a runner (pid ${runner.pid}) runs but the phase was not advanced`,
        })
        continue
      }
      const problem = sessionProblem(session)
      if (problem) entries.push({...runnerEntry, action: 'invalid', fields: [], reason: 'InvalidSession', message: problem.message})
      else
        entries.push({
          ...runnerEntry,
          action: 'create',
          fields: [field(['session'], id, undefined)],
          reason: 'RunnerMissing',
          message: 'a runner would be spawned',
        })
      continue
    }
    if (!KNOWN_PHASES.has(phase)) {
      if (!runner)
        entries.push({
          ...statusEntry,
          fields: [field(['phase'], 'Failed', phase)],
          reason: 'UnknownPhase',
          message: `phase ${JSON.stringify(phase)} is not one of ${SESSION_PHASES.join(', ')}`,
        })
      continue
    }
    // Creating or Running: a runner must exist; Creating with one waits for its health check.
    if (!runner) {
      const stopped = input.stopRequested?.has(id) ?? false
      entries.push({
        ...statusEntry,
        fields: [field(['phase'], stopped ? 'Stopped' : 'Failed', phase)],
        reason: 'RunnerLost',
        message: stopped ? 'the runner was stopped on request' : 'no live runner process exists for this session',
      })
    }
  }

  if (!input.projectIds) {
    for (const runner of live.values()) {
      if (sessions.has(runner.sessionId)) continue
      entries.push({
        resource: 'sessions',
        id: runner.sessionId,
        kind: 'Runner',
        name: runner.sessionId,
        action: 'delete',
        fields: runnerFields(runner),
        reason: 'SessionDeleted',
        message: `session ${runner.sessionId} does not exist: its runner would be stopped`,
      })
    }
  }
  return entries.sort(compareEntries)
}

function runnerFields(runner: LocalRunnerState) {
  return [field(['pid'], undefined, runner.pid), field(['port'], undefined, runner.port)]
}
