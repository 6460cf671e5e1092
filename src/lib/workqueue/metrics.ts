// Hooks a work queue reports through, so the queue stays free of any metrics library; the
// controller's prom-client provider (src/lib/controller/metrics.ts) implements them.

/** What a queue is doing right now, read when metrics are scraped. */
export interface UnfinishedWork {
  /** Sum over keys being processed of how long each has been processing. */
  unfinishedSeconds: number
  /** The longest any key currently being processed has been processing. */
  longestSeconds: number
}

export interface WorkQueueMetrics {
  /** Keys waiting to be handed to a worker. */
  depth(keys: number): void
  /** A key became due (counted once per key until a worker takes it). */
  add(): void
  /** A worker took a key that waited this long since it was added. */
  queued(seconds: number): void
  /** A worker finished a key it held this long. */
  worked(seconds: number): void
  /** A key was re-added later (rate limited or requeue-after). */
  retry(): void
}

export interface WorkQueueMetricsProvider {
  forQueue(name: string, probe: () => UnfinishedWork): WorkQueueMetrics
}

export const noopWorkQueueMetrics: WorkQueueMetrics = {
  depth() {},
  add() {},
  queued() {},
  worked() {},
  retry() {},
}
