// "Has the cache held a complete list yet?", and waiting for it: set once, waiters woken when
// it is set or when the informer stops without ever syncing (they then learn `false`).
export class SyncLatch {
  private isSet = false
  private readonly waiters = new Set<() => void>()

  get synced(): boolean {
    return this.isSet
  }

  /** Sets the latch; true the first time. */
  set(): boolean {
    if (this.isSet) return false
    this.isSet = true
    this.wake()
    return true
  }

  /** Resolves true once set, false if `signal` aborts or wake() is called first. */
  wait(signal?: AbortSignal): Promise<boolean> {
    if (this.isSet) return Promise.resolve(true)
    if (signal?.aborted) return Promise.resolve(false)
    return new Promise((resolve) => {
      const finish = (): void => {
        this.waiters.delete(finish)
        signal?.removeEventListener('abort', finish)
        resolve(this.isSet)
      }
      this.waiters.add(finish)
      signal?.addEventListener('abort', finish, {once: true})
    })
  }

  /** Answers every waiter now (with whether the latch is set). */
  wake(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}
