import {getEventListeners} from 'node:events'
import {afterEach, describe, expect, it, vi} from 'vitest'
import {sleep, waitForAbort} from '../../src/lib/util/abort.js'

/** Whether `promise` has settled, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  void promise.then(() => (done = true))
  // Two turns: the promise's own reactions run first.
  await Promise.resolve()
  await Promise.resolve()
  return done
}

describe('sleep', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('resolves after its delay, not before', async () => {
    vi.useFakeTimers()
    const done = sleep(1000)
    await vi.advanceTimersByTimeAsync(999)
    expect(await settled(done)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await settled(done)).toBe(true)
  })

  it('ends at once when its signal aborts, and resolves (never rejects)', async () => {
    const controller = new AbortController()
    const done = sleep(60 * 60_000, controller.signal)
    expect(await settled(done)).toBe(false)
    controller.abort(new Error('stop'))
    expect(await settled(done)).toBe(true)
    await expect(done).resolves.toBeUndefined()
  })

  it('resolves at once for a signal that has aborted already', async () => {
    expect(await settled(sleep(60 * 60_000, AbortSignal.abort()))).toBe(true)
  })

  it('leaves no listener on a long-lived signal, whichever way it ends', async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const sleeps = Array.from({length: 20}, () => sleep(10, controller.signal))
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(20)
    await vi.advanceTimersByTimeAsync(10)
    await Promise.all(sleeps)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)

    const cut = sleep(10_000, controller.signal)
    controller.abort()
    await cut
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    // The timer went with it: nothing is left to fire.
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('waitForAbort', () => {
  it('stays pending until the signal aborts, then resolves', async () => {
    const controller = new AbortController()
    const waiting = waitForAbort(controller.signal)
    expect(await settled(waiting)).toBe(false)
    controller.abort(new Error('stop'))
    expect(await settled(waiting)).toBe(true)
    await expect(waiting).resolves.toBeUndefined()
  })

  it('resolves at once for a signal that has aborted already', async () => {
    expect(await settled(waitForAbort(AbortSignal.abort()))).toBe(true)
  })
})
