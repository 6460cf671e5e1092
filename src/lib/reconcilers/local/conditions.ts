// The conditions local mode writes with each phase (contract 4: ProcessSpawned,
// HealthCheckPassed, RunnerStarted) and how they are merged into a session's `conditions`
// JSON: a condition whose status did not change keeps its lastTransitionTime, so computing
// the same verdict twice yields the same document and costs no write.
import type {Condition} from '../../api/types.js'
import {parseConditions} from '../../api/session-status.js'

export const PROCESS_SPAWNED = 'ProcessSpawned'
export const HEALTH_CHECK_PASSED = 'HealthCheckPassed'
export const RUNNER_STARTED = 'RunnerStarted'

/** Reasons written by local mode, so UIs and tests can branch on them. */
export const REASONS = {
  spawned: 'Spawned',
  checking: 'Checking',
  waitingForHealth: 'WaitingForHealthCheck',
  healthy: 'Healthy',
  started: 'Started',
  healthCheckTimeout: 'HealthCheckTimeout',
  capacityFull: 'CapacityFull',
  noFreePort: 'NoFreePort',
  invalidSession: 'InvalidSession',
  spawnFailed: 'SpawnFailed',
  completed: 'Completed',
  stopped: 'Stopped',
  runnerLost: 'RunnerLost',
  unknownPhase: 'UnknownPhase',
} as const

export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>

/** `raw` with each update applied (added or replaced by type), as a JSON string. */
export function mergeConditions(raw: string | undefined, updates: readonly ConditionUpdate[], now: string): string {
  const conditions = parseConditions(raw)
  for (const update of updates) {
    const i = conditions.findIndex((c) => c.type === update.type)
    const previous = i >= 0 ? conditions[i] : undefined
    const next: Condition = {
      type: update.type,
      status: update.status,
      ...(update.reason !== undefined && {reason: update.reason}),
      ...(update.message !== undefined && {message: update.message}),
      lastTransitionTime: previous && previous.status === update.status && previous.lastTransitionTime ? previous.lastTransitionTime : now,
    }
    if (i >= 0) conditions[i] = next
    else conditions.push(next)
  }
  return JSON.stringify(conditions)
}

/** The condition of `type` in a session's conditions JSON, if any. */
export function findCondition(raw: string | undefined, type: string): Condition | undefined {
  return parseConditions(raw).find((c) => c.type === type)
}
