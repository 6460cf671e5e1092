// The plain data the terminal views render: the control plane's snapshot (controller/status.ts)
// and the watch view's rows and log lines, built by its model (watch-model.ts).
export type {ConnectionState, ResourceStats, RunSnapshot, RunnerRow} from '../controller/status.js'

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
