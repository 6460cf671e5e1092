export {WatchUnimplementedError, type ResourceSource} from './source.js'
export {
  Informer,
  InformerError,
  type ConnectionState,
  type InformerOptions,
  type InformerStatus,
  type WatchMode,
  type WatchOpenedHint,
} from './informer.js'
export {Emitter, RESOURCE_EVENT_TYPES, type Handler, type ResourceEvent, type ResourceEventType} from './events.js'
export {Store, type Lister} from './store.js'
export {Backoff, DEFAULT_BACKOFF, sleep, type BackoffOptions} from './backoff.js'
export {noopInformerMetrics, type InformerMetrics} from './metrics.js'
