// The gRPC client's plumbing that is not about any one service: when a call has really gone
// out (channel READY), how a failed watch becomes a typed error, and the HTTP status a gRPC
// code stands for.
import {type ChannelInterface as Channel, connectivityState, status as GrpcStatus, type ServiceError} from '@grpc/grpc-js'
import {WatchStreamError} from './errors.js'
import {WatchUnimplementedError} from './watch-source.js'

/**
 * Resolves when the channel is READY (a call started on it goes out at once); never resolves
 * once `gone()` is true or the channel is shut down. A call started on a connecting channel
 * waits for the connection, so "started" is not "sent" until then.
 */
export function whenReady(channel: Channel, gone: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      const state = channel.getConnectivityState(false)
      if (state === connectivityState.READY) {
        resolve()
        return
      }
      if (gone() || state === connectivityState.SHUTDOWN) return
      try {
        // No deadline: a timer would hold the process open; the channel's close wakes it.
        channel.watchConnectivityState(state, Infinity, check)
      } catch {
        // The channel was shut down meanwhile.
      }
    }
    check()
  })
}

export function watchError(resource: string, err: unknown): Error {
  const code = isServiceError(err) ? err.code : GrpcStatus.UNKNOWN
  if (code === GrpcStatus.UNIMPLEMENTED) return new WatchUnimplementedError(resource, {cause: err})
  const detail = isServiceError(err) ? `${GrpcStatus[code] ?? code}: ${err.details}` : String(err)
  return new WatchStreamError(resource, code, detail, {cause: err})
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err
}

/** The HTTP status a gRPC code stands for (the mapping rh-trex servers use in reverse). */
const HTTP_STATUS_OF: ReadonlyMap<number, number> = new Map([
  [GrpcStatus.INVALID_ARGUMENT, 400],
  [GrpcStatus.OUT_OF_RANGE, 400],
  [GrpcStatus.UNAUTHENTICATED, 401],
  [GrpcStatus.PERMISSION_DENIED, 403],
  [GrpcStatus.NOT_FOUND, 404],
  [GrpcStatus.ALREADY_EXISTS, 409],
  [GrpcStatus.ABORTED, 409],
  [GrpcStatus.FAILED_PRECONDITION, 409],
  [GrpcStatus.RESOURCE_EXHAUSTED, 429],
  [GrpcStatus.CANCELLED, 499],
  [GrpcStatus.UNIMPLEMENTED, 501],
  [GrpcStatus.UNAVAILABLE, 503],
  [GrpcStatus.DEADLINE_EXCEEDED, 504],
])

export function httpStatusOf(code: number): number {
  return HTTP_STATUS_OF.get(code) ?? 500
}
