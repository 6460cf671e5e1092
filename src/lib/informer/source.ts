// The seam between the informer and the API: anything that can list every object of one
// resource and (optionally) stream its changes. The gRPC/REST clients implement it; tests
// and the older poll-only server generation plug in the same way.
import {AmbientError} from '../errors.js'
import type {ObjectMeta, WatchEvent} from '../api/types.js'

export interface ResourceSource<T extends ObjectMeta> {
  /** Resource name as used in keys, logs and metrics, e.g. `sessions`, `workflows`. */
  readonly resource: string
  /** Every object, all pages. Rejects on failure; the informer retries. */
  list(signal: AbortSignal): Promise<T[]>
  /**
   * Changes made after the stream opened (there is no resume token). Ends or throws when the
   * server ends the stream; throws WatchUnimplementedError when the server has no watch, and
   * is absent for sources that can only be polled.
   */
  watch?(signal: AbortSignal): AsyncIterable<WatchEvent<T>>
}

/** The server does not implement watch (gRPC UNIMPLEMENTED): follow it by polling instead. */
export class WatchUnimplementedError extends AmbientError {
  constructor(resource: string, options?: {cause?: unknown}) {
    super(`the server has no watch for ${resource}`, 'ERR_WATCH_UNIMPLEMENTED', options)
  }
}

/**
 * Optional extra a watch iterable may carry: the events it has already received, taken at
 * once, so a fast stream costs one await per burst instead of one per event.
 */
export interface WatchBufferHint<T extends ObjectMeta> {
  takeBuffered?(): WatchEvent<T>[]
}
