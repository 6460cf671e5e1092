// Service errors of the embedded API server. One error type serves both transports: REST
// renders it as the contract's error body (section 1.5) and gRPC maps its HTTP status to a
// status code the way rh-trex based servers do (400 -> INVALID_ARGUMENT, 409 -> ALREADY_EXISTS...).
import {AmbientError} from '../errors.js'
import type {ApiErrorBody} from '../api/types.js'

/**
 * Prefix of the error body's `code`. rh-trex formats `code` as "<prefix>-<id>" and the real
 * server sets the prefix through `trex.Init({ServiceName: "ambient-api-server"})`
 * (ambient-code/platform, components/ambient-api-server/cmd/ambient-api-server/environments),
 * which calls `errors.SetErrorCodePrefix(ServiceName)`: a 404 is "ambient-api-server-7".
 */
export const ERROR_CODE_PREFIX = 'ambient-api-server'

/** rh-trex service error codes: the error body's `id` is this number as a string (`AsOpenapiError`). */
export const ServiceCode = {
  forbidden: 4,
  conflict: 6,
  notFound: 7,
  validation: 8,
  general: 9,
  notImplemented: 10,
  unauthorized: 11,
  unauthenticated: 15,
  malformedRequest: 17,
  badRequest: 21,
  failedToParseSearch: 23,
} as const
export type ServiceCode = (typeof ServiceCode)[keyof typeof ServiceCode]

export class ApiServerError extends AmbientError {
  constructor(
    readonly httpStatus: number,
    readonly serviceCode: ServiceCode,
    readonly reason: string,
  ) {
    super(reason, `ERR_API_${httpStatus}`)
  }

  toBody(basePath: string, operationId: string): ApiErrorBody {
    const id = String(this.serviceCode)
    return {id, kind: 'Error', href: `${basePath}/errors/${id}`, code: `${ERROR_CODE_PREFIX}-${id}`, reason: this.reason, operation_id: operationId}
  }
}

export const notFound = (reason: string) => new ApiServerError(404, ServiceCode.notFound, reason)
export const validation = (reason: string) => new ApiServerError(400, ServiceCode.validation, reason)
export const malformed = (reason: string) => new ApiServerError(400, ServiceCode.malformedRequest, reason)
export const badRequest = (reason: string) => new ApiServerError(400, ServiceCode.badRequest, reason)
export const badSearch = (reason: string) => new ApiServerError(400, ServiceCode.failedToParseSearch, `Failed to parse search query: ${reason}`)
export const conflict = (reason: string) => new ApiServerError(409, ServiceCode.conflict, reason)
export const unauthenticated = (reason: string) => new ApiServerError(401, ServiceCode.unauthenticated, reason)
export const forbidden = (reason: string) => new ApiServerError(403, ServiceCode.unauthorized, reason)
export const methodNotAllowed = (reason: string) => new ApiServerError(405, ServiceCode.notImplemented, reason)
export const payloadTooLarge = (reason: string) => new ApiServerError(413, ServiceCode.malformedRequest, reason)
export const internal = (reason: string) => new ApiServerError(500, ServiceCode.general, reason)
