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
import {toKubeApiError} from './errors.js'
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

export interface DeleteOptions {
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

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

export interface CallOptions {
  /** Deadline of this call (ms), shorter than the config's default. */
  timeoutMs?: number
}

/** A per-call deadline as middleware (the generated API has no signal parameter). */
function callOptions(options: CallOptions | undefined) {
  const ms = options?.timeoutMs
  if (!ms) return undefined
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      const own = ctx.getSignal()
      const timeout = AbortSignal.timeout(ms)
      ctx.setSignal(own ? AbortSignal.any([own, timeout]) : timeout)
      return new Observable(Promise.resolve(ctx))
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  }
  return {middleware: [middleware], middlewareMergeStrategy: 'append' as const}
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
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

  get(namespace: string, name: string): Promise<AgenticSession> {
    return call(`get agenticsessions ${namespace}/${name}`, () => this.api.getNamespacedCustomObject({...this.base, namespace, name}))
  }

  async list(options: ListOptions = {}): Promise<ListResult<AgenticSession>> {
    const list: unknown = await call('list agenticsessions', () =>
      options.namespace
        ? this.api.listNamespacedCustomObject({...this.base, namespace: options.namespace, labelSelector: options.labelSelector})
        : this.api.listClusterCustomObject({...this.base, labelSelector: options.labelSelector}),
    )
    const items = (list as {items?: AgenticSession[]}).items ?? []
    return {items, resourceVersion: listMeta(list)}
  }

  create(object: AgenticSession): Promise<AgenticSession> {
    const namespace = object.metadata.namespace ?? 'default'
    return call(`create agenticsessions ${namespace}/${object.metadata.name}`, () => this.api.createNamespacedCustomObject({...this.base, namespace, body: object}))
  }

  /** PUT; with metadata.resourceVersion set the write is conditional (409 when stale). */
  replace(object: AgenticSession): Promise<AgenticSession> {
    const namespace = object.metadata.namespace ?? 'default'
    const name = object.metadata.name ?? ''
    return call(`update agenticsessions ${namespace}/${name}`, () => this.api.replaceNamespacedCustomObject({...this.base, namespace, name, body: object}))
  }

  patch(namespace: string, name: string, patch: MergePatch): Promise<AgenticSession> {
    return call(`patch agenticsessions ${namespace}/${name}`, () => this.api.patchNamespacedCustomObject({...this.base, namespace, name, body: patch}, mergePatch))
  }

  async delete(namespace: string, name: string, options: DeleteOptions = {}): Promise<void> {
    await call(`delete agenticsessions ${namespace}/${name}`, () =>
      this.api.deleteNamespacedCustomObject({...this.base, namespace, name, body: deleteBody(options)}),
    )
  }

  getStatus(namespace: string, name: string): Promise<AgenticSession> {
    return call(`get agenticsessions/status ${namespace}/${name}`, () => this.api.getNamespacedCustomObjectStatus({...this.base, namespace, name}))
  }

  replaceStatus(object: AgenticSession): Promise<AgenticSession> {
    const namespace = object.metadata.namespace ?? 'default'
    const name = object.metadata.name ?? ''
    return call(`update agenticsessions/status ${namespace}/${name}`, () =>
      this.api.replaceNamespacedCustomObjectStatus({...this.base, namespace, name, body: object}),
    )
  }

  patchStatus(namespace: string, name: string, patch: MergePatch): Promise<AgenticSession> {
    return call(`patch agenticsessions/status ${namespace}/${name}`, () =>
      this.api.patchNamespacedCustomObjectStatus({...this.base, namespace, name, body: patch}, mergePatch),
    )
  }
}

export class NamespacesClient {
  constructor(private readonly api: CoreV1Api) {}

  async get(name: string): Promise<NamespaceObject> {
    return (await call(`get namespaces ${name}`, () => this.api.readNamespace({name}))) as NamespaceObject
  }

  async list(options: Omit<ListOptions, 'namespace'> = {}): Promise<ListResult<NamespaceObject>> {
    const list = await call('list namespaces', () => this.api.listNamespace({labelSelector: options.labelSelector}))
    return {items: list.items as NamespaceObject[], resourceVersion: listMeta(list)}
  }

  async create(object: NamespaceObject): Promise<NamespaceObject> {
    return (await call(`create namespaces ${object.metadata.name}`, () => this.api.createNamespace({body: object as V1Namespace}))) as NamespaceObject
  }

  async patch(name: string, patch: MergePatch): Promise<NamespaceObject> {
    return (await call(`patch namespaces ${name}`, () => this.api.patchNamespace({name, body: patch}, mergePatch))) as NamespaceObject
  }
}

export class RoleBindingsClient {
  constructor(private readonly api: RbacAuthorizationV1Api) {}

  async get(namespace: string, name: string): Promise<RoleBindingObject> {
    return (await call(`get rolebindings ${namespace}/${name}`, () => this.api.readNamespacedRoleBinding({namespace, name}))) as RoleBindingObject
  }

  async list(options: ListOptions = {}): Promise<ListResult<RoleBindingObject>> {
    const list = await call('list rolebindings', () =>
      options.namespace
        ? this.api.listNamespacedRoleBinding({namespace: options.namespace, labelSelector: options.labelSelector})
        : this.api.listRoleBindingForAllNamespaces({labelSelector: options.labelSelector}),
    )
    return {items: list.items as RoleBindingObject[], resourceVersion: listMeta(list)}
  }

  async create(object: RoleBindingObject): Promise<RoleBindingObject> {
    const namespace = object.metadata.namespace ?? 'default'
    return (await call(`create rolebindings ${namespace}/${object.metadata.name}`, () =>
      this.api.createNamespacedRoleBinding({namespace, body: object as V1RoleBinding}),
    )) as RoleBindingObject
  }

  async patch(namespace: string, name: string, patch: MergePatch): Promise<RoleBindingObject> {
    return (await call(`patch rolebindings ${namespace}/${name}`, () => this.api.patchNamespacedRoleBinding({namespace, name, body: patch}, mergePatch))) as RoleBindingObject
  }

  async delete(namespace: string, name: string, options: DeleteOptions = {}): Promise<void> {
    await call(`delete rolebindings ${namespace}/${name}`, () => this.api.deleteNamespacedRoleBinding({namespace, name, body: deleteBody(options)}))
  }
}

export class EventsClient {
  constructor(private readonly api: EventsV1Api) {}

  create(namespace: string, event: EventsV1Event): Promise<EventsV1Event> {
    return call(`create events ${namespace}/${event.metadata?.name ?? ''}`, () => this.api.createNamespacedEvent({namespace, body: event}))
  }

  patch(namespace: string, name: string, patch: MergePatch): Promise<EventsV1Event> {
    return call(`patch events ${namespace}/${name}`, () => this.api.patchNamespacedEvent({namespace, name, body: patch}, mergePatch))
  }
}

export class LeasesClient {
  constructor(private readonly api: CoordinationV1Api) {}

  get(namespace: string, name: string, options?: CallOptions): Promise<V1Lease> {
    return call(`get leases ${namespace}/${name}`, () => this.api.readNamespacedLease({namespace, name}, callOptions(options)))
  }

  create(namespace: string, lease: V1Lease, options?: CallOptions): Promise<V1Lease> {
    return call(`create leases ${namespace}/${lease.metadata?.name ?? ''}`, () => this.api.createNamespacedLease({namespace, body: lease}, callOptions(options)))
  }

  /** Conditional on lease.metadata.resourceVersion: the API server answers 409 if it moved on. */
  replace(namespace: string, lease: V1Lease, options?: CallOptions): Promise<V1Lease> {
    const name = lease.metadata?.name ?? ''
    return call(`update leases ${namespace}/${name}`, () => this.api.replaceNamespacedLease({namespace, name, body: lease}, callOptions(options)))
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
