// The three caches kube mode reads from, all selecting only objects it manages.
import type {Logger} from '../log.js'
import type {BackoffOptions} from '../util/backoff.js'
import {KubeCache, labelIndexer} from './cache.js'
import type {KubeClient} from './client.js'
import {
  AGENTIC_SESSION_GROUP,
  AGENTIC_SESSION_PLURAL,
  AGENTIC_SESSION_VERSION,
  LABEL_PROJECT_ID,
  LABEL_PROJECT_SETTINGS_ID,
  LABEL_SESSION_ID,
  MANAGED_SELECTOR,
  type AgenticSession,
  type NamespaceObject,
  type RoleBindingObject,
} from './types.js'

export const INDEX_SESSION_ID = 'session-id'
export const INDEX_PROJECT_ID = 'project-id'
export const INDEX_PROJECT_SETTINGS_ID = 'project-settings-id'

export interface KubeCaches {
  agenticSessions: KubeCache<AgenticSession>
  namespaces: KubeCache<NamespaceObject>
  roleBindings: KubeCache<RoleBindingObject>
}

export interface KubeCachesOptions {
  client: KubeClient
  logger?: Logger
  backoff?: Partial<BackoffOptions>
  delay?: (ms: number, signal: AbortSignal) => Promise<void>
  now?: () => number
}

export function createKubeCaches(options: KubeCachesOptions): KubeCaches {
  const {client} = options
  const common = {
    kubeConfig: client.config,
    labelSelector: MANAGED_SELECTOR,
    logger: options.logger,
    backoff: options.backoff,
    delay: options.delay,
    now: options.now,
  }
  return {
    agenticSessions: new KubeCache<AgenticSession>({
      ...common,
      name: 'agenticsessions',
      path: `/apis/${AGENTIC_SESSION_GROUP}/${AGENTIC_SESSION_VERSION}/${AGENTIC_SESSION_PLURAL}`,
      list: (labelSelector) => client.agenticSessions.list({labelSelector}),
      indexers: {[INDEX_SESSION_ID]: labelIndexer(LABEL_SESSION_ID)},
    }),
    namespaces: new KubeCache<NamespaceObject>({
      ...common,
      name: 'namespaces',
      path: '/api/v1/namespaces',
      list: (labelSelector) => client.namespaces.list({labelSelector}),
      indexers: {[INDEX_PROJECT_ID]: labelIndexer(LABEL_PROJECT_ID)},
    }),
    roleBindings: new KubeCache<RoleBindingObject>({
      ...common,
      name: 'rolebindings',
      path: '/apis/rbac.authorization.k8s.io/v1/rolebindings',
      list: (labelSelector) => client.roleBindings.list({labelSelector}),
      indexers: {[INDEX_PROJECT_SETTINGS_ID]: labelIndexer(LABEL_PROJECT_SETTINGS_ID)},
    }),
  }
}
