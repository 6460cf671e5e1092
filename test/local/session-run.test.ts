// What local mode remembers of a session lives in one SessionRun, dropped in one place once it
// holds nothing: these tests pin that lifecycle on a fake runner manager.
import {describe, expect, it} from 'vitest'
import type {Session} from '../../src/lib/api/types.js'
import {silentLogger} from '../../src/lib/log.js'
import type {RunnerExit} from '../../src/lib/process/index.js'
import {SessionRuns, type SessionRunSettings} from '../../src/lib/reconcilers/local/index.js'

interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (err: unknown) => void
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return {promise, resolve, reject}
}

/** Lets promise reactions (and theirs) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve))

function fakeWorld() {
  const stops: {id: string; done: Deferred<RunnerExit | undefined>}[] = []
  const checks: {id: string; signal?: AbortSignal; done: Deferred<void>}[] = []
  const triggered: string[] = []
  const errors: unknown[] = []
  const settings: SessionRunSettings = {
    manager: {
      stop: (id) => {
        const done = deferred<RunnerExit | undefined>()
        stops.push({id, done})
        return done.promise
      },
      waitHealthy: (runner, options) => {
        const done = deferred<void>()
        const id = typeof runner === 'string' ? runner : runner.sessionId
        options?.signal?.addEventListener('abort', () => done.reject(options.signal?.reason))
        checks.push({id, signal: options?.signal, done})
        return done.promise
      },
    },
    healthTimeoutMs: 15_000,
    healthIntervalMs: 500,
    stopGraceMs: 10_000,
    now: () => new Date('2026-01-01T00:00:00Z'),
    logger: {...silentLogger, error: (obj: unknown) => errors.push(obj)} as typeof silentLogger,
    trigger: (id) => triggered.push(id),
  }
  return {runs: new SessionRuns(settings), stops, checks, triggered, errors}
}

const exit: RunnerExit = {sessionId: 'a', exitCode: 3, signal: null, stderrTail: ['boom'], adopted: false, stopRequested: false}
const session = {id: 'a', updated_at: '2026-01-01T00:00:00Z'} as Session

describe('SessionRun', () => {
  it('is kept while it remembers anything, and released only once it holds nothing', () => {
    const {runs} = fakeWorld()
    const run = runs.for('a')
    expect(runs.for('a')).toBe(run)
    run.pid = 4242
    runs.release('a')
    expect(runs.get('a')).toBe(run)

    // The exit takes the pid with it, for matching a stop request to this run.
    run.recordExit(exit)
    expect(run.pid).toBeUndefined()
    expect(run.exit).toMatchObject({exitCode: 3, pid: 4242, stderrTail: ['boom']})
    run.latest = session
    run.endRun()
    expect(run.exit).toBeUndefined()
    runs.release('a')
    expect(runs.get('a')).toBe(run)

    run.latest = undefined
    runs.release('a')
    expect(runs.get('a')).toBeUndefined()
    expect(runs.size).toBe(0)
  })

  it('ending a run forgets its exit, verdict, capacity wait and health check, not its runner or last write', async () => {
    const {runs, checks, triggered} = fakeWorld()
    const run = runs.for('a')
    run.pid = 7
    run.latest = session
    run.waitingForCapacity = true
    run.outcome = {phase: 'Failed', reason: 'r', message: 'm', completionTime: 't', conditions: []}
    run.healthCheck({sessionId: 'a', pid: 7})
    run.stopRunner()
    run.endRun()
    expect([run.exit, run.outcome, run.waitingForCapacity]).toEqual([undefined, undefined, false])
    expect([run.pid, run.latest]).toEqual([7, session])
    expect(run.stopping).toBeDefined()
    expect(checks[0]?.signal?.aborted).toBe(true)
    await settle()
    expect(triggered).toEqual([])
  })

  it('stops its runner once at a time, and asks for a pass when the runner is gone', async () => {
    const {runs, stops, triggered} = fakeWorld()
    const run = runs.for('a')
    run.stopRunner()
    run.stopRunner()
    expect(stops.map((s) => s.id)).toEqual(['a'])
    runs.release('a')
    expect(runs.get('a')).toBe(run)

    stops[0]?.done.resolve(exit)
    await settle()
    expect(triggered).toEqual(['a'])
    expect(run.stopping).toBeUndefined()
    runs.release('a')
    expect(runs.get('a')).toBeUndefined()
  })

  it('a stop that fails is logged, asks for no pass, and may be tried again', async () => {
    const {runs, stops, triggered, errors} = fakeWorld()
    const run = runs.for('a')
    run.stopRunner()
    stops[0]?.done.reject(new Error('group did not die'))
    await settle()
    expect(errors).toHaveLength(1)
    expect(triggered).toEqual([])
    run.stopRunner()
    expect(stops).toHaveLength(2)
  })

  it('keeps the health check of its runner, replaces one of an earlier run, and only a settled current check asks for a pass', async () => {
    const {runs, checks, triggered} = fakeWorld()
    const run = runs.for('a')
    const first = run.healthCheck({sessionId: 'a', pid: 1})
    expect(run.healthCheck({sessionId: 'a', pid: 1})).toBe(first)
    expect(checks).toHaveLength(1)

    const second = run.healthCheck({sessionId: 'a', pid: 2})
    expect(second).not.toBe(first)
    expect(checks[0]?.signal?.aborted).toBe(true)
    await settle()
    expect(first.result).toEqual({kind: 'ended'})
    expect(triggered).toEqual([])

    checks[1]?.done.resolve()
    await settle()
    expect(second.result).toEqual({kind: 'healthy', at: new Date('2026-01-01T00:00:00Z')})
    expect(triggered).toEqual(['a'])
    run.cancelHealthCheck()
    runs.release('a')
    expect(runs.get('a')).toBeUndefined()
  })
})
