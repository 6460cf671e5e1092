// Reconnect delays (client-go reflector style): exponential from initialMs to maxMs with
// +-jitter so a fleet of informers does not reconnect in lockstep after a server restart.

export interface BackoffOptions {
  /** First delay (default 1000). */
  initialMs: number
  /** Cap before jitter (default 30000). */
  maxMs: number
  /** Fraction of the delay added or removed at random (default 0.25). */
  jitter: number
  /** A stream that stayed healthy this long resets the backoff (default 30000). */
  resetAfterMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = {initialMs: 1000, maxMs: 30_000, jitter: 0.25, resetAfterMs: 30_000}

export class Backoff {
  private attempt = 0

  constructor(
    readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call doubles the base. */
  next(): number {
    const base = Math.min(this.options.maxMs, this.options.initialMs * 2 ** this.attempt)
    this.attempt++
    const factor = 1 + this.options.jitter * (2 * this.random() - 1)
    return Math.max(0, Math.round(base * factor))
  }

  reset(): void {
    this.attempt = 0
  }

  get attempts(): number {
    return this.attempt
  }
}
