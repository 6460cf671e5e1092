// WatchQueue on its own, against a fake call: the call opens on the first read, the buffer is
// bounded by pausing the call, a burst is read at once, the end or error comes after the
// items before it, and a reader that stops closes the call.
import {describe, expect, it} from 'vitest'
import {WatchQueue, type WatchQueueSource} from '../../src/lib/api/watch-queue.js'

/** A call the test drives: what the queue asked of it, and the queue it feeds. */
function fakeCall(options: {highWaterMark?: number; sent?: Promise<void>} = {}) {
  const calls = {opened: 0, pauses: 0, resumes: 0, closes: 0, paused: false}
  const source: WatchQueueSource = {
    pause: () => {
      calls.pauses++
      calls.paused = true
    },
    resume: () => {
      calls.resumes++
      calls.paused = false
    },
    close: () => calls.closes++,
    ...(options.sent && {sent: options.sent}),
  }
  const queue = new WatchQueue<number>({
    highWaterMark: options.highWaterMark,
    open: () => {
      calls.opened++
      return source
    },
  })
  return {queue, calls}
}

async function readAll(queue: WatchQueue<number>): Promise<{items: number[]; error?: unknown}> {
  const items: number[] = []
  try {
    for await (const item of queue) items.push(item)
    return {items}
  } catch (error) {
    return {items, error}
  }
}

const settled = <T>(promise: Promise<T>): Promise<'pending' | 'settled'> =>
  Promise.race([promise.then(() => 'settled' as const), new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))])

describe('WatchQueue', () => {
  it('opens the call on the first read, once', async () => {
    const {queue, calls} = fakeCall()
    expect(calls.opened).toBe(0)
    const first = queue.next()
    expect(calls.opened).toBe(1)
    queue.push(1)
    expect(await first).toEqual({value: 1, done: false})
    queue.push(2)
    expect(await queue.nextBatch()).toEqual([2])
    expect(calls.opened).toBe(1)
  })

  it('pauses the call at the high-water mark and resumes it at half', async () => {
    const {queue, calls} = fakeCall({highWaterMark: 8})
    void queue.nextBatch() // opens; resolved by the first push
    for (let i = 0; i <= 7; i++) queue.push(i)
    // One item went to the waiting reader: 7 buffered, below the mark.
    expect(calls.pauses).toBe(0)
    queue.push(8)
    expect(calls).toMatchObject({pauses: 1, paused: true})
    queue.push(9) // the call may still deliver what it had: buffered, no second pause
    expect(calls.pauses).toBe(1)
    expect(queue.buffered).toBe(9)
    for (let i = 1; i <= 4; i++) expect(await queue.next()).toEqual({value: i, done: false})
    expect(calls).toMatchObject({resumes: 0, paused: true}) // 5 unread, above half
    await queue.next()
    expect(calls).toMatchObject({resumes: 1, paused: false}) // 4 unread: half the mark
  })

  it('hands every unread item over in one batch and resumes the call', async () => {
    const {queue, calls} = fakeCall({highWaterMark: 4})
    const waiting = queue.nextBatch()
    queue.push(0)
    expect(await waiting).toEqual([0])
    for (let i = 1; i <= 6; i++) queue.push(i)
    expect(calls.paused).toBe(true)
    expect(await queue.nextBatch()).toEqual([1, 2, 3, 4, 5, 6])
    expect(queue.buffered).toBe(0)
    expect(calls.paused).toBe(false)
    // Partly read by next(), the rest by nextBatch().
    for (let i = 7; i <= 9; i++) queue.push(i)
    expect(await queue.next()).toEqual({value: 7, done: false})
    expect(await queue.nextBatch()).toEqual([8, 9])
  })

  it('delivers the end after the items pushed before it, then closes the call once', async () => {
    const {queue, calls} = fakeCall()
    const read = readAll(queue)
    queue.push(1)
    queue.push(2)
    queue.push(3)
    queue.end()
    queue.push(4) // after the end: dropped
    expect(await read).toEqual({items: [1, 2, 3]})
    expect(calls.closes).toBe(1)
    expect(await queue.next()).toEqual({value: undefined, done: true})
    expect(await queue.nextBatch()).toBeUndefined()
    expect(calls.closes).toBe(1)
  })

  it('delivers an error after the items pushed before it, once', async () => {
    const {queue, calls} = fakeCall()
    void queue.nextBatch()
    queue.push(1)
    queue.push(2)
    queue.fail(new Error('broken'))
    queue.end() // the first of end/fail wins
    expect(calls.closes).toBe(0) // not before the reader has seen it
    expect(await queue.nextBatch()).toEqual([2])
    await expect(queue.nextBatch()).rejects.toThrow('broken')
    expect(calls.closes).toBe(1)
    expect(await queue.nextBatch()).toBeUndefined()

    const other = fakeCall()
    const read = readAll(other.queue)
    other.queue.push(7)
    await new Promise((resolve) => setImmediate(resolve))
    other.queue.fail(new Error('while waiting'))
    const result = await read
    expect(result.items).toEqual([7])
    expect(result.error).toBeInstanceOf(Error)
    expect(other.calls.closes).toBe(1)
  })

  it('closes the call when the reader stops, and ends a read still waiting', async () => {
    const {queue, calls} = fakeCall()
    const read = (async () => {
      for await (const item of queue) if (item === 2) break
    })()
    queue.push(1)
    queue.push(2)
    queue.push(3)
    await read
    expect(calls.closes).toBe(1)
    expect(queue.buffered).toBe(0)
    queue.push(4)
    expect(await queue.next()).toEqual({value: undefined, done: true})

    const other = fakeCall()
    const waiting = other.queue.nextBatch()
    await other.queue.return()
    expect(await waiting).toBeUndefined()
    expect(other.calls.closes).toBe(1)
  })

  it('never opens a call for a reader that stops before reading', async () => {
    const {queue, calls} = fakeCall()
    await queue.return()
    expect(await queue.next()).toEqual({value: undefined, done: true})
    expect(calls).toMatchObject({opened: 0, closes: 0})
  })

  it('passes on an error thrown while opening', async () => {
    const queue = new WatchQueue<number>({
      open: () => {
        throw new Error('no channel')
      },
    })
    await expect(queue.next()).rejects.toThrow('no channel')
    expect(await queue.next()).toEqual({value: undefined, done: true})
  })

  it("resolves `sent` with the call's own, or at opening when it has none", async () => {
    let markSent = (): void => {}
    const {queue} = fakeCall({sent: new Promise<void>((resolve) => (markSent = resolve))})
    expect(await settled(queue.sent)).toBe('pending')
    void queue.next()
    expect(await settled(queue.sent)).toBe('pending')
    markSent()
    expect(await settled(queue.sent)).toBe('settled')

    const plain = fakeCall()
    expect(await settled(plain.queue.sent)).toBe('pending') // never opened: never sent
    void plain.queue.next()
    expect(await settled(plain.queue.sent)).toBe('settled')
  })

  it('keeps order, and the call paused exactly while the buffer is full, under any mix of pushes and reads', async () => {
    // A seeded generator: the same sequence on every run.
    let seed = 42
    const random = (): number => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
    }
    const highWaterMark = 16
    const {queue, calls} = fakeCall({highWaterMark})
    const got: number[] = []
    const broken: string[] = []
    let pushed = 0
    const first = queue.next() // opens the call
    queue.push(pushed++)
    got.push((await first).value)
    for (let round = 0; round < 5000 && pushed < 20_000; round++) {
      // The call delivers while not paused (as HTTP/2 flow control has it), and a few already
      // in flight after it was paused.
      const burst = calls.paused ? Math.floor(random() * 3) : Math.floor(random() * 40)
      for (let i = 0; i < burst; i++) {
        queue.push(pushed++)
        if (queue.buffered >= highWaterMark && !calls.paused) broken.push(`not paused at ${queue.buffered}`)
      }
      const reads = Math.floor(random() * 30)
      for (let i = 0; i < reads && queue.buffered > 0; i++) {
        if (random() < 0.2) got.push(...((await queue.nextBatch()) ?? []))
        else {
          const result = await queue.next()
          if (!result.done) got.push(result.value)
        }
        if (queue.buffered <= highWaterMark / 2 && calls.paused) broken.push(`still paused at ${queue.buffered}`)
      }
    }
    queue.end()
    got.push(...(await readAll(queue)).items)
    expect(broken).toEqual([])
    expect(pushed).toBeGreaterThanOrEqual(20_000)
    expect(got).toEqual(Array.from({length: pushed}, (_, i) => i))
    expect(calls.pauses).toBeGreaterThan(10)
    expect(calls.resumes).toBe(calls.pauses)
  })
})
