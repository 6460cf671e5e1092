// CR status -> the session's status fields on the Ambient API. Whether a PATCH is then needed
// is decided by the semantic comparison in api/session-status.ts (shared with local mode).
import {normalizeTime} from '../../api/session-status.js'
import type {SessionStatusPatch} from '../../api/types.js'
import type {AgenticSessionStatus, KubeObjectMeta} from '../../kube/types.js'
import {isRecord} from '../../util/is-record.js'

/** The status PATCH that mirrors a CR (contract 3): only fields the CR actually has. */
export function statusToApi(status: AgenticSessionStatus | undefined, cr: {metadata: KubeObjectMeta}): SessionStatusPatch {
  const patch: SessionStatusPatch = {}
  if (cr.metadata.uid) patch.kube_cr_uid = cr.metadata.uid
  if (cr.metadata.namespace) patch.kube_namespace = cr.metadata.namespace
  const s = status ?? {}
  if (typeof s.phase === 'string' && s.phase !== '') patch.phase = s.phase
  const start = normalizeTime(s.startTime)
  if (start) patch.start_time = start
  const completion = normalizeTime(s.completionTime)
  if (completion) patch.completion_time = completion
  if (typeof s.sdkSessionId === 'string' && s.sdkSessionId !== '') patch.sdk_session_id = s.sdkSessionId
  if (Number.isInteger(s.sdkRestartCount)) patch.sdk_restart_count = s.sdkRestartCount
  // Always present, so conditions an earlier failure wrote on the session are cleared once the
  // CR is the source again; an empty list compares equal to none, so it costs no write.
  patch.conditions = JSON.stringify(Array.isArray(s.conditions) ? s.conditions : [])
  if (Array.isArray(s.reconciledRepos)) patch.reconciled_repos = JSON.stringify(s.reconciledRepos)
  if (isRecord(s.reconciledWorkflow)) patch.reconciled_workflow = JSON.stringify(s.reconciledWorkflow)
  return patch
}

export {parseConditions, statusPatchDiff, statusPatchNeeded, withCondition} from '../../api/session-status.js'
