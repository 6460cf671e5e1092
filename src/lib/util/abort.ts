// Waiting that an AbortSignal cuts short. Long-lived components (backoff, polling, leases, "run
// until stopped") all need it; one copy keeps the listener clean-up right everywhere: a sleep
// that ends on its timer removes its listener, so a signal that lives for hours does not
// collect one per sleep.

/** Resolves after `ms`, or at once when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve()
      return
    }
    const finish = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', finish)
      resolve()
    }
    const timer = setTimeout(finish, ms)
    signal?.addEventListener('abort', finish, {once: true})
  })
}

/** Resolves once `signal` aborts (at once when it already has). Never rejects. */
export function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), {once: true})
  })
}
