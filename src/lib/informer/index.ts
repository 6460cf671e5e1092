export {WatchUnimplementedError, type ResourceSource, type WatchStream} from '../api/watch-source.js'
export {
  DEFAULT_CONFIRM_RELIST_AFTER_MS,
  Informer,
  InformerError,
  type ConnectionState,
  type InformerOptions,
  type InformerStatus,
  type WatchMode,
} from './informer.js'
export {Emitter, RESOURCE_EVENT_TYPES, type Handler, type ResourceEvent, type ResourceEventType} from './events.js'
export {Store, type Lister} from './store.js'
export {Backoff, DEFAULT_BACKOFF, type BackoffOptions} from '../util/backoff.js'
export {noopInformerMetrics, type InformerMetrics} from './metrics.js'
