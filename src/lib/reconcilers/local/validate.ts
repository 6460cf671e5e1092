// What must hold before a session gets a runner. Real data can be malformed (contract 1.3):
// a bad session fails on its own with a condition naming the field, it never throws out of
// the reconcile loop or stops other sessions.
import type {Session} from '../../api/types.js'
import {isSafeSessionId} from '../../process/session-id.js'
import {isRecord} from '../../util/is-record.js'

export interface SessionProblem {
  field: string
  message: string
}

/** `repos` travels to the runner as REPOS_JSON: it must be an array of {url, branch?, autoPush?}. */
export function reposProblem(raw: string | undefined): SessionProblem | undefined {
  if (raw === undefined || raw.trim() === '') return undefined
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch (err) {
    return {field: 'repos', message: `repos: not valid JSON (${err instanceof Error ? err.message : String(err)})`}
  }
  if (value === null) return undefined
  if (!Array.isArray(value)) return {field: 'repos', message: 'repos: expected a JSON array of {"url", "branch"?, "autoPush"?}'}
  for (const [i, item] of value.entries()) {
    if (!isRecord(item) || typeof item.url !== 'string' || item.url === '')
      return {field: 'repos', message: `repos[${i}]: "url" must be a non-empty string`}
    if (item.branch !== undefined && typeof item.branch !== 'string') return {field: 'repos', message: `repos[${i}]: "branch" must be a string`}
    if (item.autoPush !== undefined && typeof item.autoPush !== 'boolean')
      return {field: 'repos', message: `repos[${i}]: "autoPush" must be true or false`}
  }
  return undefined
}

/** The first reason this session cannot be given a runner, if any. */
export function sessionProblem(session: Pick<Session, 'id' | 'repos'>): SessionProblem | undefined {
  if (!isSafeSessionId(session.id)) {
    return {
      field: 'id',
      message: `session id ${JSON.stringify(session.id)} cannot name a workspace directory (letters, digits, '.', '_', '-'; at most 128)`,
    }
  }
  return reposProblem(session.repos)
}
