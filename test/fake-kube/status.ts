// metav1.Status failures, shaped and worded like the real API server's, so clients that branch
// on `reason`/`code`/`details` are exercised exactly as against a cluster.
import {AmbientError} from '../../src/lib/errors.js'

export interface StatusCause {
  reason?: string
  message?: string
  field?: string
}

export interface StatusDetails {
  name?: string
  group?: string
  kind?: string
  uid?: string
  causes?: StatusCause[]
  retryAfterSeconds?: number
}

export interface Status {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure' | 'Success'
  message?: string
  reason?: string
  details?: StatusDetails
  code: number
}

/** Thrown inside the fake; the HTTP layer turns it into the Status response. */
export class ApiError extends AmbientError {
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? 'error', 'ERR_FAKE_KUBE_STATUS')
  }
}

/** A group + plural resource (for NotFound/AlreadyExists/Conflict) or group + kind (Invalid). */
export interface Qualified {
  group: string
  name: string
}

const reasonByCode: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
}

export function defaultReason(code: number): string {
  return reasonByCode[code] ?? 'Unknown'
}

export function failure(code: number, reason: string, message: string, details?: StatusDetails): Status {
  const status: Status = {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code}
  if (details !== undefined) status.details = details
  return status
}

function qualify(q: Qualified): string {
  return q.group === '' ? q.name : `${q.name}.${q.group}`
}

function details(q: Qualified, name: string, extra?: StatusDetails): StatusDetails {
  const d: StatusDetails = {}
  if (name !== '') d.name = name
  if (q.group !== '') d.group = q.group
  d.kind = q.name
  return {...d, ...extra}
}

export function notFound(resource: Qualified, name: string): ApiError {
  return new ApiError(failure(404, 'NotFound', `${qualify(resource)} "${name}" not found`, details(resource, name)))
}

export function alreadyExists(resource: Qualified, name: string): ApiError {
  return new ApiError(failure(409, 'AlreadyExists', `${qualify(resource)} "${name}" already exists`, details(resource, name)))
}

export function conflict(resource: Qualified, name: string, why: string): ApiError {
  return new ApiError(failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualify(resource)} "${name}": ${why}`, details(resource, name)))
}

export const modifiedMessage = 'the object has been modified; please apply your changes to the latest version and try again'

/** One field error, rendered like k8s.io/apimachinery's field.Error. */
export interface FieldError {
  type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueTypeInvalid' | 'FieldValueForbidden'
  field: string
  /** The text after `<field>: `, e.g. `Required value` or `Invalid value: "x": must be ...`. */
  detail: string
}

export function fieldInvalid(field: string, value: unknown, why: string): FieldError {
  return {type: 'FieldValueInvalid', field, detail: `Invalid value: ${render(value)}: ${why}`}
}

export function fieldRequired(field: string, why?: string): FieldError {
  return {type: 'FieldValueRequired', field, detail: why ? `Required value: ${why}` : 'Required value'}
}

export function fieldNotSupported(field: string, value: unknown, supported: unknown[]): FieldError {
  const list = supported.map(render).join(', ')
  return {type: 'FieldValueNotSupported', field, detail: `Unsupported value: ${render(value)}: supported values: ${list}`}
}

export function fieldForbidden(field: string, why: string): FieldError {
  return {type: 'FieldValueForbidden', field, detail: `Forbidden: ${why}`}
}

export function fieldTypeInvalid(field: string, actual: string, expected: string): FieldError {
  return {
    type: 'FieldValueTypeInvalid',
    field,
    detail: `Invalid value: "${actual}": ${field} in body must be of type ${expected}: "${actual}"`,
  }
}

function render(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' ? String(value) : JSON.stringify(value)
}

export function invalid(kind: Qualified, name: string, errors: FieldError[]): ApiError {
  const texts = errors.map((e) => `${e.field}: ${e.detail}`)
  const joined = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`
  const causes = errors.map((e) => ({reason: e.type, message: e.detail, field: e.field}))
  return new ApiError(failure(422, 'Invalid', `${qualify(kind)} "${name}" is invalid: ${joined}`, details(kind, name, {causes})))
}

export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, 'BadRequest', message))
}

export function expired(message: string): ApiError {
  return new ApiError(failure(410, 'Expired', message))
}

export function internalError(message: string): ApiError {
  return new ApiError(failure(500, 'InternalError', `Internal error occurred: ${message}`, {causes: [{message}]}))
}

export function unknownResource(): ApiError {
  return new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource', {}))
}
