// Waiting in tests: poll a condition with a deadline instead of sleeping a fixed time, so
// tests are fast on an idle machine and still pass on a loaded one.
import {setTimeout as sleep} from 'node:timers/promises'

/** Resolves with the first truthy value of `check`; rejects naming `what` after the deadline. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string | (() => string), timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`)
    await sleep(20)
  }
}

/** Like waitFor, but a check that throws counts as "not yet" (its last error is reported). */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 20_000,
): Promise<T> {
  let last: unknown
  const value = await waitFor(
    async () => {
      try {
        return await check()
      } catch (err) {
        last = err
        return undefined
      }
    },
    () => (last ? `${what}: ${String(last)}` : what),
    timeoutMs,
  )
  return value as T
}
