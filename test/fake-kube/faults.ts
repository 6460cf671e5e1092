// Request log and fault injection: tests count what a client really sent (and which client:
// the API server's audit log records the user agent too), make the next matching requests fail
// the way a struggling API server does, or hold them unanswered, as a stalled one does.
import {ApiError, conflict, defaultReason, failure, modifiedMessage} from './status.js'

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection'

export interface RequestRecord {
  /** Kubernetes verb, or `nonresource` for discovery, /version and health paths. */
  verb: Verb | 'nonresource'
  method: string
  path: string
  query: string
  group: string
  version: string
  /** Plural resource name, e.g. `agenticsessions`; empty for non-resource paths. */
  resource: string
  namespace: string | undefined
  name: string | undefined
  subresource: string | undefined
  contentType: string | undefined
  /** The User-Agent header: which client (which replica) sent it. */
  userAgent: string | undefined
  /** When the request arrived (ms since the epoch, this process's clock). */
  at: number
  /** HTTP status sent (200 for a watch that started). */
  code?: number
}

export type RequestFilter = Partial<Pick<RequestRecord, 'verb' | 'method' | 'group' | 'resource' | 'namespace' | 'name' | 'subresource' | 'code'>>

export interface FaultSpec {
  verb?: Verb
  /** `plural` or `plural.group`. */
  resource?: string
  namespace?: string
  name?: string
  subresource?: string
  /** HTTP code of the failure, e.g. 409, 500, 503, 429. */
  status: number
  /** Status reason; defaults from the code (409 Conflict, 500 InternalError, ...). */
  reason?: string
  message?: string
  /** How many matching requests fail (default 1; Infinity until clearFaults()). */
  times?: number
  /** For 429/503: sent as Retry-After and details.retryAfterSeconds. */
  retryAfterSeconds?: number
}

interface Fault extends FaultSpec {
  left: number
}

function matches(record: RequestRecord, filter: RequestFilter): boolean {
  return (Object.keys(filter) as (keyof RequestFilter)[]).every((k) => filter[k] === record[k])
}

export class RequestLog {
  readonly records: RequestRecord[] = []

  add(record: RequestRecord): void {
    this.records.push(record)
  }

  count(filter: RequestFilter = {}): number {
    return this.records.filter((r) => matches(r, filter)).length
  }

  reset(): void {
    this.records.length = 0
  }
}

/** Requests matching a hold wait, unprocessed and unanswered, until it is released. */
export interface Hold {
  /** How many requests are waiting now. */
  readonly held: number
  /** Lets every waiting (and any later matching) request through, in arrival order. */
  release(): void
}

export class Holds {
  private readonly active = new Set<{match: (r: RequestRecord) => boolean; waiting: (() => void)[]; released: boolean}>()

  add(match: (record: RequestRecord) => boolean): Hold {
    const entry = {match, waiting: [] as (() => void)[], released: false}
    this.active.add(entry)
    return {
      get held() {
        return entry.waiting.length
      },
      release: () => {
        entry.released = true
        this.active.delete(entry)
        for (const go of entry.waiting.splice(0)) go()
      },
    }
  }

  /** Resolves at once unless a hold matches; then when that hold is released. */
  wait(record: RequestRecord): Promise<void> | undefined {
    for (const entry of this.active) {
      if (!entry.released && entry.match(record)) return new Promise<void>((resolve) => entry.waiting.push(resolve))
    }
    return undefined
  }

  releaseAll(): void {
    for (const entry of this.active) {
      entry.released = true
      for (const go of entry.waiting.splice(0)) go()
    }
    this.active.clear()
  }
}

export class Faults {
  private faults: Fault[] = []

  add(spec: FaultSpec): void {
    this.faults.push({...spec, left: spec.times ?? 1})
  }

  clear(): void {
    this.faults = []
  }

  pending(): number {
    return this.faults.length
  }

  /** The injected failure for this request, if a fault matches (and is then used up once). */
  take(record: RequestRecord): {error: ApiError; retryAfterSeconds?: number} | undefined {
    if (record.verb === 'nonresource') return undefined
    const fault = this.faults.find(
      (f) =>
        (f.verb === undefined || f.verb === record.verb) &&
        (f.resource === undefined || f.resource === record.resource || f.resource === `${record.resource}.${record.group}`) &&
        (f.namespace === undefined || f.namespace === record.namespace) &&
        (f.name === undefined || f.name === record.name) &&
        (f.subresource === undefined || f.subresource === record.subresource),
    )
    if (!fault) return undefined
    fault.left -= 1
    if (fault.left <= 0) this.faults = this.faults.filter((f) => f !== fault)
    const resource = {group: record.group, name: record.resource}
    const name = record.name ?? ''
    if (fault.status === 409 && (fault.reason === undefined || fault.reason === 'Conflict') && fault.message === undefined) {
      return {error: conflict(resource, name, modifiedMessage)}
    }
    const reason = fault.reason ?? defaultReason(fault.status)
    const details: Record<string, unknown> = {}
    if (name !== '') details.name = name
    if (record.group !== '') details.group = record.group
    details.kind = record.resource
    if (fault.retryAfterSeconds !== undefined) details.retryAfterSeconds = fault.retryAfterSeconds
    const message = fault.message ?? `injected fault: ${reason}`
    return {error: new ApiError(failure(fault.status, reason, message, details)), retryAfterSeconds: fault.retryAfterSeconds}
  }
}
