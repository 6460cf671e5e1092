// The seam between the informer and the API: anything that can list every object of one
// resource and (optionally) stream its changes. Declared here, with the clients that implement
// it, so the informer depends on the API and never the other way round; tests and the older
// poll-only server generation plug in the same way.
import {AmbientError} from '../errors.js'
import type {ObjectMeta, WatchEvent} from './types.js'

export interface ResourceSource<T extends ObjectMeta> {
  /** Resource name as used in keys, logs and metrics, e.g. `sessions`, `workflows`. */
  readonly resource: string
  /**
   * Every object, all pages. Rejects on failure; the informer retries. A source that reads
   * pages passes each page's objects to `onPage` as it arrives (the informer stores their
   * repeated values once while the rest is still being read).
   */
  list(signal: AbortSignal, onPage?: (objects: readonly T[]) => void): Promise<T[]>
  /**
   * Changes made after the server registered the stream (there is no resume token, and no
   * message says when that happened). Ends or throws when the server ends the stream; throws
   * WatchUnimplementedError when the server has no watch, and is absent for sources that can
   * only be polled.
   */
  watch?(signal: AbortSignal): WatchStream<T>
}

/** A watch's events, with two optional extras a transport may offer. */
export interface WatchStream<T extends ObjectMeta> extends AsyncIterable<WatchEvent<T>> {
  /**
   * Resolves when the watch request has gone out on a connected transport (rejects or never
   * resolves if it never does; the stream then ends with an error). Without it, the request
   * counts as sent when iteration starts. This is NOT the server's confirmation that the
   * stream is registered: the real server gives none (its headers come with the first event).
   */
  readonly sent?: Promise<void>
  /**
   * Every event received and not yet read, at once (waiting for one if there is none):
   * one await per burst instead of per event. Undefined once the stream has ended; rejects
   * with its error. A reader stops early through the iterator's return(), as for await does.
   */
  nextBatch?(): Promise<WatchEvent<T>[] | undefined>
}

/** The server does not implement watch (gRPC UNIMPLEMENTED): follow it by polling instead. */
export class WatchUnimplementedError extends AmbientError {
  constructor(resource: string, options?: {cause?: unknown}) {
    super(`the server has no watch for ${resource}`, 'ERR_WATCH_UNIMPLEMENTED', options)
  }
}
