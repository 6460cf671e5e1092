// Local mode's defaults (contract 4), shared by the runner manager and adoption.
import os from 'node:os'
import path from 'node:path'

export const DEFAULT_RUNNER_COMMAND = 'python local_entry.py'
export const DEFAULT_MAX_SESSIONS = 10
export const DEFAULT_STOP_GRACE_MS = 10_000
export const DEFAULT_HEALTH_TIMEOUT_MS = 15_000
export const DEFAULT_HEALTH_INTERVAL_MS = 500

export function defaultWorkspaceRoot(home: string = os.homedir()): string {
  return path.join(home, '.ambient', 'workspaces')
}
