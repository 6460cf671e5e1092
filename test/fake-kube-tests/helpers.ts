// Shared helpers for the fake-kube tests: error unwrapping for client-node's ApiException,
// polling with a generous deadline, and the content-type option for patches.
import {ApiException, PatchStrategy, setHeaderOptions, type ConfigurationOptions} from '@kubernetes/client-node'
import {isObject} from '../fake-kube/json.js'

export const ns = 'team-a'

export interface StatusBody {
  kind?: string
  apiVersion?: string
  metadata?: unknown
  status?: string
  message?: string
  reason?: string
  details?: {name?: string; group?: string; kind?: string; causes?: {reason?: string; message?: string; field?: string}[]}
  code?: number
}

/** Runs `fn`, expects client-node to throw an ApiException, returns its code and parsed Status. */
export async function apiError(fn: () => Promise<unknown>): Promise<{code: number; status: StatusBody}> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof ApiException) {
      const raw: unknown = err.body
      const parsed: unknown = typeof raw === 'string' && raw !== '' ? JSON.parse(raw) : raw
      return {code: err.code, status: isObject(parsed) ? (parsed as StatusBody) : {}}
    }
    throw err
  }
  throw new Error('expected the call to fail')
}

export const mergePatch: ConfigurationOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
export const jsonPatch: ConfigurationOptions = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)
export const strategicPatch: ConfigurationOptions = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)

/** Polls `check` until it returns true; fails after `timeoutMs` (generous: the machine is shared). */
export {waitFor} from '../helpers/wait.js'

export function session(
  name: string,
  spec: Record<string, unknown> = {},
): {
  apiVersion: string
  kind: string
  metadata: {name: string; namespace: string; labels?: Record<string, string>}
  spec: Record<string, unknown>
} {
  return {
    apiVersion: 'vteam.ambient-code/v1alpha1',
    kind: 'AgenticSession',
    metadata: {name, namespace: ns},
    spec: {displayName: name, initialPrompt: 'hello', ...spec},
  }
}

export const sessions = {group: 'vteam.ambient-code', version: 'v1alpha1', plural: 'agenticsessions'} as const
