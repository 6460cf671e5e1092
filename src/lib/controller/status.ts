// What a running control plane shows a person: the plain data the live views render. The
// control plane builds it from its informers, queues, manager and mode; the views never reach
// into those components, so they stay testable with literals.
import type {ConnectionState} from '../informer/index.js'
import type {RunnerRow} from '../process/index.js'

export type {ConnectionState, RunnerRow}

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

/** What a mode adds to the snapshot (local mode: its runners and proxy). */
export interface ModeStatus {
  runners?(): RunnerRow[]
  proxyUrl?(): string | undefined
}
