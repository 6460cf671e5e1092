// The Kubernetes objects kube mode writes, as plain JSON shapes (CRs travel through
// CustomObjectsApi untyped), and the names that tie them to the Ambient API (contract 3).

export const AGENTIC_SESSION_GROUP = 'vteam.ambient-code'
export const AGENTIC_SESSION_VERSION = 'v1alpha1'
export const AGENTIC_SESSION_PLURAL = 'agenticsessions'
export const AGENTIC_SESSION_KIND = 'AgenticSession'
export const AGENTIC_SESSION_API_VERSION = `${AGENTIC_SESSION_GROUP}/${AGENTIC_SESSION_VERSION}`

export const LABEL_MANAGED = 'ambient-code.io/managed'
export const LABEL_MANAGED_BY = 'ambient-code.io/managed-by'
export const LABEL_SESSION_ID = 'ambient-code.io/session-id'
export const LABEL_PROJECT_ID = 'ambient-code.io/project-id'
export const LABEL_PROJECT_SETTINGS_ID = 'ambient-code.io/project-settings-id'
export const MANAGED_BY = 'ambient-control-plane'
/** Every object kube mode owns carries this label; caches select on it. */
export const MANAGED_SELECTOR = `${LABEL_MANAGED}=true`
/**
 * Which label/annotation keys of a CR came from the session's JSON, so a key removed from the
 * session is removed from the CR while keys other writers add are left alone.
 */
export const ANNOTATION_SESSION_METADATA_KEYS = 'ambient-code.io/session-metadata-keys'

/** The metadata fields kube mode reads and writes (timestamps stay strings: plain JSON). */
export interface KubeObjectMeta {
  name?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  generation?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  deletionTimestamp?: string | Date
  creationTimestamp?: string | Date
}

export interface AgenticSessionRepo {
  url: string
  branch?: string
  autoPush?: boolean
}

export interface AgenticSessionSpec {
  displayName?: string
  initialPrompt?: string
  timeout?: number
  repos?: AgenticSessionRepo[]
  llmSettings?: {model?: string; temperature?: number; maxTokens?: number}
  userContext?: {userId?: string; displayName?: string; groups?: string[]}
  environmentVariables?: Record<string, string>
  inactivityTimeout?: number
  activeWorkflow?: {gitUrl?: string; branch?: string; path?: string}
}

export interface AgenticSessionCondition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  reason?: string
  message?: string
  lastTransitionTime?: string
  observedGeneration?: number
}

export interface AgenticSessionStatus {
  observedGeneration?: number
  phase?: string
  startTime?: string
  completionTime?: string
  lastActivityTime?: string
  stoppedReason?: 'user' | 'inactivity'
  sdkSessionId?: string
  sdkRestartCount?: number
  reconciledRepos?: unknown[]
  reconciledWorkflow?: Record<string, unknown>
  conditions?: AgenticSessionCondition[]
}

export interface AgenticSession {
  apiVersion?: string
  kind?: string
  metadata: KubeObjectMeta
  spec?: AgenticSessionSpec
  status?: AgenticSessionStatus
}

export interface NamespaceObject {
  apiVersion?: string
  kind?: string
  metadata: KubeObjectMeta
  status?: {phase?: string}
}

export interface RoleBindingObject {
  apiVersion?: string
  kind?: string
  metadata: KubeObjectMeta
  roleRef: {apiGroup: string; kind: string; name: string}
  subjects?: {kind: string; name: string; apiGroup?: string; namespace?: string}[]
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key caches index by. */
export function objectKey(meta: {namespace?: string; name?: string}): string {
  return meta.namespace ? `${meta.namespace}/${meta.name ?? ''}` : (meta.name ?? '')
}
