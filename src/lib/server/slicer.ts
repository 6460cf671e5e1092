// Cooperative time slicing for work that grows with the data (filtering, sorting and
// serialising a large list): the work checks `due()` often and, past its slice, awaits `pause()`,
// which lets the event loop serve other requests, watch streams and signals before going on.
// Without it one list over a large table holds the only thread for as long as it runs.

export interface SliceOptions {
  /** Work between pauses; default 8 ms. */
  sliceMs?: number
  /** Milliseconds clock; default performance.now. */
  now?: () => number
  /** Gives way to other work; default one setImmediate (after pending I/O). */
  pause?: () => Promise<void>
  /** Aborted when nobody waits for the answer any more (the client went away). */
  signal?: AbortSignal
}

export const DEFAULT_SLICE_MS = 8

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

export class Slicer {
  private readonly sliceMs: number
  private readonly now: () => number
  private readonly giveWay: () => Promise<void>
  private readonly signal: AbortSignal | undefined
  private started: number
  /** Pauses taken so far (for tests and logs). */
  pauses = 0

  constructor(options: SliceOptions = {}) {
    this.sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS
    this.now = options.now ?? (() => performance.now())
    this.giveWay = options.pause ?? nextTurn
    this.signal = options.signal
    this.started = this.now()
  }

  /** True once this slice has run its time. */
  due(): boolean {
    return this.now() - this.started >= this.sliceMs
  }

  /** Lets other work run, then starts a new slice; throws the signal's reason once aborted. */
  async pause(): Promise<void> {
    this.signal?.throwIfAborted()
    this.pauses++
    await this.giveWay()
    this.signal?.throwIfAborted()
    this.started = this.now()
  }

  /** `pause()` when due; call it at every point where stopping is cheap. */
  async maybePause(): Promise<void> {
    if (this.due()) await this.pause()
  }
}

/**
 * A stable merge sort that pauses between comparisons when its slice is over: the cost of
 * one comparison is bounded (it may compare long strings), the number of them is not.
 */
export async function sortSliced<T>(items: readonly T[], compare: (a: T, b: T) => number, slicer: Slicer): Promise<T[]> {
  let src = items.slice()
  let dst = new Array<T>(src.length)
  let steps = 0
  for (let width = 1; width < src.length; width *= 2) {
    for (let lo = 0; lo < src.length; lo += 2 * width) {
      const mid = Math.min(lo + width, src.length)
      const hi = Math.min(lo + 2 * width, src.length)
      let i = lo
      let j = mid
      let k = lo
      while (i < mid && j < hi) {
        // `<= 0` takes the left run first on ties: that is what makes the sort stable.
        const left = src[i] as T
        const right = src[j] as T
        dst[k++] = compare(left, right) <= 0 ? (src[i++] as T) : (src[j++] as T)
        if ((++steps & 63) === 0 && slicer.due()) await slicer.pause()
      }
      while (i < mid) dst[k++] = src[i++] as T
      while (j < hi) dst[k++] = src[j++] as T
    }
    ;[src, dst] = [dst, src]
  }
  return src
}
