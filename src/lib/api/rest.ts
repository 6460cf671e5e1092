// REST client of the Ambient API (contract section 1). Lists read EVERY page: the first
// generation of this system read only page 1 and silently missed everything past item 100.
// The token is asked for on every call, so a rotated token file is picked up at once.
import {silentLogger, type Logger} from '../log.js'
import {ApiError, ApiResponseError, ApiUnreachableError, boundedText} from './errors.js'
import {isRecord} from '../util/is-record.js'
import {fetchAllPages} from './paging.js'
import {normalizeRfc3339} from './time.js'
import type {
  ListOptions,
  ListResponse,
  ObjectMeta,
  ProjectSettingsSpec,
  ProjectSpec,
  ResourceName,
  ResourceTypes,
  Session,
  SessionSpec,
  SessionStatusPatch,
} from './types.js'

export const DEFAULT_BASE_PATH = '/api/ambient/v1'
/** Base path of the older server generation (resources `sessions`, `workflows`, `tasks`). */
export const LEGACY_BASE_PATH = '/api/ambient-api-server/v1'

/** Writable fields of each resource, for create and patch. */
export interface SpecTypes {
  sessions: SessionSpec
  projects: ProjectSpec
  project_settings: ProjectSettingsSpec
}

export interface RestClientOptions {
  /** e.g. http://localhost:8000 */
  baseUrl: string
  basePath?: string
  /** Called on every request: pass a TokenSource's get so a rotated token is used at once. */
  token: () => string
  /** Per-call limit covering connect, headers and body. */
  timeoutMs?: number
  logger?: Logger
  /** Injected for tests of transport failures; defaults to the global fetch (keep-alive pooled). */
  fetch?: typeof fetch
}

export interface RequestOptions {
  signal?: AbortSignal
  /** Overrides the client's timeoutMs for this call. */
  timeoutMs?: number
}

export type ListCallOptions = ListOptions & RequestOptions

export interface ListAllOptions<T = ObjectMeta> extends Omit<ListOptions, 'page' | 'size'>, RequestOptions {
  /** Items per request (default 100). */
  pageSize?: number
  /** Pages fetched at once after the first (default 4). */
  concurrency?: number
  /** Sees each page's items as the page arrives (in any order), before the list resolves. */
  onPage?(items: readonly T[]): void
}

type Query = Record<string, string | number | undefined>

interface CallContext extends RequestOptions {
  body?: unknown
  query?: Query
  resource?: string
  id?: string
}

/** Fields that carry timestamps: normalized so equal instants compare equal as strings. */
const TIME_FIELDS = ['created_at', 'updated_at', 'start_time', 'completion_time']

export class RestClient {
  readonly baseUrl: string
  readonly basePath: string
  private readonly token: () => string
  private readonly timeoutMs: number
  private readonly logger: Logger
  private readonly fetchImpl: typeof fetch

  constructor(options: RestClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
    const trimmed = (options.basePath ?? DEFAULT_BASE_PATH).replace(/^\/+|\/+$/g, '')
    this.basePath = trimmed ? `/${trimmed}` : ''
    this.token = options.token
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.logger = options.logger ?? silentLogger
    this.fetchImpl = options.fetch ?? fetch
  }

  /** One page, as the server returns it. */
  list<R extends ResourceName>(resource: R, options?: ListCallOptions): Promise<ListResponse<ResourceTypes[R]>>
  list<T extends ObjectMeta = ObjectMeta>(resource: string, options?: ListCallOptions): Promise<ListResponse<T>>
  async list(resource: string, options: ListCallOptions = {}): Promise<ListResponse<ObjectMeta>> {
    const {signal, timeoutMs, ...list} = options
    const query: Query = {
      page: list.page,
      size: list.size,
      search: list.search,
      orderBy: list.orderBy,
      fields: list.fields,
      project_id: list.project_id,
    }
    const body = await this.call('GET', `/${resource}`, {query, signal, timeoutMs, resource})
    return this.toList(resource, body)
  }

  /**
   * Every object, all pages: page 1 gives `total`, the other pages are fetched concurrently
   * and concatenated in page order, deduplicated by id.
   */
  listAll<R extends ResourceName>(resource: R, options?: ListAllOptions<ResourceTypes[R]>): Promise<ResourceTypes[R][]>
  listAll<T extends ObjectMeta = ObjectMeta>(resource: string, options?: ListAllOptions<T>): Promise<T[]>
  async listAll(resource: string, options: ListAllOptions = {}): Promise<ObjectMeta[]> {
    const {pageSize = 100, concurrency = 4, signal, onPage, ...rest} = options
    return fetchAllPages<ObjectMeta>({
      pageSize,
      concurrency,
      signal,
      fetchPage: async (page, size, pageSignal) => {
        const response = await this.list<ObjectMeta>(resource, {...rest, page, size, signal: pageSignal})
        onPage?.(response.items)
        return response
      },
    })
  }

  get<R extends ResourceName>(resource: R, id: string, options?: RequestOptions): Promise<ResourceTypes[R]>
  get<T extends ObjectMeta = ObjectMeta>(resource: string, id: string, options?: RequestOptions): Promise<T>
  async get(resource: string, id: string, options: RequestOptions = {}): Promise<ObjectMeta> {
    const body = await this.call('GET', this.itemPath(resource, id), {...options, resource, id})
    return this.toObject(resource, body)
  }

  create<R extends ResourceName>(resource: R, spec: SpecTypes[R], options?: RequestOptions): Promise<ResourceTypes[R]>
  create<T extends ObjectMeta = ObjectMeta>(resource: string, spec: object, options?: RequestOptions): Promise<T>
  async create(resource: string, spec: object, options: RequestOptions = {}): Promise<ObjectMeta> {
    const body = await this.call('POST', `/${resource}`, {...options, body: spec, resource})
    return this.toObject(resource, body)
  }

  /** Updates the given spec fields; the others keep their values. */
  patch<R extends ResourceName>(resource: R, id: string, spec: Partial<SpecTypes[R]>, options?: RequestOptions): Promise<ResourceTypes[R]>
  patch<T extends ObjectMeta = ObjectMeta>(resource: string, id: string, spec: object, options?: RequestOptions): Promise<T>
  async patch(resource: string, id: string, spec: object, options: RequestOptions = {}): Promise<ObjectMeta> {
    const body = await this.call('PATCH', this.itemPath(resource, id), {...options, body: spec, resource, id})
    return this.toObject(resource, body)
  }

  /** PATCH /sessions/{id}/status: the only way to write status fields. */
  async patchStatus(id: string, patch: SessionStatusPatch, options: RequestOptions = {}): Promise<Session> {
    const body = await this.call('PATCH', `${this.itemPath('sessions', id)}/status`, {...options, body: patch, resource: 'sessions', id})
    return this.toObject<Session>('sessions', body)
  }

  /** Allowed when the phase is empty, Stopped, Failed or Completed (else 409); sets Pending. */
  async start(id: string, options: RequestOptions = {}): Promise<Session> {
    const body = await this.call('POST', `${this.itemPath('sessions', id)}/start`, {...options, resource: 'sessions', id})
    return this.toObject<Session>('sessions', body)
  }

  /** Allowed when the phase is Running, Creating or Pending (else 409); sets Stopping. */
  async stop(id: string, options: RequestOptions = {}): Promise<Session> {
    const body = await this.call('POST', `${this.itemPath('sessions', id)}/stop`, {...options, resource: 'sessions', id})
    return this.toObject<Session>('sessions', body)
  }

  async delete(resource: string, id: string, options: RequestOptions = {}): Promise<void> {
    await this.call('DELETE', this.itemPath(resource, id), {...options, resource, id})
  }

  private itemPath(resource: string, id: string): string {
    return `/${resource}/${encodeURIComponent(id)}`
  }

  private url(path: string, query?: Query): string {
    const url = new URL(`${this.baseUrl}${this.basePath}${path}`)
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value))
    }
    return url.toString()
  }

  /** One HTTP exchange: the parsed JSON body of a 2xx answer (undefined when empty), else a typed error. */
  private async call(method: string, path: string, ctx: CallContext): Promise<unknown> {
    const url = this.url(path, ctx.query)
    const timeoutMs = ctx.timeoutMs ?? this.timeoutMs
    // A timer cleared when the call ends (AbortSignal.timeout would keep the signal, and what
    // fetch hangs on it, alive for the whole timeout: thousands of list pages add up).
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new DOMException('The operation timed out.', 'TimeoutError')), timeoutMs)
    const timeout = deadline.signal
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${this.token()}`,
    }
    if (ctx.body !== undefined) headers['content-type'] = 'application/json'
    const started = performance.now()
    let response: Response
    let text: string
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        body: ctx.body === undefined ? undefined : JSON.stringify(ctx.body),
        signal,
      })
      // The body is read under the same signal, so a server that stalls mid-body times out too.
      text = await response.text()
    } catch (err) {
      if (ctx.signal?.aborted) throw ctx.signal.reason
      if (timeout.aborted) throw new ApiUnreachableError(url, true, `no answer within ${timeoutMs} ms`, {cause: err})
      throw new ApiUnreachableError(url, false, networkErrorDetail(err), {cause: err})
    } finally {
      clearTimeout(timer)
    }
    const ms = Math.round(performance.now() - started)
    this.logger.debug({method, url, status: response.status, ms}, 'api call')
    if (!response.ok) throw this.toApiError(method, path, response, text, ctx)
    if (text.trim() === '') return undefined
    try {
      return JSON.parse(text) as unknown
    } catch {
      throw new ApiResponseError(url, `status ${response.status} with a body that is not JSON: ${excerpt(text)}`)
    }
  }

  /**
   * Any error answer becomes an ApiError: the contract's Error body (its `code` a string, or a
   * number from an older server), JSON of another shape, or no JSON at all (the real server's
   * 401 from its token check is plain text, a proxy may send HTML). Server text is made safe
   * for a terminal (ApiError cleans the reason itself).
   */
  private toApiError(method: string, path: string, response: Response, text: string, ctx: CallContext): ApiError {
    let reason = ''
    let operationId: string | undefined
    let errorId: string | undefined
    let serverCode: string | undefined
    const parsed = tryParseJson(text)
    if (isRecord(parsed)) {
      if (typeof parsed.reason === 'string') reason = parsed.reason
      else if (typeof parsed.message === 'string') reason = parsed.message
      else if (typeof parsed.error === 'string') reason = parsed.error
      if (typeof parsed.operation_id === 'string' && parsed.operation_id) operationId = boundedText(parsed.operation_id)
      if (typeof parsed.id === 'string' && parsed.id) errorId = boundedText(parsed.id)
      if (typeof parsed.code === 'string' && parsed.code) serverCode = boundedText(parsed.code)
      else if (typeof parsed.code === 'number' && Number.isFinite(parsed.code)) serverCode = String(parsed.code)
    }
    // A proxy's HTML page or a plain-text body still says something useful.
    if (!reason) reason = text.trim() ? excerpt(text) : response.statusText
    return new ApiError({
      status: response.status,
      reason,
      operationId,
      errorId,
      serverCode,
      method,
      path: `${this.basePath}${path}`,
      resource: ctx.resource,
      id: ctx.id,
    })
  }

  private toList(resource: string, body: unknown): ListResponse<ObjectMeta> {
    if (!isRecord(body) || !Array.isArray(body.items)) {
      throw new ApiResponseError(this.url(`/${resource}`), 'a list without an `items` array')
    }
    const items = body.items.map((item) => this.toObject(resource, item))
    return {
      kind: typeof body.kind === 'string' ? body.kind : '',
      page: typeof body.page === 'number' ? body.page : 0,
      size: typeof body.size === 'number' ? body.size : items.length,
      // NaN marks a server that gave no total; fetchAllPages then reads until a short page.
      total: typeof body.total === 'number' ? body.total : Number.NaN,
      items,
    }
  }

  private toObject<T extends ObjectMeta = ObjectMeta>(resource: string, body: unknown): T {
    if (!isRecord(body) || typeof body.id !== 'string') {
      throw new ApiResponseError(this.url(`/${resource}`), `an object without an id: ${excerpt(JSON.stringify(body) ?? 'empty body')}`)
    }
    return normalizeObject(body) as unknown as T
  }
}

/**
 * JSON nulls are dropped (domain objects leave absent fields out) and timestamps are put in
 * the canonical microsecond form, the one the gRPC conversion produces. The parsed object is
 * normalized in place (it is ours: fresh from JSON.parse), so a 100k list is not held twice;
 * only an object with nulls is copied, as deleting keys would leave it in slow dictionary mode.
 */
function normalizeObject(body: Record<string, unknown>): Record<string, unknown> {
  let hasNull = false
  for (const key in body) {
    if (body[key] === null) {
      hasNull = true
      break
    }
  }
  if (!hasNull) {
    for (const key of TIME_FIELDS) {
      const value = body[key]
      if (typeof value === 'string' && Object.hasOwn(body, key)) body[key] = normalizeTime(value)
    }
    // An object never updated since its creation keeps one timestamp string, not two equal ones.
    if (body.updated_at === body.created_at && Object.hasOwn(body, 'updated_at')) body.updated_at = body.created_at
    return body
  }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(body)) {
    if (value === null) continue
    out[key] = typeof value === 'string' && TIME_FIELDS.includes(key) ? normalizeTime(value) : value
  }
  return out
}

function normalizeTime(value: string): string {
  try {
    return normalizeRfc3339(value)
  } catch {
    return value // malformed data is kept as is: the object is still worth having
  }
}

function networkErrorDetail(err: unknown): string {
  // undici reports "fetch failed" and hides the reason (ECONNREFUSED, ENOTFOUND...) in `cause`.
  const cause = err instanceof Error ? err.cause : undefined
  if (isRecord(cause)) {
    const code = typeof cause.code === 'string' ? cause.code : undefined
    const message = typeof cause.message === 'string' ? cause.message : undefined
    if (code || message) return [code, message].filter(Boolean).join(': ')
  }
  return err instanceof Error ? err.message : String(err)
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function excerpt(text: string, max = 300): string {
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine
}
