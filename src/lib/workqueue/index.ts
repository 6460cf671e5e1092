export {realClock, ManualClock, type Clock, type Timer} from './clock.js'
export {Deque} from './deque.js'
export {WorkQueue, type WorkQueueOptions} from './queue.js'
export {DelayingQueue} from './delaying-queue.js'
export {RateLimitingQueue, type RateLimitingQueueOptions} from './rate-limiting-queue.js'
export {
  BucketRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
  type BucketRateLimiterOptions,
  type ExponentialRateLimiterOptions,
  type RateLimiter,
} from './rate-limiters.js'
export {noopWorkQueueMetrics, type UnfinishedWork, type WorkQueueMetrics, type WorkQueueMetricsProvider} from './metrics.js'
