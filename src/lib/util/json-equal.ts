// Deep equality of JSON values (parsed documents), the way the peers mean it: key order and
// keys whose value is undefined do not count. Recursive: callers bound the depth of what they
// compare (api/session-status.ts refuses documents nested deeper than 64 levels).

/** Deep equality of JSON values, key order ignored. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((v, i) => jsonEqual(v, b[i]))
  }
  const ao = a as Record<string, unknown>
  const bo = b as Record<string, unknown>
  const aKeys = Object.keys(ao).filter((k) => ao[k] !== undefined)
  const bKeys = Object.keys(bo).filter((k) => bo[k] !== undefined)
  if (aKeys.length !== bKeys.length) return false
  return aKeys.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]))
}
