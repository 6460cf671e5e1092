// The Manager's contract, controller-runtime's: listeners first, then caches, then (every cache
// synced) runnables, then leader-only runnables, inside leader election when there is one;
// stop in reverse, cleanups after; a listener that cannot start names its setting.
import net from 'node:net'
import {describe, expect, it} from 'vitest'
import {Manager, type LeaderElection} from '../../src/lib/controller/manager.js'
import {ConfigError} from '../../src/lib/errors.js'
import type {Cache} from '../../src/lib/lifecycle.js'
import {waitForAbort} from '../../src/lib/util/abort.js'
import {waitFor} from '../helpers/wait.js'

function recorder() {
  const log: string[] = []
  const runnable = (name: string) => ({
    name,
    async start(signal: AbortSignal) {
      log.push(`start ${name}`)
      await waitForAbort(signal)
      log.push(`stop ${name}`)
    },
  })
  let markSynced: () => void = () => {}
  const synced = new Promise<void>((resolve) => (markSynced = resolve))
  const cache: Cache = {
    ...runnable('cache'),
    waitForSync: async () => {
      await synced
      log.push('synced')
    },
  }
  return {log, runnable, cache, markSynced}
}

describe('Manager', () => {
  it('starts caches, then runnables once synced, then leader-only ones; stops in reverse, then cleans up', async () => {
    const {log, runnable, cache, markSynced} = recorder()
    const mgr = new Manager()
      .addCache(cache)
      .add(runnable('proxy'))
      .addLeaderOnly({name: 'controller', start: (signal) => runnable('controller').start(signal)})
      .addCleanup('client', async () => void log.push('cleanup client'))
    const stop = new AbortController()
    const running = mgr.start(stop.signal)
    await waitFor(() => log.includes('start cache'), 'the cache to start')
    expect(log).toEqual(['start cache'])
    expect(mgr.hasSynced()).toBe(false)
    markSynced()
    await waitFor(() => log.includes('start controller'), 'the controller to start')
    expect(mgr.hasSynced()).toBe(true)
    expect(mgr.leaderState()).toBe('disabled')
    stop.abort()
    await running
    expect(log).toEqual(['start cache', 'synced', 'start proxy', 'start controller', 'stop controller', 'stop proxy', 'stop cache', 'cleanup client'])
  })

  it('runs leader-only runnables only inside a term, and hands them the lost signal', async () => {
    const {runnable, cache, markSynced} = recorder()
    markSynced()
    let lose: () => void = () => {}
    const terms: string[] = []
    const election: LeaderElection = {
      state: () => 'leading',
      async run(signal, whileLeading) {
        const leader = new AbortController()
        const lost = new AbortController()
        lose = () => {
          lost.abort()
          leader.abort()
        }
        signal.addEventListener('abort', () => leader.abort(), {once: true})
        terms.push('term')
        await whileLeading(leader.signal, lost.signal)
        await waitForAbort(signal)
      },
    }
    let lostSeen = false
    const mgr = new Manager().addCache(cache).setLeaderElection(election)
    mgr.addLeaderOnly({
      name: 'controller',
      async start(signal, lost) {
        lost.addEventListener('abort', () => (lostSeen = true), {once: true})
        await runnable('controller').start(signal)
      },
    })
    const stop = new AbortController()
    const running = mgr.start(stop.signal)
    await waitFor(() => terms.length === 1, 'a term')
    expect(mgr.leaderState()).toBe('leading')
    lose()
    await waitFor(() => lostSeen, 'the lost signal to reach the controller')
    stop.abort()
    await running
  })

  it('names the setting of a listener that cannot start (exit 2)', async () => {
    const busy = net.createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as net.AddressInfo).port
    try {
      const mgr = new Manager({metricsAddr: {host: '127.0.0.1', port, variable: 'METRICS_ADDR'}})
      const err = await mgr.start(new AbortController().signal).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ConfigError)
      expect(err).toMatchObject({
        variable: 'METRICS_ADDR',
        exitCode: 2,
        message: expect.stringMatching(/^METRICS_ADDR: cannot listen on 127\.0\.0\.1:\d+: the address is in use/),
      })
    } finally {
      busy.close()
    }
  })

  it('fails when a component fails on its own, stopping the rest', async () => {
    const {log, runnable, cache, markSynced} = recorder()
    markSynced()
    const mgr = new Manager()
      .addCache(cache)
      .add(runnable('proxy'))
      .add({
        name: 'broken',
        start: async () => {
          throw new Error('boom')
        },
      })
    await expect(mgr.start(new AbortController().signal)).rejects.toThrow('boom')
    expect(log).toContain('stop proxy')
    expect(log).toContain('stop cache')
  })
})
