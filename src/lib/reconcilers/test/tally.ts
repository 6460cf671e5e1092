// `ambient run --mode test`: reconcilers with no side effects. They count what they are
// asked to reconcile, so the whole pipeline (list, watch, cache, queue, workers) runs for
// real and its throughput and correctness can be observed without touching anything.
import type {ObjectMeta} from '../../api/types.js'
import type {ResourceEvent} from '../../informer/index.js'

export interface Tally {
  added: number
  modified: number
  deleted: number
}

/** Counts informer events of one resource, plus per-second buckets for the event rate. */
export class EventTally implements Tally {
  added = 0
  modified = 0
  deleted = 0
  // Ring of per-second counts: O(1) per event however high the rate.
  private readonly buckets: number[]
  private readonly seconds: number[]

  constructor(
    readonly resource: string,
    private readonly now: () => number = Date.now,
    private readonly windowSeconds = 5,
  ) {
    this.buckets = new Array<number>(windowSeconds).fill(0)
    this.seconds = new Array<number>(windowSeconds).fill(-1)
  }

  record<T extends ObjectMeta>(event: ResourceEvent<T>): void {
    if (event.type === 'ADDED') this.added++
    else if (event.type === 'MODIFIED') this.modified++
    else this.deleted++
    const second = Math.floor(this.now() / 1000)
    const i = second % this.windowSeconds
    if (this.seconds[i] !== second) {
      this.seconds[i] = second
      this.buckets[i] = 0
    }
    this.buckets[i] = (this.buckets[i] ?? 0) + 1
  }

  /** Events per second over the last full window (the current second excluded). */
  rate(): number {
    const current = Math.floor(this.now() / 1000)
    let sum = 0
    for (let i = 0; i < this.windowSeconds; i++) {
      const age = current - (this.seconds[i] ?? -1)
      if (age >= 1 && age < this.windowSeconds) sum += this.buckets[i] ?? 0
    }
    return sum / (this.windowSeconds - 1)
  }

  line(): {type: 'TALLY'; resource: string} & Tally {
    return {type: 'TALLY', resource: this.resource, added: this.added, modified: this.modified, deleted: this.deleted}
  }
}

/** A reconciler that only counts: present objects and deletions it was asked about. */
export class TallyReconciler<T extends ObjectMeta> {
  reconciled = 0
  deletions = 0

  async reconcile(req: {id: string; object: T | undefined}): Promise<void> {
    if (req.object === undefined) this.deletions++
    else this.reconciled++
  }
}
