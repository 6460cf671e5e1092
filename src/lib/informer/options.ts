// The Informer's options and status (informer.ts has the class and why it works as it does).
import type {ObjectMeta} from '../api/types.js'
import {AmbientError} from '../errors.js'
import type {Logger} from '../log.js'
import type {BackoffOptions} from '../util/backoff.js'
import type {InformerMetrics} from './metrics.js'
import type {ResourceSource} from '../api/watch-source.js'

export const DEFAULT_CONFIRM_RELIST_AFTER_MS = 2000

export type WatchMode = 'stream' | 'poll'
export type ConnectionState = 'connecting' | 'listing' | 'watching' | 'polling' | 'backoff' | 'stopped'

export interface InformerStatus {
  resource: string
  /** The cache has held a complete list at least once. */
  synced: boolean
  connection: ConnectionState
  /** 'poll' once the informer fell back to polling (or was told to). */
  mode: WatchMode
  reconnects: number
  lastError?: string
  cacheSize: number
  /** When the watch stream last delivered an event (ms since epoch). */
  lastEventAt?: number
  /** Watching, and the stream has been quiet for idleAfterMs: not an error, worth showing. */
  idle: boolean
}

export interface InformerOptions<T extends ObjectMeta> {
  source: ResourceSource<T>
  logger?: Logger
  /** Poll period when there is no watch (default 5000). */
  pollIntervalMs?: number
  watchMode?: WatchMode
  backoff?: Partial<BackoffOptions>
  /** A watch quiet for this long is reported `idle` (default 300000). */
  idleAfterMs?: number
  metrics?: InformerMetrics
  /**
   * How long after a watch request went out the informer lists once more, to cover changes
   * made before the server registered the stream (default 2000; see the top of informer.ts).
   */
  confirmRelistAfterMs?: number
  /** Waits `ms` or until `signal` aborts; never rejects. Backoff and poll waits. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>
  /** The same, for the wait before the confirmation relist (default: real time). */
  confirmDelay?: (ms: number, signal: AbortSignal) => Promise<void>
  random?: () => number
  now?: () => number
}

export class InformerError extends AmbientError {
  constructor(message: string) {
    super(message, 'ERR_INFORMER')
  }
}
