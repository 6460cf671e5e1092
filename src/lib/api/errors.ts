// Typed failures of the API clients, one vocabulary for REST and gRPC: callers branch on
// `code` (or `status`) and never parse messages. The CLI exits 1 for all of them.
import {AmbientError} from '../errors.js'

/** Stable codes by HTTP status; other statuses get `ERR_API_<status>`. */
export const API_ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'ERR_API_BAD_REQUEST',
  401: 'ERR_API_UNAUTHORIZED',
  403: 'ERR_API_FORBIDDEN',
  404: 'ERR_API_NOT_FOUND',
  409: 'ERR_API_CONFLICT',
  500: 'ERR_API_INTERNAL',
}

export function apiErrorCode(status: number): string {
  return API_ERROR_CODES[status] ?? `ERR_API_${status}`
}

export interface ApiErrorDetails {
  /** HTTP status (for gRPC calls: the HTTP status the gRPC code stands for). */
  status: number
  /** The server's own explanation (`reason` of the error body), or the body text. */
  reason: string
  /** `operation_id` of the error body, to quote when reporting a server problem. */
  operationId?: string
  /** `id` of the error body: the server's error number. */
  errorId?: string
  /**
   * `code` of the error body, e.g. "ambient-api-server-7" (a string; an older server sent a
   * number, kept here as its decimal text). Absent when the body was not an Error body, such
   * as the real server's plain-text 401.
   */
  serverCode?: string
  method: string
  /** Path below the server URL, e.g. /api/ambient/v1/sessions/abc. Never carries the token. */
  path: string
  /** Resource and id the call was about, for messages like "session abc not found". */
  resource?: string
  id?: string
  /** gRPC status code when the call was a gRPC call. */
  grpcCode?: number
  cause?: unknown
}

/**
 * Server text kept as the server sent it, but bounded in length. It is escaped where it meets
 * a person (tui/sanitize.ts), not here: `--json` output must carry it exactly.
 */
export function boundedText(text: string, max = 1000): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/** The server answered with an error status; its reason is bounded in length. */
export class ApiError extends AmbientError {
  readonly status: number
  readonly reason: string
  readonly operationId?: string
  readonly errorId?: string
  readonly serverCode?: string
  readonly method: string
  readonly path: string
  readonly resource?: string
  readonly id?: string
  readonly grpcCode?: number

  constructor(raw: ApiErrorDetails) {
    const details = {...raw, reason: boundedText(raw.reason)}
    super(apiErrorMessage(details), apiErrorCode(details.status), {cause: details.cause})
    this.status = details.status
    this.reason = details.reason
    this.operationId = details.operationId
    this.errorId = details.errorId
    this.serverCode = details.serverCode
    this.method = details.method
    this.path = details.path
    this.resource = details.resource
    this.id = details.id
    this.grpcCode = details.grpcCode
  }

  get notFound(): boolean {
    return this.status === 404
  }
}

function apiErrorMessage(d: ApiErrorDetails): string {
  if (d.status === 404 && d.resource && d.id !== undefined) return `${singular(d.resource)} ${d.id} not found`
  const reason = d.reason || 'no reason given'
  const op = d.operationId ? `, operation ${d.operationId}` : ''
  return `${d.method} ${d.path}: ${reason} (HTTP ${d.status}${op})`
}

/** `sessions` -> `session`, `project_settings` -> `project settings`, `workflows` -> `workflow`. */
export function singular(resource: string): string {
  const words = resource.replaceAll('_', ' ')
  if (words.endsWith('settings')) return words
  return words.endsWith('s') ? words.slice(0, -1) : words
}

/** The server could not be reached, or did not answer in time. */
export class ApiUnreachableError extends AmbientError {
  constructor(
    /** URL (REST) or host:port (gRPC) that was called. */
    readonly url: string,
    readonly timedOut: boolean,
    detail: string,
    options?: {cause?: unknown},
  ) {
    super(
      timedOut ? `API server did not answer in time: ${url} (${detail})` : `API server unreachable: ${url} (${detail})`,
      timedOut ? 'ERR_API_TIMEOUT' : 'ERR_API_UNREACHABLE',
      options,
    )
  }
}

/** The server answered 2xx with a body that is not what the contract promises. */
export class ApiResponseError extends AmbientError {
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super(`unexpected response from ${url}: ${detail}`, 'ERR_API_BAD_RESPONSE')
  }
}

/** A watch stream ended with an error status (other than UNIMPLEMENTED, see WatchUnimplementedError). */
export class WatchStreamError extends AmbientError {
  constructor(
    readonly resource: string,
    /** gRPC status code, e.g. 14 (UNAVAILABLE) when the server's event broker is down. */
    readonly grpcCode: number,
    detail: string,
    options?: {cause?: unknown},
  ) {
    super(`watch of ${resource} ended: ${detail}`, 'ERR_WATCH_STREAM', options)
  }
}
