// A controller over a real Informer following the in-memory server, with a hand-driven clock.
import {expect} from 'vitest'
import {Controller, type ControllerOptions, type ReconcileRequest, type ReconcileResult} from '../../src/lib/controller/controller.js'
import {Informer} from '../../src/lib/informer/informer.js'
import type {ResourceSource} from '../../src/lib/api/watch-source.js'
import {ManualClock} from '../../src/lib/workqueue/clock.js'
import {MemoryServer, type Thing} from '../informer/memory-source.js'

export interface Harness {
  server: MemoryServer
  informer: Informer<Thing>
  controller: Controller<Thing>
  clock: ManualClock
  abort: AbortController
  run: Promise<void>
  /** Every request seen, in order. */
  calls: ReconcileRequest<Thing>[]
  attempts: Map<string, number>
  maxConcurrentPerId: () => number
}

/** `attempt` counts passes for the id, this one included. */
export type Handle = (req: ReconcileRequest<Thing>, signal: AbortSignal, attempt: number) => Promise<ReconcileResult | void>

/** Objects created by the server now are older than 2 h on this clock (not "recent"). */
export function lateClock(): ManualClock {
  return new ManualClock(Date.now() + 3 * 3600_000)
}

export async function startHarness(options: {
  server?: MemoryServer
  handle?: Handle
  clock?: ManualClock
  informer?: (source: ResourceSource<Thing>) => Informer<Thing>
  controller?: Partial<ControllerOptions<Thing>>
  /** Options of controller.start (e.g. the `abort` of a leader's lost lease). */
  start?: {abort?: AbortSignal}
}): Promise<Harness> {
  const server = options.server ?? new MemoryServer()
  const clock = options.clock ?? lateClock()
  const abort = new AbortController()
  const informer = options.informer?.(server.source()) ?? new Informer<Thing>({source: server.source(), backoff: {initialMs: 2, maxMs: 10}})
  await informer.start(abort.signal)
  const calls: ReconcileRequest<Thing>[] = []
  const attempts = new Map<string, number>()
  const active = new Map<string, number>()
  let maxConcurrent = 0
  const handle = options.handle ?? (async () => {})
  const controller = new Controller<Thing>({
    name: 'things',
    informer,
    clock,
    workers: 4,
    resync: {attentionMs: 1e12, stableMs: 1e12},
    ...options.controller,
    reconciler: {
      async reconcile(req, signal) {
        calls.push(req)
        const attempt = (attempts.get(req.id) ?? 0) + 1
        attempts.set(req.id, attempt)
        const n = (active.get(req.id) ?? 0) + 1
        active.set(req.id, n)
        maxConcurrent = Math.max(maxConcurrent, n)
        try {
          // Yield so workers interleave.
          await new Promise((r) => setImmediate(r))
          return await handle(req, signal, attempt)
        } finally {
          active.set(req.id, (active.get(req.id) ?? 1) - 1)
        }
      },
    },
  })
  const run = controller.start(abort.signal, options.start)
  run.catch(() => {})
  await expect.poll(() => controller.stats().running, {timeout: 20_000}).toBe(true)
  return {server, informer, controller, clock, abort, run, calls, attempts, maxConcurrentPerId: () => maxConcurrent}
}

/** Polls until nothing is queued or in flight and `done()` holds. */
export async function settle(h: Harness, done: () => boolean = () => true): Promise<void> {
  await expect
    .poll(
      () => {
        const s = h.controller.stats()
        return s.queueDepth === 0 && s.inFlight === 0 && done()
      },
      {timeout: 20_000, interval: 5},
    )
    .toBe(true)
}

export async function stopHarness(h: Harness): Promise<void> {
  h.abort.abort()
  await h.run
  await h.informer.done
}
