// Why `ambient diff` could not compare: which side was unreadable and where it lives, so
// "unreachable" names the API server or the cluster. Exit code 2, like `kubectl diff` errors.
import {ApiError, ApiUnreachableError} from '../api/errors.js'
import {AmbientError, errorMessage} from '../errors.js'
import {KubeApiError} from '../kube/errors.js'

export type DiffSource = 'api-server' | 'kubernetes' | 'runner-registry'

export class DiffSourceError extends AmbientError {
  override readonly exitCode = 2

  constructor(
    readonly source: DiffSource,
    message: string,
    options?: {cause?: unknown},
  ) {
    super(message, 'ERR_DIFF_SOURCE', options)
  }
}

/** The desired side failed: the API server was unreachable, refused, or answered nonsense. */
export function apiServerError(err: unknown, url: string): DiffSourceError {
  if (err instanceof DiffSourceError) return err
  if (err instanceof ApiUnreachableError) {
    return new DiffSourceError('api-server', `cannot read the desired state: Ambient ${err.message}`, {cause: err})
  }
  if (err instanceof ApiError) {
    return new DiffSourceError('api-server', `cannot read the desired state from the Ambient API server ${url}: ${err.message}`, {cause: err})
  }
  return new DiffSourceError('api-server', `cannot read the desired state from the Ambient API server ${url}: ${errorMessage(err)}`, {cause: err})
}

/** The live side failed: the cluster was unreachable or refused the list. */
export function kubernetesError(err: unknown, server: string): DiffSourceError {
  if (err instanceof DiffSourceError) return err
  if (err instanceof KubeApiError && err.status === 0) {
    return new DiffSourceError('kubernetes', `cannot read the live state: Kubernetes API server unreachable: ${server} (${err.message})`, {
      cause: err,
    })
  }
  return new DiffSourceError('kubernetes', `cannot read the live state from the Kubernetes API server ${server}: ${errorMessage(err)}`, {cause: err})
}
