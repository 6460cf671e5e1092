// The one check every reader of untrusted JSON starts with: a plain object whose fields can be
// looked at one by one (arrays and null are not).

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
