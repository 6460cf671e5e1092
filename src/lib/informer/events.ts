// What an informer tells its subscribers, and the small typed emitter that delivers it.
import type {ObjectMeta} from '../api/types.js'

export const RESOURCE_EVENT_TYPES = ['ADDED', 'MODIFIED', 'DELETED'] as const
export type ResourceEventType = (typeof RESOURCE_EVENT_TYPES)[number]

/**
 * One change of the informer's cache. For DELETED, `object` is the last state the cache
 * held; for MODIFIED, `old` is the state it replaced.
 */
export type ResourceEvent<T extends ObjectMeta> =
  | {type: 'ADDED'; resource: string; object: T}
  | {type: 'MODIFIED'; resource: string; object: T; old: T}
  | {type: 'DELETED'; resource: string; object: T}

export type Handler<E> = (event: E) => void

/**
 * Handlers run synchronously in subscription order. The list is replaced (not mutated) on
 * subscribe/unsubscribe, so a handler that unsubscribes mid-dispatch does not skip another,
 * and a throwing handler is reported without stopping the others.
 */
export class Emitter<E> {
  // Subscribers are wrapped in method-shaped objects so Emitter<Sub> stays assignable to
  // Emitter<Base> (and Informer<Session> to Informer<ObjectMeta>): method parameters are
  // checked bivariantly, function-typed properties are not.
  private subscribers: readonly Subscriber<E>[] = []

  constructor(private readonly onHandlerError: (err: unknown) => void) {}

  on(handler: Handler<E>): () => void {
    const subscriber: Subscriber<E> = {
      handle(event) {
        handler(event)
      },
    }
    this.subscribers = [...this.subscribers, subscriber]
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== subscriber)
    }
  }

  emit(event: E): void {
    const subscribers = this.subscribers
    for (const subscriber of subscribers) {
      try {
        subscriber.handle(event)
      } catch (err) {
        this.onHandlerError(err)
      }
    }
  }

  get size(): number {
    return this.subscribers.length
  }
}

interface Subscriber<E> {
  handle(event: E): void
}
