// The shapes every long-lived component has, shared by the parts that provide them (informers,
// Kubernetes caches, the event recorder, the proxy) and the Manager that runs them, so neither
// side imports the other.

export interface Runnable {
  readonly name: string
  /** Resolves when the component has stopped (after the signal aborts, having drained). */
  start(signal: AbortSignal): Promise<void>
}

export interface Cache extends Runnable {
  /** Resolves once the first full list is in the cache; rejects if the signal aborts first. */
  waitForSync(signal: AbortSignal): Promise<void>
}
