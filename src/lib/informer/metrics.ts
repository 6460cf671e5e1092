// Hooks an informer reports through; src/lib/controller/metrics.ts implements them on
// prom-client, and an informer without metrics uses the no-op.
import type {ResourceEventType} from './events.js'

export interface InformerMetrics {
  /** Called once per informer so every series of the resource starts at 0. */
  registerResource(resource: string): void
  informerEvent(resource: string, type: ResourceEventType): void
  informerReconnect(resource: string): void
  informerCacheSize(resource: string, size: number): void
  informerSynced(resource: string, synced: boolean): void
}

export const noopInformerMetrics: InformerMetrics = {
  registerResource() {},
  informerEvent() {},
  informerReconnect() {},
  informerCacheSize() {},
  informerSynced() {},
}
