// A growable ring buffer: O(1) push and shift. Array#shift is O(n) on large arrays, and a work
// queue can hold every key of a resource (100k sessions) after a relist.

export class Deque<T> {
  private items: (T | undefined)[]
  private head = 0
  private size = 0

  constructor(initialCapacity = 16) {
    let capacity = 1
    while (capacity < initialCapacity) capacity *= 2
    this.items = new Array<T | undefined>(capacity)
  }

  get length(): number {
    return this.size
  }

  push(item: T): void {
    if (this.size === this.items.length) this.grow()
    this.items[(this.head + this.size) & (this.items.length - 1)] = item
    this.size++
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined
    const item = this.items[this.head]
    // Drop the reference so a drained queue does not keep its keys alive.
    this.items[this.head] = undefined
    this.head = (this.head + 1) & (this.items.length - 1)
    this.size--
    return item
  }

  peek(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head]
  }

  clear(): void {
    this.items = new Array<T | undefined>(16)
    this.head = 0
    this.size = 0
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.size; i++) yield this.items[(this.head + i) & (this.items.length - 1)] as T
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.items.length * 2)
    for (let i = 0; i < this.size; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)]
    this.items = next
    this.head = 0
  }
}
