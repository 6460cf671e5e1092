// Typed wrappers over client-node for exactly the objects kube mode touches. Every call goes
// through the instrumented KubeConfig (rate limit, counter), every failure becomes a
// KubeApiError, and patches are JSON merge patches (RFC 7386), which CRDs support.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  Observable,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type EventsV1Event,
  type KubeConfig,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type V1Lease,
  type V1Namespace,
  type V1RoleBinding,
} from '@kubernetes/client-node'
import {InstrumentedKubeConfig} from './config.js'
import {AmbientError} from '../errors.js'
import {KubeApiError, toKubeApiError} from './errors.js'
import {
  AGENTIC_SESSION_GROUP,
  AGENTIC_SESSION_PLURAL,
  AGENTIC_SESSION_VERSION,
  type AgenticSession,
  type NamespaceObject,
  type RoleBindingObject,
} from './types.js'

export type MergePatch = Record<string, unknown>

export interface ListResult<T> {
  items: T[]
  resourceVersion: string
}

export interface ListOptions {
  namespace?: string
  labelSelector?: string
}

export interface DeleteOptions extends CallOptions {
  /** Only delete this incarnation (precondition): never a same-named successor. */
  uid?: string
  resourceVersion?: string
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'
}

/**
 * Every (verb, resource) the running control plane sends (reconcilers, caches, event
 * recorder, leader election): deploy/rbac.yaml grants exactly these, and a test checks both
 * against each other and against what the end-to-end tests really sent. The wrappers' replace
 * methods (PUT) exist for tools and tests; the controller never calls them, so `update` on
 * agenticsessions is not granted.
 */
export const KUBE_PERMISSIONS = [
  ...['get', 'list', 'watch', 'create', 'patch', 'delete'].map((verb) => `${verb} agenticsessions.${AGENTIC_SESSION_GROUP}`),
  `patch agenticsessions.${AGENTIC_SESSION_GROUP}/status`,
  ...['get', 'list', 'watch', 'create', 'patch'].map((verb) => `${verb} namespaces`),
  ...['get', 'list', 'watch', 'create', 'patch', 'delete'].map((verb) => `${verb} rolebindings.rbac.authorization.k8s.io`),
  ...['create', 'patch'].map((verb) => `${verb} events.events.k8s.io`),
  ...['get', 'create', 'update'].map((verb) => `${verb} leases.coordination.k8s.io`),
] as const

export interface CallOptions {
  /** Deadline of this call (ms), shorter than the config's default. */
  timeoutMs?: number
  /** Aborts this call: the caller's work was cancelled (a reconcile whose leader lost the lease). */
  signal?: AbortSignal
}

/** A per-call deadline and signal as middleware (the generated API has no signal parameter). */
function callOptions(options: CallOptions | undefined) {
  const ms = options?.timeoutMs
  const signal = options?.signal
  if (!ms && !signal) return undefined
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      const own = ctx.getSignal()
      const signals = [...(own ? [own] : []), ...(ms ? [AbortSignal.timeout(ms)] : []), ...(signal ? [signal] : [])]
      const [only] = signals
      ctx.setSignal(signals.length === 1 && only ? only : AbortSignal.any(signals))
      return new Observable(Promise.resolve(ctx))
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  }
  return {middleware: [middleware], middlewareMergeStrategy: 'append' as const}
}

/** Call options for a JSON merge patch (RFC 7386): the content type, then the deadline and signal. */
function mergePatch(options: CallOptions | undefined) {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch, callOptions(options))
}

async function call<T>(what: string, options: CallOptions | undefined, fn: () => Promise<T>): Promise<T> {
  // Not even queued for the rate limiter when the caller has given up already.
  if (options?.signal?.aborted) throw toKubeApiError(options.signal.reason, what)
  try {
    return await fn()
  } catch (err) {
    // Our own refusals (the leader's write fence) pass through as they are.
    if (err instanceof AmbientError && !(err instanceof KubeApiError)) throw err
    throw toKubeApiError(err, what)
  }
}

function listMeta(list: unknown): string {
  const meta = (list as {metadata?: {resourceVersion?: unknown}} | undefined)?.metadata
  return typeof meta?.resourceVersion === 'string' ? meta.resourceVersion : ''
}

function deleteBody(options: DeleteOptions) {
  const preconditions: {uid?: string; resourceVersion?: string} = {}
  if (options.uid) preconditions.uid = options.uid
  if (options.resourceVersion) preconditions.resourceVersion = options.resourceVersion
  return {
    ...(Object.keys(preconditions).length > 0 ? {preconditions} : {}),
    ...(options.propagationPolicy ? {propagationPolicy: options.propagationPolicy} : {}),
  }
}

export class AgenticSessionsClient {
  private readonly base = {group: AGENTIC_SESSION_GROUP, version: AGENTIC_SESSION_VERSION, plural: AGENTIC_SESSION_PLURAL}

  constructor(private readonly api: CustomObjectsApi) {}

  get(namespace: string, name: string, options?: CallOptions): Promise<AgenticSession> {
    return call(`get agenticsessions ${namespace}/${name}`, options, () =>
      this.api.getNamespacedCustomObject({...this.base, namespace, name}, callOptions(options)),
    )
  }

  async list(options: ListOptions & CallOptions = {}): Promise<ListResult<AgenticSession>> {
    const list: unknown = await call('list agenticsessions', options, () =>
      options.namespace
        ? this.api.listNamespacedCustomObject(
            {...this.base, namespace: options.namespace, labelSelector: options.labelSelector},
            callOptions(options),
          )
        : this.api.listClusterCustomObject({...this.base, labelSelector: options.labelSelector}, callOptions(options)),
    )
    const items = (list as {items?: AgenticSession[]}).items ?? []
    return {items, resourceVersion: listMeta(list)}
  }

  create(object: AgenticSession, options?: CallOptions): Promise<AgenticSession> {
    const namespace = object.metadata.namespace ?? 'default'
    return call(`create agenticsessions ${namespace}/${object.metadata.name}`, options, () =>
      this.api.createNamespacedCustomObject({...this.base, namespace, body: object}, callOptions(options)),
    )
  }

  /** PUT; with metadata.resourceVersion set the write is conditional (409 when stale). */
  replace(object: AgenticSession, options?: CallOptions): Promise<AgenticSession> {
    const namespace = object.metadata.namespace ?? 'default'
    const name = object.metadata.name ?? ''
    return call(`update agenticsessions ${namespace}/${name}`, options, () =>
      this.api.replaceNamespacedCustomObject({...this.base, namespace, name, body: object}, callOptions(options)),
    )
  }

  patch(namespace: string, name: string, patch: MergePatch, options?: CallOptions): Promise<AgenticSession> {
    return call(`patch agenticsessions ${namespace}/${name}`, options, () =>
      this.api.patchNamespacedCustomObject({...this.base, namespace, name, body: patch}, mergePatch(options)),
    )
  }

  async delete(namespace: string, name: string, options: DeleteOptions = {}): Promise<void> {
    await call(`delete agenticsessions ${namespace}/${name}`, options, () =>
      this.api.deleteNamespacedCustomObject({...this.base, namespace, name, body: deleteBody(options)}, callOptions(options)),
    )
  }

  getStatus(namespace: string, name: string, options?: CallOptions): Promise<AgenticSession> {
    return call(`get agenticsessions/status ${namespace}/${name}`, options, () =>
      this.api.getNamespacedCustomObjectStatus({...this.base, namespace, name}, callOptions(options)),
    )
  }

  replaceStatus(object: AgenticSession, options?: CallOptions): Promise<AgenticSession> {
    const namespace = object.metadata.namespace ?? 'default'
    const name = object.metadata.name ?? ''
    return call(`update agenticsessions/status ${namespace}/${name}`, options, () =>
      this.api.replaceNamespacedCustomObjectStatus({...this.base, namespace, name, body: object}, callOptions(options)),
    )
  }

  patchStatus(namespace: string, name: string, patch: MergePatch, options?: CallOptions): Promise<AgenticSession> {
    return call(`patch agenticsessions/status ${namespace}/${name}`, options, () =>
      this.api.patchNamespacedCustomObjectStatus({...this.base, namespace, name, body: patch}, mergePatch(options)),
    )
  }
}

export class NamespacesClient {
  constructor(private readonly api: CoreV1Api) {}

  async get(name: string, options?: CallOptions): Promise<NamespaceObject> {
    return (await call(`get namespaces ${name}`, options, () => this.api.readNamespace({name}, callOptions(options)))) as NamespaceObject
  }

  async list(options: Omit<ListOptions, 'namespace'> & CallOptions = {}): Promise<ListResult<NamespaceObject>> {
    const list = await call('list namespaces', options, () => this.api.listNamespace({labelSelector: options.labelSelector}, callOptions(options)))
    return {items: list.items as NamespaceObject[], resourceVersion: listMeta(list)}
  }

  async create(object: NamespaceObject, options?: CallOptions): Promise<NamespaceObject> {
    return (await call(`create namespaces ${object.metadata.name}`, options, () =>
      this.api.createNamespace({body: object as V1Namespace}, callOptions(options)),
    )) as NamespaceObject
  }

  async patch(name: string, patch: MergePatch, options?: CallOptions): Promise<NamespaceObject> {
    return (await call(`patch namespaces ${name}`, options, () =>
      this.api.patchNamespace({name, body: patch}, mergePatch(options)),
    )) as NamespaceObject
  }
}

export class RoleBindingsClient {
  constructor(private readonly api: RbacAuthorizationV1Api) {}

  async get(namespace: string, name: string, options?: CallOptions): Promise<RoleBindingObject> {
    return (await call(`get rolebindings ${namespace}/${name}`, options, () =>
      this.api.readNamespacedRoleBinding({namespace, name}, callOptions(options)),
    )) as RoleBindingObject
  }

  async list(options: ListOptions & CallOptions = {}): Promise<ListResult<RoleBindingObject>> {
    const list = await call('list rolebindings', options, () =>
      options.namespace
        ? this.api.listNamespacedRoleBinding({namespace: options.namespace, labelSelector: options.labelSelector}, callOptions(options))
        : this.api.listRoleBindingForAllNamespaces({labelSelector: options.labelSelector}, callOptions(options)),
    )
    return {items: list.items as RoleBindingObject[], resourceVersion: listMeta(list)}
  }

  async create(object: RoleBindingObject, options?: CallOptions): Promise<RoleBindingObject> {
    const namespace = object.metadata.namespace ?? 'default'
    return (await call(`create rolebindings ${namespace}/${object.metadata.name}`, options, () =>
      this.api.createNamespacedRoleBinding({namespace, body: object as V1RoleBinding}, callOptions(options)),
    )) as RoleBindingObject
  }

  async patch(namespace: string, name: string, patch: MergePatch, options?: CallOptions): Promise<RoleBindingObject> {
    return (await call(`patch rolebindings ${namespace}/${name}`, options, () =>
      this.api.patchNamespacedRoleBinding({namespace, name, body: patch}, mergePatch(options)),
    )) as RoleBindingObject
  }

  async delete(namespace: string, name: string, options: DeleteOptions = {}): Promise<void> {
    await call(`delete rolebindings ${namespace}/${name}`, options, () =>
      this.api.deleteNamespacedRoleBinding({namespace, name, body: deleteBody(options)}, callOptions(options)),
    )
  }
}

export class EventsClient {
  constructor(private readonly api: EventsV1Api) {}

  create(namespace: string, event: EventsV1Event, options?: CallOptions): Promise<EventsV1Event> {
    return call(`create events ${namespace}/${event.metadata?.name ?? ''}`, options, () =>
      this.api.createNamespacedEvent({namespace, body: event}, callOptions(options)),
    )
  }

  patch(namespace: string, name: string, patch: MergePatch, options?: CallOptions): Promise<EventsV1Event> {
    return call(`patch events ${namespace}/${name}`, options, () =>
      this.api.patchNamespacedEvent({namespace, name, body: patch}, mergePatch(options)),
    )
  }
}

export class LeasesClient {
  constructor(private readonly api: CoordinationV1Api) {}

  get(namespace: string, name: string, options?: CallOptions): Promise<V1Lease> {
    return call(`get leases ${namespace}/${name}`, options, () => this.api.readNamespacedLease({namespace, name}, callOptions(options)))
  }

  create(namespace: string, lease: V1Lease, options?: CallOptions): Promise<V1Lease> {
    return call(`create leases ${namespace}/${lease.metadata?.name ?? ''}`, options, () =>
      this.api.createNamespacedLease({namespace, body: lease}, callOptions(options)),
    )
  }

  /** Conditional on lease.metadata.resourceVersion: the API server answers 409 if it moved on. */
  replace(namespace: string, lease: V1Lease, options?: CallOptions): Promise<V1Lease> {
    const name = lease.metadata?.name ?? ''
    return call(`update leases ${namespace}/${name}`, options, () =>
      this.api.replaceNamespacedLease({namespace, name, body: lease}, callOptions(options)),
    )
  }
}

export interface KubeClientOptions {
  /** Any KubeConfig; a plain one is wrapped so its requests are limited and counted too. */
  kubeConfig: KubeConfig
}

/** The Kubernetes access of kube mode: one instrumented config, one client per API group. */
export class KubeClient {
  readonly config: InstrumentedKubeConfig
  readonly agenticSessions: AgenticSessionsClient
  readonly namespaces: NamespacesClient
  readonly roleBindings: RoleBindingsClient
  readonly events: EventsClient
  readonly leases: LeasesClient

  constructor(options: KubeClientOptions) {
    this.config = options.kubeConfig instanceof InstrumentedKubeConfig ? options.kubeConfig : InstrumentedKubeConfig.from(options.kubeConfig)
    this.agenticSessions = new AgenticSessionsClient(this.config.makeApiClient(CustomObjectsApi))
    this.namespaces = new NamespacesClient(this.config.makeApiClient(CoreV1Api))
    this.roleBindings = new RoleBindingsClient(this.config.makeApiClient(RbacAuthorizationV1Api))
    this.events = new EventsClient(this.config.makeApiClient(EventsV1Api))
    this.leases = new LeasesClient(this.config.makeApiClient(CoordinationV1Api))
  }

  get counter() {
    return this.config.counter
  }

  close(): void {
    this.config.close()
  }
}
