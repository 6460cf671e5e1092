// A binary min-heap whose entries know their index, so an entry can be moved earlier in
// O(log n) (the delaying queue keeps the earliest due time per key).

export interface HeapEntry {
  index: number
}

export class MinHeap<E extends HeapEntry> {
  private readonly items: E[] = []

  constructor(private readonly less: (a: E, b: E) => boolean) {}

  get size(): number {
    return this.items.length
  }

  peek(): E | undefined {
    return this.items[0]
  }

  push(entry: E): void {
    entry.index = this.items.length
    this.items.push(entry)
    this.up(entry.index)
  }

  pop(): E | undefined {
    const top = this.items[0]
    if (top === undefined) return undefined
    const last = this.items.pop() as E
    if (this.items.length > 0) {
      this.items[0] = last
      last.index = 0
      this.down(0)
    }
    top.index = -1
    return top
  }

  /** Restores order after the entry's key changed. */
  fix(entry: E): void {
    this.up(entry.index)
    this.down(entry.index)
  }

  clear(): void {
    this.items.length = 0
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(this.at(i), this.at(parent))) break
      this.swap(i, parent)
      i = parent
    }
  }

  private down(i: number): void {
    const n = this.items.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let smallest = i
      if (l < n && this.less(this.at(l), this.at(smallest))) smallest = l
      if (r < n && this.less(this.at(r), this.at(smallest))) smallest = r
      if (smallest === i) return
      this.swap(i, smallest)
      i = smallest
    }
  }

  /** The item at an index the caller keeps within bounds. */
  private at(i: number): E {
    return this.items[i] as E
  }

  private swap(i: number, j: number): void {
    const a = this.at(i)
    const b = this.at(j)
    this.items[i] = b
    this.items[j] = a
    a.index = j
    b.index = i
  }
}
