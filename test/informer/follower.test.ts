// StreamFollower reads a watch a burst at a time where the stream offers nextBatch() (the
// gRPC client's WatchQueue), one event at a time otherwise; events are held or applied in
// order either way, and closing it stops the stream.
import {describe, expect, it} from 'vitest'
import type {WatchEvent} from '../../src/lib/api/types.js'
import {WatchQueue} from '../../src/lib/api/watch-queue.js'
import {StreamFollower} from '../../src/lib/informer/follower.js'
import {WatchUnimplementedError, type WatchStream} from '../../src/lib/api/watch-source.js'
import type {Thing} from './memory-source.js'

const thing = (n: number): Thing => ({id: `t${n}`, kind: 'Thing', href: '', created_at: '', updated_at: '', name: `t${n}`, generation: n})
const updated = (n: number): WatchEvent<Thing> => ({type: 'UPDATED', id: `t${n}`, object: thing(n)})
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function queueStream() {
  const calls = {closes: 0}
  let feed: WatchQueue<WatchEvent<Thing>> | undefined
  const queue = new WatchQueue<WatchEvent<Thing>>({
    open: (q) => {
      feed = q
      return {pause: () => {}, resume: () => {}, close: () => calls.closes++}
    },
  })
  const push = (...events: WatchEvent<Thing>[]): void => {
    for (const event of events) feed?.push(event)
  }
  return {queue, calls, push}
}

function follow(stream: WatchStream<Thing>) {
  const applied: string[] = []
  let received = 0
  const follower = new StreamFollower<Thing>({stream, apply: (event) => applied.push(event.id), received: () => received++})
  return {follower, applied, received: () => received}
}

describe('StreamFollower', () => {
  it('takes a burst in one read, holding it or applying it in order', async () => {
    const {queue, push} = queueStream()
    const {follower, applied, received} = follow(queue)
    // A burst arrives while a list is read: held.
    push(updated(1), updated(2), updated(3))
    await turn()
    expect(follower.take().map((e) => e.id)).toEqual(['t1', 't2', 't3'])
    expect(received()).toBe(2) // t1 went to the waiting reader, t2 and t3 in one read
    follower.goLive()
    push(updated(4), updated(5))
    await turn()
    expect(applied).toEqual(['t4', 't5'])
    queue.end()
    await follower.ended
    expect(follower.done).toBe(true)
    expect(follower.error).toBeUndefined()
  })

  it('stops reading and closes the stream once closed', async () => {
    const {queue, calls, push} = queueStream()
    const {follower, applied} = follow(queue)
    follower.goLive()
    push(updated(1))
    await turn()
    follower.close()
    push(updated(2))
    await follower.ended
    expect(applied).toEqual(['t1'])
    expect(calls.closes).toBe(1)
  })

  it('records the error that ended the stream', async () => {
    const {queue, push} = queueStream()
    const {follower} = follow(queue)
    push(updated(1))
    queue.fail(new WatchUnimplementedError('things'))
    await follower.ended
    expect(follower.take().map((e) => e.id)).toEqual(['t1'])
    expect(follower.unimplemented).toBe(true)
  })

  it('reads a stream without nextBatch one event at a time', async () => {
    async function* plain(): AsyncGenerator<WatchEvent<Thing>> {
      yield updated(1)
      yield updated(2)
    }
    const {follower, applied, received} = follow(plain())
    follower.goLive()
    await follower.ended
    expect(applied).toEqual(['t1', 't2'])
    expect(received()).toBe(2)
    expect(follower.error).toBeUndefined()
  })
})
