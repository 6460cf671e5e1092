// One rule for "may this session id become a path segment / URL segment", shared by the
// workspace layout, the registry file names and the proxy routes.
import path from 'node:path'
import {UnsafeSessionIdError} from './errors.js'

// Starting with a letter or digit rules out '.', '..', hidden files and option-like names;
// the character class rules out '/', '\', NUL, '%' (no decoding tricks) and whitespace.
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export function isSafeSessionId(id: string): boolean {
  return SAFE_SEGMENT.test(id)
}

export function assertSafeSessionId(id: string): void {
  if (!isSafeSessionId(id)) throw new UnsafeSessionIdError(id)
}

/** `<root>/<id>`, refusing any id that would not stay directly under root. */
export function workspacePathFor(root: string, id: string): string {
  assertSafeSessionId(id)
  const base = path.resolve(root)
  const dir = path.resolve(base, id)
  // Belt and braces: the regex already guarantees this.
  if (path.dirname(dir) !== base) throw new UnsafeSessionIdError(id)
  return dir
}
