// The plain data the terminal views render. Commands build these from informers, queues and
// runners; the views never reach into those components, so they stay testable with literals.
import type {RunnerRow} from '../process/runner.js'

export type ConnectionState = 'connecting' | 'listing' | 'watching' | 'polling' | 'backoff' | 'stopped'

export interface ResourceStats {
  resource: string
  added: number
  modified: number
  deleted: number
  eventsPerSecond: number
  queueDepth: number
  inFlight: number
  cacheSize: number
  connection: ConnectionState
  synced: boolean
  reconnects: number
  lastError?: string
  reconciles?: {ok: number; error: number; retries: number}
}

/** A live runner with its session's name and phase (the process layer's type, token-free). */
export type {RunnerRow}

export interface RunSnapshot {
  mode: 'kube' | 'local' | 'test'
  startedAt: number
  apiServer: string
  resources: ResourceStats[]
  runners?: RunnerRow[]
  proxyUrl?: string
  leader?: 'leading' | 'following' | 'disabled'
  stopping?: boolean
  /** Shown after "stopping…", e.g. "draining 3 workers". */
  stoppingDetail?: string
}

export type WatchChange = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface WatchRow {
  id: string
  name: string
  phase?: string
  project?: string
  createdAt?: string
  updatedAt?: string
  lastChange: WatchChange
  changedAt: number
  /** True while the row is inside its highlight window after a change. */
  highlighted?: boolean
}

export interface WatchLogLine {
  at: number
  type: WatchChange
  id: string
  name?: string
  detail?: string
}
