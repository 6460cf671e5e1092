// The resync timer wheel of a controller: when each object is next re-enqueued without an event.

/**
 * Due times bucketed by tick: scheduling is O(1) and a sweep visits only the buckets (at most
 * stableMs / tickMs of them) plus the due ids, so 100k objects cost one timer.
 */
export class ResyncWheel {
  private readonly buckets = new Map<number, Set<string>>()
  private readonly slotOf = new Map<string, number>()

  constructor(private readonly tickMs: number) {}

  get size(): number {
    return this.slotOf.size
  }

  schedule(id: string, at: number): void {
    const slot = Math.ceil(at / this.tickMs)
    // Most passes land in the slot the previous one chose (same tick): nothing to move.
    if (this.slotOf.get(id) === slot) return
    this.remove(id)
    let bucket = this.buckets.get(slot)
    if (!bucket) this.buckets.set(slot, (bucket = new Set()))
    bucket.add(id)
    this.slotOf.set(id, slot)
  }

  remove(id: string): void {
    const slot = this.slotOf.get(id)
    if (slot === undefined) return
    this.slotOf.delete(id)
    const bucket = this.buckets.get(slot)
    bucket?.delete(id)
    if (bucket?.size === 0) this.buckets.delete(slot)
  }

  due(now: number): string[] {
    const current = Math.floor(now / this.tickMs)
    const out: string[] = []
    for (const [slot, bucket] of this.buckets) {
      if (slot > current) continue
      this.buckets.delete(slot)
      for (const id of bucket) {
        this.slotOf.delete(id)
        out.push(id)
      }
    }
    return out
  }
}
