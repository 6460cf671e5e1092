// Value rules both transports share (REST bodies and gRPC requests end up in the same Store
// calls, which apply these): required strings, project names, plain-id filters. The rules and
// their messages are the real server's (rh-trex grpcutil.ValidateStringField, ambient-api-server
// plugins/projects ValidateProjectName), so a client sees the same refusal either way.
import {badRequest, validation} from './errors.js'

/** rh-trex's limit on a gRPC string field; applied to required names on both transports here. */
export const MAX_NAME_LENGTH = 255
export const PROJECT_NAME_MIN = 2
export const PROJECT_NAME_MAX = 63

/** A required name-like field: a non-empty string of at most 255 characters. */
export function checkRequired(field: string, value: unknown): void {
  if (typeof value !== 'string' || value === '') throw validation(`${field} is required`)
  if (value.length > MAX_NAME_LENGTH) throw validation(`${field} exceeds maximum length of ${MAX_NAME_LENGTH}`)
}

/**
 * A project name becomes a Kubernetes namespace: 2 to 63 characters of `^[a-z][a-z0-9-]*[a-z0-9]$`
 * (a DNS-1123 label that starts with a letter). Checked character by character, not with that
 * regex, so no input can make the check backtrack.
 */
export function checkProjectName(name: string): void {
  if (name.length < PROJECT_NAME_MIN || name.length > PROJECT_NAME_MAX) {
    throw validation(`project name must be between ${PROJECT_NAME_MIN} and ${PROJECT_NAME_MAX} characters, got ${name.length}`)
  }
  const lowerAlnum = (c: string) => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
  const first = name[0] ?? ''
  const ok = first >= 'a' && first <= 'z' && lowerAlnum(name.at(-1) ?? '') && [...name].every((c) => lowerAlnum(c) || c === '-')
  if (!ok) {
    throw validation(
      `project name ${JSON.stringify(name)} must match DNS-1123 label format: lowercase alphanumeric and hyphens, must start with a letter and end with an alphanumeric character`,
    )
  }
}

/** True for a plain id: letters, digits, `-` and `_`, at least one. */
export function isPlainId(value: string): boolean {
  return value.length > 0 && /^[A-Za-z0-9_-]+$/.test(value)
}

/** A list filter that must be a plain id (contract 1.1: `project_id` on a session list). */
export function checkPlainIdFilter(name: string, value: string): void {
  if (!isPlainId(value)) {
    const shown = JSON.stringify(value)
    throw badRequest(`${name} must be a plain id (letters, digits, '-', '_'), got ${shown.length > 80 ? `${shown.slice(0, 80)}...` : shown}`)
  }
}
