import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {LeaderElector, LeaderElectionError, NotLeaderError} from '../../src/lib/controller/leader.js'
import {KubeClient} from '../../src/lib/kube/client.js'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {kubeConfigVia, startTcpProxy, until, type ProxyMode, type TcpProxy} from './helpers.js'

const timing = {leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 400}

let kube: FakeKube
const cleanups: (() => Promise<void> | void)[] = []

beforeAll(async () => {
  kube = await startFakeKube({namespaces: ['default', 'ambient-code']})
})

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

afterAll(async () => {
  await kube?.close()
})

interface Candidate {
  id: string
  elector: LeaderElector
  proxy: TcpProxy
  run: AbortController
  done: Promise<void>
  /** [event, time] in order. */
  log: {event: 'start' | 'stop'; at: number}[]
  leaderSignals: AbortSignal[]
  lostSignals: AbortSignal[]
  partition(mode: ProxyMode): void
}

async function candidate(
  id: string,
  lease = 'ambient-control-plane',
  onLead?: (signal: AbortSignal, lost: AbortSignal) => Promise<void>,
  options: {now?: () => number} = {},
): Promise<Candidate> {
  const proxy = await startTcpProxy(kube.url)
  const client = new KubeClient({kubeConfig: kubeConfigVia(kube.kubeConfig(), proxy.url)})
  const elector = new LeaderElector({kube: client, namespace: 'ambient-code', name: lease, identity: id, ...timing, ...options})
  const run = new AbortController()
  const c: Candidate = {
    id,
    elector,
    proxy,
    run,
    done: Promise.resolve(),
    log: [],
    leaderSignals: [],
    lostSignals: [],
    partition: (mode) => proxy.setMode(mode),
  }
  c.done = elector.run(run.signal, {
    onStartedLeading: async (signal, lost) => {
      c.log.push({event: 'start', at: Date.now()})
      c.leaderSignals.push(signal)
      c.lostSignals.push(lost)
      if (onLead) return onLead(signal, lost)
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), {once: true}))
    },
    onStoppedLeading: () => {
      c.log.push({event: 'stop', at: Date.now()})
    },
  })
  cleanups.push(async () => {
    run.abort()
    proxy.setMode('reset')
    await c.done.catch(() => undefined)
    client.close()
    await proxy.close()
  })
  return c
}

function leadersNow(cs: Candidate[]): string[] {
  return cs.filter((c) => c.elector.isLeader()).map((c) => c.id)
}

describe('LeaderElector', () => {
  it('lets exactly one of two candidates lead, and hands over on a clean shutdown', async () => {
    const a = await candidate('a', 'lease-1')
    const b = await candidate('b', 'lease-1')
    const first = await until('a leader', () => leadersNow([a, b]).length === 1 && leadersNow([a, b])[0])
    // Several renew periods later, still exactly one leader and no transitions.
    const samples: string[][] = []
    await until('renewals observed', async () => {
      samples.push(leadersNow([a, b]))
      const lease = kube.get('leases.coordination.k8s.io', 'ambient-code', 'lease-1')
      return samples.length > 40 && (lease?.spec as {renewTime?: string})?.renewTime
    })
    expect(samples.every((s) => s.length === 1 && s[0] === first)).toBe(true)
    const lease = kube.get('leases.coordination.k8s.io', 'ambient-code', 'lease-1')
    expect(lease?.spec).toMatchObject({holderIdentity: first, leaseDurationSeconds: 3, leaseTransitions: 0})

    const [leader, other] = first === 'a' ? [a, b] : [b, a]
    leader.run.abort()
    await leader.done
    expect(leader.leaderSignals[0].aborted).toBe(true)
    // A shutdown is not a loss: in-flight work was drained, not aborted.
    expect(leader.lostSignals[0].aborted).toBe(false)
    expect(
      (kube.get('leases.coordination.k8s.io', 'ambient-code', 'lease-1')?.spec as {holderIdentity?: string} | undefined)?.holderIdentity,
    ).not.toBe(leader.id)
    await until('the other leads', () => other.elector.isLeader())
    // Released, not expired: the successor did not wait out the lease duration.
    expect(other.log[0].at - leader.log[leader.log.length - 1].at).toBeLessThan(timing.leaseDurationMs)
    expect(
      (kube.get('leases.coordination.k8s.io', 'ambient-code', 'lease-1')?.spec as {leaseTransitions?: number} | undefined)?.leaseTransitions,
    ).toBe(1)
  })

  it.each(['blackhole', 'reset'] as const)('a leader cut off (%s) stops leading before anyone else may start', async (mode) => {
    const a = await candidate('a', `lease-${mode}`)
    await until('a leads', () => a.elector.isLeader())
    const b = await candidate('b', `lease-${mode}`)
    // Let b observe a few renewals.
    await until('b observed a as leader', () => b.elector.leader === 'a')

    const cutAt = Date.now()
    a.partition(mode)
    await until('a stopped leading', () => a.leaderSignals[0]?.aborted)
    // Lost, not shut down: in-flight work is aborted, writes refused.
    expect(a.lostSignals[0].aborted).toBe(true)
    expect(() => a.elector.checkLeading()).toThrow(NotLeaderError)
    const stoppedAt = a.log.find((l) => l.event === 'stop')?.at ?? Date.now()
    // Not before the renew deadline from its last good renewal...
    expect(stoppedAt - cutAt + timing.retryPeriodMs).toBeGreaterThanOrEqual(timing.renewDeadlineMs - timing.retryPeriodMs)
    expect(a.elector.isLeader()).toBe(false)

    await until('b took over', () => b.elector.isLeader())
    const startedAt = b.log[0].at
    // ...and the successor only after the old leader stopped, and after the lease expired.
    expect(startedAt).toBeGreaterThan(stoppedAt)
    expect(startedAt - cutAt).toBeGreaterThanOrEqual(timing.leaseDurationMs - timing.retryPeriodMs)
    // Within about one lease period (generous bound for a loaded machine).
    expect(startedAt - cutAt).toBeLessThan(timing.leaseDurationMs * 4)

    // Healed, a is a follower: b keeps the lease.
    a.partition('pass')
    await until('a saw b', () => a.elector.leader === 'b')
    expect(leadersNow([a, b])).toEqual(['b'])
  })

  it('fences writes by its own clock: a renewal renewDeadline old means it stops leading at once', async () => {
    // The process's clock, moved on as if it had been frozen (SIGSTOP) for the renew deadline.
    let frozenFor = 0
    const c = await candidate('frozen', 'lease-fence', undefined, {now: () => Date.now() + frozenFor})
    const other = await candidate('other', 'lease-fence')
    await until('frozen leads', () => c.elector.isLeader())
    await until('other follows', () => other.elector.leader === 'frozen')
    expect(() => c.elector.checkLeading()).not.toThrow()
    expect(() => other.elector.checkLeading()).toThrow(NotLeaderError)
    frozenFor = timing.renewDeadlineMs
    expect(() => c.elector.checkLeading()).toThrow(NotLeaderError)
    // Knowing is acting, in the same step: the work is aborted and leading is over, before the
    // renew loop (its timer) has had a chance to notice.
    expect(c.lostSignals[0].aborted).toBe(true)
    expect(c.leaderSignals[0].aborted).toBe(true)
    expect(c.elector.isLeader()).toBe(false)
    await until('onStoppedLeading', () => c.log.some((l) => l.event === 'stop'))
  })

  it('on shutdown keeps the lease renewed while the work drains, and only then releases it', async () => {
    let drained: () => void = () => {}
    const draining = new Promise<void>((resolve) => (drained = resolve))
    const c = await candidate('drainer', 'lease-drain', async (signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, {once: true}))
      await draining
    })
    await until('drainer leads', () => c.elector.isLeader())
    c.run.abort()
    const renewals = new Set<string>()
    await until('renewals during the drain', () => {
      const spec = kube.get('leases.coordination.k8s.io', 'ambient-code', 'lease-drain')?.spec as {renewTime?: string; holderIdentity?: string}
      if (spec.holderIdentity === 'drainer') renewals.add(String(spec.renewTime))
      return renewals.size >= 3
    })
    // Still the leader, its writes still allowed, its in-flight work not aborted.
    expect(c.leaderSignals[0].aborted).toBe(true)
    expect(c.lostSignals[0].aborted).toBe(false)
    expect(() => c.elector.checkLeading()).not.toThrow()
    drained()
    await c.done
    expect(
      (kube.get('leases.coordination.k8s.io', 'ambient-code', 'lease-drain')?.spec as {holderIdentity?: string} | undefined)?.holderIdentity ?? '',
    ).toBe('')
    expect(() => c.elector.checkLeading()).toThrow(NotLeaderError)
  })

  it('rejects when the leader work fails, after releasing the lease', async () => {
    const c = await candidate('solo', 'lease-fail', async () => {
      throw new Error('boom')
    })
    await expect(c.done).rejects.toThrow(LeaderElectionError)
    await expect(c.done).rejects.toThrow(/boom/)
    const spec = kube.get('leases.coordination.k8s.io', 'ambient-code', 'lease-fail')?.spec as {holderIdentity?: string}
    expect(spec.holderIdentity ?? '').toBe('')
  })

  it('validates its timing', () => {
    const kc = {leases: new KubeClient({kubeConfig: kube.kubeConfig()}).leases}
    expect(() => new LeaderElector({kube: kc, namespace: 'n', name: 'l', identity: 'x', leaseDurationMs: 10, renewDeadlineMs: 10})).toThrow(
      /lease duration/,
    )
    expect(() => new LeaderElector({kube: kc, namespace: 'n', name: 'l', identity: ''})).toThrow(/identity/)
  })
})
