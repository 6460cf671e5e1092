// What each Kubernetes request was, in RBAC terms (verb, group, resource, subresource), parsed
// the way the API server's RequestInfoFactory does, and counted: tests compare the counts with
// the ClusterRole, and the benchmark reports API calls per reconcile.
import {AsyncLocalStorage} from 'node:async_hooks'

export type KubeVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection'

export interface RequestInfo {
  verb: KubeVerb
  group: string
  version: string
  resource: string
  subresource?: string
  namespace?: string
  name?: string
}

/** Subresources of a namespace addressed as /namespaces/{name}/{sub}. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize'])

/** undefined for non-resource paths (/version, /healthz, discovery roots). */
export function parseRequestInfo(method: string, url: string, basePath = ''): RequestInfo | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  let path = parsed.pathname
  const base = basePath.replace(/\/+$/, '')
  if (base && path.startsWith(`${base}/`)) path = path.slice(base.length)
  const parts = path.split('/').filter(Boolean)
  let group: string
  let version: string
  let rest: string[]
  const [root = '', first = '', second = ''] = parts
  if (root === 'api' && parts.length >= 3) {
    group = ''
    version = first
    rest = parts.slice(2)
  } else if (root === 'apis' && parts.length >= 4) {
    group = first
    version = second
    rest = parts.slice(3)
  } else {
    return undefined
  }
  let namespace: string | undefined
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1]
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] ?? '')) rest = rest.slice(2)
  }
  const [resource = '', name, subresource] = rest
  const watch = parsed.searchParams.get('watch')
  let verb: KubeVerb
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
      verb = watch === 'true' || watch === '1' ? 'watch' : name ? 'get' : 'list'
      break
    case 'POST':
      verb = 'create'
      break
    case 'PUT':
      verb = 'update'
      break
    case 'PATCH':
      verb = 'patch'
      break
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection'
      break
    default:
      return undefined
  }
  const info: RequestInfo = {verb, group, version, resource}
  if (subresource) info.subresource = subresource
  if (namespace && !(resource === 'namespaces' && name === namespace)) info.namespace = namespace
  if (name) info.name = name
  return info
}

/** `verb resource[.group][/subresource]`, the unit RBAC rules grant. */
export function permissionKey(info: Pick<RequestInfo, 'verb' | 'group' | 'resource' | 'subresource'>): string {
  const resource = info.group ? `${info.resource}.${info.group}` : info.resource
  return `${info.verb} ${resource}${info.subresource ? `/${info.subresource}` : ''}`
}

/** Calls made on behalf of one unit of work (one reconcile), kube and Ambient API alike. */
export interface CallScope {
  kube: number
  api: number
  /** Permission keys of the kube calls, in order (for debugging "why 3 calls?"). */
  kubeCalls: string[]
}

const scopes = new AsyncLocalStorage<CallScope>()

export function newCallScope(): CallScope {
  return {kube: 0, api: 0, kubeCalls: []}
}

/** Runs `fn`, attributing every call it (transitively) makes to `scope`. */
export function runInCallScope<T>(scope: CallScope, fn: () => Promise<T>): Promise<T> {
  return scopes.run(scope, fn)
}

/** Runs `fn`, attributing every call it (transitively) makes to a fresh scope. */
export async function withCallScope<T>(fn: () => Promise<T>): Promise<{result: T; scope: CallScope}> {
  const scope = newCallScope()
  const result = await runInCallScope(scope, fn)
  return {result, scope}
}

export function currentCallScope(): CallScope | undefined {
  return scopes.getStore()
}

export class RequestCounter {
  private readonly counts = new Map<string, number>()
  private readonly infos = new Map<string, Pick<RequestInfo, 'verb' | 'group' | 'resource' | 'subresource'>>()
  total = 0

  record(info: RequestInfo): void {
    const key = permissionKey(info)
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
    if (!this.infos.has(key)) this.infos.set(key, {verb: info.verb, group: info.group, resource: info.resource, subresource: info.subresource})
    this.total++
    const scope = scopes.getStore()
    if (scope) {
      scope.kube++
      scope.kubeCalls.push(key)
    }
  }

  /** Count for one permission key, or the total when none is given. */
  count(key?: string): number {
    return key === undefined ? this.total : (this.counts.get(key) ?? 0)
  }

  /** Every (verb, resource) seen, for the RBAC coverage test. */
  permissions(): Pick<RequestInfo, 'verb' | 'group' | 'resource' | 'subresource'>[] {
    return [...this.infos.values()]
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)))
  }

  reset(): void {
    this.counts.clear()
    this.total = 0
  }
}
