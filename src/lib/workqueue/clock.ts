// Time as a dependency: the delaying queue, the rate limiters and the resync wheel read the
// clock and arm timers through this, so tests drive time by hand instead of sleeping.

export interface Timer {
  cancel(): void
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Runs `fn` once after `ms` (clamped to >= 0); cancel() before then prevents it. */
  setTimer(fn: () => void, ms: number): Timer
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms))
    // A pending requeue must not keep a finished process alive.
    handle.unref()
    return {cancel: () => clearTimeout(handle)}
  },
}

interface ManualTimer {
  at: number
  seq: number
  fn: () => void
  cancelled: boolean
}

/** A clock that only moves when told to: `advance(ms)` fires due timers in time order. */
export class ManualClock implements Clock {
  private current: number
  private seq = 0
  private timers: ManualTimer[] = []

  constructor(start = 0) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  setTimer(fn: () => void, ms: number): Timer {
    const timer: ManualTimer = {at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false}
    this.timers.push(timer)
    return {cancel: () => void (timer.cancelled = true)}
  }

  /** Timers armed and not yet fired or cancelled. */
  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length
  }

  advance(ms: number): void {
    const target = this.current + ms
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled)
      let next: ManualTimer | undefined
      for (const t of this.timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t
      }
      if (!next) break
      this.current = Math.max(this.current, next.at)
      next.cancelled = true
      next.fn()
    }
    this.current = target
  }

  set(ms: number): void {
    this.advance(ms - this.current)
  }
}
