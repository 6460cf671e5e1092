// One error type for every Kubernetes failure, whatever client-node threw (ApiException with a
// Status body as text, a fetch error, a timeout), so callers branch on `reason`, not on text.
import {AmbientError, errorMessage} from '../errors.js'

/** Status reasons of k8s.io/apimachinery/pkg/apis/meta/v1 (StatusReason) kube mode acts on. */
export type KubeReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Gone'
  | 'Expired'
  | 'TooManyRequests'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'InternalError'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'NetworkError'
  | 'Unknown'
  | (string & {})

const REASON_BY_CODE: Record<number, KubeReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
}

export class KubeApiError extends AmbientError {
  constructor(
    message: string,
    /** HTTP status; 0 when no response arrived. */
    readonly status: number,
    readonly reason: KubeReason,
    options?: {cause?: unknown; retryAfterSeconds?: number},
  ) {
    super(message, 'ERR_KUBE_API', options)
    this.retryAfterSeconds = options?.retryAfterSeconds
  }

  readonly retryAfterSeconds?: number
}

export function isKubeReason(err: unknown, reason: KubeReason): boolean {
  return err instanceof KubeApiError && err.reason === reason
}

export const isNotFound = (err: unknown) => isKubeReason(err, 'NotFound')
export const isAlreadyExists = (err: unknown) => isKubeReason(err, 'AlreadyExists')
export const isConflict = (err: unknown) => isKubeReason(err, 'Conflict')

/** Normalises anything a client-node call rejected with. */
export function toKubeApiError(err: unknown, what: string): KubeApiError {
  if (err instanceof KubeApiError) return err
  const code = readNumber(err, 'code') ?? readNumber(err, 'statusCode')
  if (code !== undefined && code >= 100 && code < 600) {
    const status = parseStatusBody(readProperty(err, 'body'))
    const reason = status?.reason || REASON_BY_CODE[code] || 'Unknown'
    const message = status?.message || `HTTP ${code}`
    return new KubeApiError(`${what}: ${message}`, code, reason, {cause: err, retryAfterSeconds: status?.retryAfterSeconds})
  }
  const name = err instanceof Error ? err.name : ''
  const reason = name === 'TimeoutError' ? 'Timeout' : 'NetworkError'
  return new KubeApiError(`${what}: ${errorMessage(err)}`, 0, reason, {cause: err})
}

interface StatusBody {
  reason?: string
  message?: string
  retryAfterSeconds?: number
}

function parseStatusBody(body: unknown): StatusBody | undefined {
  let value: unknown = body
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body)
    } catch {
      return body.trim() ? {message: body.trim().slice(0, 500)} : undefined
    }
  }
  if (typeof value !== 'object' || value === null) return undefined
  const reason = readProperty(value, 'reason')
  const message = readProperty(value, 'message')
  const details = readProperty(value, 'details')
  const retry = typeof details === 'object' && details !== null ? readNumber(details, 'retryAfterSeconds') : undefined
  return {
    reason: typeof reason === 'string' ? reason : undefined,
    message: typeof message === 'string' ? message : undefined,
    retryAfterSeconds: retry,
  }
}

function readProperty(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined
}

function readNumber(obj: unknown, key: string): number | undefined {
  const v = readProperty(obj, key)
  return typeof v === 'number' ? v : undefined
}
