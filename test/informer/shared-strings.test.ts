// SharedStrings: a list's repeated values end up stored once (measured on the heap, the only
// place sharing shows), and nothing else about an object changes.
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'
import {describe, expect, it} from 'vitest'
import type {ObjectMeta} from '../../src/lib/api/types.js'
import {Informer} from '../../src/lib/informer/informer.js'
import {SharedStrings} from '../../src/lib/informer/shared-strings.js'

/** A full garbage collection, so heapUsed counts only what is still referenced. */
const gc = ((): (() => void) => {
  setFlagsFromString('--expose-gc')
  const exposed: unknown = runInNewContext('gc')
  if (typeof exposed !== 'function') throw new Error('no gc() to call')
  return () => void exposed()
})()

const REPO = `https://github.com/acme/${'r'.repeat(200)}`

interface Listed extends ObjectMeta {
  repo_url: string
}

/** Objects as a list brings them: every value a string of its own, fresh from JSON.parse. */
function parsed(count: number): Listed[] {
  return Array.from({length: count}, (_, i) => {
    const object: Listed = JSON.parse(JSON.stringify({id: `id-${i}`, kind: 'Session', href: '', created_at: 'c', updated_at: 'u', repo_url: REPO}))
    return object
  })
}

function heapGrowth(make: () => unknown): {kept: unknown; bytes: number} {
  gc()
  const before = process.memoryUsage().heapUsed
  const kept = make()
  gc()
  return {kept, bytes: process.memoryUsage().heapUsed - before}
}

describe('SharedStrings', () => {
  it("keeps one copy of a value repeated across a list's objects", () => {
    const count = 20_000
    const plain = heapGrowth(() => parsed(count))
    const shared = heapGrowth(() => {
      const strings = new SharedStrings()
      const objects = parsed(count)
      for (const object of objects) strings.share(object)
      return objects
    })
    // Each unshared repo_url costs ~240 bytes: 20k of them are ~4.8 MB more than one.
    expect(plain.bytes - shared.bytes).toBeGreaterThan(count * 150)
    expect([plain.kept, shared.kept]).toHaveLength(2) // both lists stayed alive until measured
  })

  it('is applied by the informer to each page of a list as the source reads it', async () => {
    const count = 20_000
    async function cached(pages: boolean): Promise<number> {
      const source = {
        resource: 'things',
        list: (_signal: AbortSignal, onPage?: (page: readonly Listed[]) => void): Promise<Listed[]> => {
          const objects = parsed(count)
          if (pages) for (let i = 0; i < count; i += 100) onPage?.(objects.slice(i, i + 100))
          return Promise.resolve(objects)
        },
      }
      const informer = new Informer<Listed>({source, watchMode: 'poll', pollIntervalMs: 3_600_000})
      const stop = new AbortController()
      gc()
      const before = process.memoryUsage().heapUsed
      await informer.start(stop.signal)
      await informer.waitForSync()
      gc()
      const bytes = process.memoryUsage().heapUsed - before
      stop.abort()
      await informer.stop()
      expect(informer.list()).toHaveLength(count)
      return bytes
    }
    const plain = await cached(false)
    const shared = await cached(true)
    expect(plain - shared).toBeGreaterThan(count * 150)
  })

  it('changes no value, and leaves other fields and long values alone', () => {
    const long = 'l'.repeat(300)
    const object = {id: 'a', kind: 'Session', name: 'n', prompt: 'p', repo_url: long, phase: 'Running', timeout: 5, labels: undefined}
    const before = structuredClone(object)
    const strings = new SharedStrings()
    strings.share(object)
    strings.share({...before})
    expect(object).toEqual(before)
  })
})
