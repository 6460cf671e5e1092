// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics
// (tools/leaderelection): a candidate takes the lease when it is free or when the holder has
// not renewed it for leaseDuration as measured on the candidate's OWN clock (the time it last
// saw the record change), so clock skew between replicas does not matter; every write is
// conditional on resourceVersion, so two candidates can never both win. A leader renews every
// retryPeriod and, if it cannot renew for renewDeadline (< leaseDuration), stops leading at
// once, before anyone else may take over. On a clean shutdown it keeps renewing while the
// leader's work drains, then releases the lease.
//
// The guarantee: no write after the process knows it lost the lease. It knows the moment a
// renewal fails past renewDeadline, another holder is seen, or its own clock says its last
// successful renewal is renewDeadline old (a process frozen by SIGSTOP, a VM paused, a long GC:
// it learns this on its first step after waking, before any write). Then it aborts the
// leader's in-flight work at once (the `lost` signal), and checkLeading(), which every write
// calls right before it is sent, refuses. A write that passed that check a moment before the
// process froze can still arrive late: only a server-side precondition could stop that.
import {V1MicroTime, type V1Lease} from '@kubernetes/client-node'
import {AmbientError, errorMessage} from '../errors.js'
import {silentLogger, type Logger} from '../log.js'
import type {KubeClient} from '../kube/client.js'
import {isConflict, isNotFound} from '../kube/errors.js'
import {sleep} from '../util/abort.js'
import {JITTER, leaderTiming, leaderTimingProblem} from './leader-timing.js'

export interface LeaderElectorOptions {
  kube: Pick<KubeClient, 'leases'>
  namespace: string
  name: string
  /** Unique per replica (pod name + random suffix). */
  identity: string
  leaseDurationMs?: number
  renewDeadlineMs?: number
  retryPeriodMs?: number
  logger?: Logger
  now?: () => number
  /** Waits `ms`; resolves early (never rejects) when `signal` aborts. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>
  random?: () => number
}

export interface LeaderCallbacks {
  /**
   * Runs while this replica leads. `leaderSignal` aborts when leading ends (lost, or shutting
   * down: stop taking work and drain; the lease is renewed until this returns). `lostSignal`
   * aborts only when leadership is lost: abort in-flight work at once, its writes are refused.
   */
  onStartedLeading(leaderSignal: AbortSignal, lostSignal: AbortSignal): Promise<void>
  /** Called after leading ended (lost or shut down), once onStartedLeading has settled. */
  onStoppedLeading?(): void
  /** The observed holder changed (including to ourselves). */
  onNewLeader?(identity: string): void
}

export class LeaderElectionError extends AmbientError {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, 'ERR_LEADER_ELECTION', options)
  }
}

/** A write refused by the leader fence: this process does not hold the lease (any more). */
export class NotLeaderError extends AmbientError {
  constructor(message: string) {
    super(message, 'ERR_NOT_LEADER')
  }
}

/** One period of leading: from winning the lease to the end of the leader's work. */
interface Term {
  leading: AbortController
  lost: AbortController
}

interface Observed {
  /** The record as last read, to notice when it changes. */
  key: string
  /** Our clock when we first saw this record: expiry is measured from here. */
  at: number
  holder: string
  lease: V1Lease
}

export class LeaderElector {
  readonly identity: string
  private readonly options: Required<Pick<LeaderElectorOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>> & LeaderElectorOptions
  private readonly logger: Logger
  private readonly now: () => number
  private readonly delay: (ms: number, signal: AbortSignal) => Promise<void>
  private readonly random: () => number
  private observed?: Observed
  private leading = false
  private term?: Term
  private reportedLeader?: string
  private onNewLeader?: (identity: string) => void
  /** Our clock when the last successful acquire/renew round STARTED (conservative). */
  private renewedAt = 0
  /** A lease call that hangs (black-holed connection) must not stall a campaign round. */
  private readonly callOptions: {timeoutMs: number}

  constructor(options: LeaderElectorOptions) {
    const {leaseDurationMs, renewDeadlineMs, retryPeriodMs} = leaderTiming(options)
    const problem = leaderTimingProblem({leaseDurationMs, renewDeadlineMs, retryPeriodMs})
    if (problem) throw new LeaderElectionError(problem)
    if (!options.identity) throw new LeaderElectionError('identity must not be empty')
    this.options = {...options, leaseDurationMs, renewDeadlineMs, retryPeriodMs}
    this.callOptions = {timeoutMs: renewDeadlineMs}
    this.identity = options.identity
    this.logger = (options.logger ?? silentLogger).child({lease: `${options.namespace}/${options.name}`, identity: options.identity})
    this.now = options.now ?? Date.now
    this.delay = options.delay ?? sleep
    this.random = options.random ?? Math.random
  }

  isLeader(): boolean {
    return this.leading
  }

  /**
   * The write fence: returns only if this process holds the lease now, by its own clock (its
   * last successful renewal started less than renewDeadline ago); otherwise it stops leading
   * at once (if it still was) and throws NotLeaderError. Synchronous: call it right before a
   * write is sent, with nothing awaited in between.
   */
  checkLeading(): void {
    const term = this.term
    if (!this.leading || !term || term.lost.signal.aborted) throw new NotLeaderError(`${this.identity} does not hold the leader lease`)
    const age = this.now() - this.renewedAt
    if (age >= this.options.renewDeadlineMs) {
      this.depose(`last renewal ${age} ms ago, renew deadline ${this.options.renewDeadlineMs} ms`)
      throw new NotLeaderError(`${this.identity} may have lost the leader lease: not renewed for ${age} ms`)
    }
  }

  /** The holder as last observed ('' when free or unknown). */
  get leader(): string {
    return this.observed?.holder ?? ''
  }

  /**
   * Campaigns until `signal` aborts. Each time it wins it runs onStartedLeading; when it loses
   * (renewal failed past renewDeadline, or someone else holds the lease) it aborts the leader
   * signal at once, waits for onStartedLeading to settle, and campaigns again. Rejects if
   * onStartedLeading rejects (after releasing the lease).
   */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<void> {
    this.onNewLeader = callbacks.onNewLeader
    while (!signal.aborted) {
      const acquired = await this.acquire(signal)
      if (!acquired) break
      const term: Term = {leading: new AbortController(), lost: new AbortController()}
      this.term = term
      this.leading = true
      this.logger.info('became leader')
      // Shutting down ends the work (it drains), but the lease stays ours, renewed, until it has.
      const shuttingDown = () => term.leading.abort(new LeaderElectionError('shutting down'))
      if (signal.aborted) shuttingDown()
      else signal.addEventListener('abort', shuttingDown, {once: true})
      let failure: unknown
      const work = Promise.resolve()
        .then(() => callbacks.onStartedLeading(term.leading.signal, term.lost.signal))
        .catch((err: unknown) => {
          failure = err
        })
      const workEnded = new AbortController()
      void work.then(() => workEnded.abort())
      const outcome = await this.renewLoop(AbortSignal.any([workEnded.signal, term.lost.signal]))
      if (outcome === 'lost') this.depose('lease not renewed in time, or another holder')
      signal.removeEventListener('abort', shuttingDown)
      const lost = term.lost.signal.aborted
      this.leading = false
      term.leading.abort(new LeaderElectionError(lost ? 'leadership lost' : 'leader work ended'))
      await work
      this.term = undefined
      // Release only once the leader's work has stopped, so nothing writes after another takes over.
      if (!lost) await this.release()
      callbacks.onStoppedLeading?.()
      if (failure !== undefined) {
        throw new LeaderElectionError(`leader work failed: ${errorMessage(failure)}`, {cause: failure})
      }
      if (!lost && !signal.aborted) {
        // The leader's work finished on its own: nothing left to lead for.
        break
      }
    }
  }

  /** Leadership is lost: abort the leader's work at once and refuse its writes from now on. */
  private depose(reason: string): void {
    const term = this.term
    if (!term || term.lost.signal.aborted) return
    this.leading = false
    const error = new LeaderElectionError(`leadership lost: ${reason}`)
    term.lost.abort(error)
    term.leading.abort(error)
    this.logger.warn({reason}, 'stopped leading: lease lost')
  }

  /** Tries every retryPeriod (with jitter) until it holds the lease; false if aborted. */
  private async acquire(signal: AbortSignal): Promise<boolean> {
    this.logger.info('attempting to acquire leader lease')
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) return true
      this.reportLeader()
      const wait = this.options.retryPeriodMs * (1 + this.random() * JITTER)
      await this.delay(wait, signal)
    }
    return false
  }

  /** 'lost' when renewal failed past the deadline or another holder appeared; 'stopped' when `stop` aborted. */
  private async renewLoop(stop: AbortSignal): Promise<'lost' | 'stopped'> {
    let lastRenew = this.renewedAt
    const {renewDeadlineMs, retryPeriodMs} = this.options
    this.reportLeader()
    while (!stop.aborted) {
      const remaining = lastRenew + renewDeadlineMs - this.now()
      if (remaining <= 0) return 'lost'
      await this.delay(Math.min(retryPeriodMs, remaining), stop)
      if (stop.aborted) break
      const left = lastRenew + renewDeadlineMs - this.now()
      if (left <= 0) return 'lost'
      // Race the attempt against the deadline: a hung request must not keep us leading.
      const deadline = new AbortController()
      const timeout = this.delay(left, AbortSignal.any([stop, deadline.signal])).then(() => 'deadline' as const)
      const attempt = this.tryAcquireOrRenew().then((ok) => (ok ? ('renewed' as const) : ('failed' as const)))
      const outcome = await Promise.race([attempt, timeout])
      deadline.abort()
      if (stop.aborted) {
        // A renewal still in flight lands first: a release that follows must carry the lease's
        // latest resourceVersion (the call has its own deadline, so this wait is bounded).
        await attempt
        break
      }
      if (outcome === 'renewed') {
        lastRenew = this.renewedAt
        continue
      }
      if (outcome === 'deadline') return 'lost'
      if (this.observed && this.observed.holder !== this.identity) {
        this.reportLeader()
        return 'lost'
      }
    }
    return 'stopped'
  }

  /** One round of client-go's tryAcquireOrRenew; never throws. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const {namespace, name, kube} = this.options
    const now = this.now()
    let current: V1Lease
    try {
      current = await kube.leases.get(namespace, name, this.callOptions)
    } catch (err) {
      if (!isNotFound(err)) {
        this.logger.warn({err: errorMessage(err)}, 'cannot read leader lease')
        return false
      }
      try {
        const created = await kube.leases.create(
          namespace,
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: {name, namespace},
            spec: this.record(now, undefined),
          },
          this.callOptions,
        )
        this.observe(created, this.now())
        this.renewedAt = now
        return true
      } catch (createErr) {
        this.logger.debug({err: errorMessage(createErr)}, 'lost the race to create the lease')
        return false
      }
    }
    this.observe(current, now)
    const spec = current.spec ?? {}
    const holder = spec.holderIdentity ?? ''
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000
    const observedAt = this.observed?.at ?? now
    if (holder !== '' && holder !== this.identity && observedAt + durationMs > now) return false
    try {
      const updated = await kube.leases.replace(namespace, {...current, spec: this.record(now, current)}, this.callOptions)
      this.observe(updated, this.now())
      this.renewedAt = now
      return true
    } catch (err) {
      this.logger.debug({err: errorMessage(err)}, 'lease update failed')
      return false
    }
  }

  private record(now: number, current: V1Lease | undefined): NonNullable<V1Lease['spec']> {
    const spec = current?.spec ?? {}
    const ours = (spec.holderIdentity ?? '') === this.identity
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1000),
      acquireTime: ours && spec.acquireTime ? spec.acquireTime : new V1MicroTime(now),
      renewTime: new V1MicroTime(now),
      leaseTransitions: ours ? (spec.leaseTransitions ?? 0) : current ? (spec.leaseTransitions ?? 0) + 1 : 0,
    }
  }

  private observe(lease: V1Lease, now: number): void {
    const spec = lease.spec ?? {}
    const key = JSON.stringify([
      spec.holderIdentity ?? '',
      String(spec.renewTime ?? ''),
      String(spec.acquireTime ?? ''),
      spec.leaseDurationSeconds ?? 0,
      spec.leaseTransitions ?? 0,
    ])
    if (this.observed?.key !== key) this.observed = {key, at: now, holder: spec.holderIdentity ?? '', lease}
    else this.observed.lease = lease
  }

  private reportLeader(): void {
    const holder = this.observed?.holder ?? ''
    if (holder === this.reportedLeader) return
    this.reportedLeader = holder
    if (holder) this.logger.info({leader: holder}, 'new leader observed')
    this.onNewLeader?.(holder)
  }

  /** Hands the lease back (holder '' and a 1 s duration) so a successor need not wait. */
  private async release(): Promise<void> {
    const {kube, namespace, name} = this.options
    let lease = this.observed?.lease
    // Once more after a 409: the record moved on (our own late renewal); still ours, say so again.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!lease || (lease.spec?.holderIdentity ?? '') !== this.identity) return
      const now = this.now()
      try {
        const released = await kube.leases.replace(
          namespace,
          {
            ...lease,
            spec: {
              holderIdentity: '',
              leaseDurationSeconds: 1,
              acquireTime: new V1MicroTime(now),
              renewTime: new V1MicroTime(now),
              leaseTransitions: lease.spec?.leaseTransitions ?? 0,
            },
          },
          this.callOptions,
        )
        this.observe(released, now)
        this.logger.info('released leader lease')
        return
      } catch (err) {
        if (attempt === 0 && isConflict(err)) {
          lease = await kube.leases.get(namespace, name, this.callOptions).catch(() => undefined)
          continue
        }
        this.logger.warn({err: errorMessage(err)}, 'could not release leader lease')
        return
      }
    }
  }
}
