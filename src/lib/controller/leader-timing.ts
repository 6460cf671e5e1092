// Lease timing and its rules (client-go's), apart from the elector so that `run` can check its
// flags without loading the Kubernetes client.

export interface LeaderTiming {
  /** How long a lease holds without renewal before another candidate may take it. */
  leaseDurationMs: number
  /** How long the leader keeps trying to renew before it stops leading. */
  renewDeadlineMs: number
  /** Between acquire attempts and between renewals. */
  retryPeriodMs: number
}

export const DEFAULT_LEADER_TIMING: LeaderTiming = {leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000}

/** Renewals and acquire attempts wait retryPeriod times up to 1 + JITTER. */
export const JITTER = 1.2

/** The timing with defaults filled in. */
export function leaderTiming(partial: Partial<LeaderTiming> = {}): LeaderTiming {
  return {
    leaseDurationMs: partial.leaseDurationMs ?? DEFAULT_LEADER_TIMING.leaseDurationMs,
    renewDeadlineMs: partial.renewDeadlineMs ?? DEFAULT_LEADER_TIMING.renewDeadlineMs,
    retryPeriodMs: partial.retryPeriodMs ?? DEFAULT_LEADER_TIMING.retryPeriodMs,
  }
}

/** What is wrong with this timing (defaults filled in), or undefined. */
export function leaderTimingProblem(partial: Partial<LeaderTiming>): string | undefined {
  const {leaseDurationMs, renewDeadlineMs, retryPeriodMs} = leaderTiming(partial)
  if (!(leaseDurationMs > renewDeadlineMs))
    return `the lease duration (${leaseDurationMs} ms) must be greater than the renew deadline (${renewDeadlineMs} ms)`
  if (!(renewDeadlineMs > JITTER * retryPeriodMs))
    return `the renew deadline (${renewDeadlineMs} ms) must be greater than ${JITTER} x the retry period (${retryPeriodMs} ms)`
  return undefined
}
