// A minimal typed event emitter: listener payloads are checked at compile time and a
// throwing listener cannot break the emitter or the other listeners.

export type Listener<T> = (payload: T) => void

export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>()

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event)
    if (!set) {
      set = new Set()
      this.#listeners.set(event, set)
    }
    set.add(listener as Listener<never>)
    return () => this.off(event, listener)
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off()
      listener(payload)
    })
    return off
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>)
  }

  /** Listeners are copied before dispatch, so (un)subscribing inside a listener is safe. */
  protected emit<K extends keyof Events>(event: K, payload: Events[K], onListenerError?: (err: unknown) => void): void {
    const set = this.#listeners.get(event)
    if (!set) return
    for (const listener of [...set] as Listener<Events[K]>[]) {
      try {
        listener(payload)
      } catch (err) {
        onListenerError?.(err)
      }
    }
  }
}
