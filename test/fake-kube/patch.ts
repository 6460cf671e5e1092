// RFC 7386 JSON merge patch and RFC 6902 JSON patch, applied to stored objects.
import {clone, deepEqual, isObject} from './json.js'

/** A patch document that could not be applied (the server answers 422). */
export class PatchApplyError extends Error {}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch)
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else out[key] = mergePatch(out[key], value)
  }
  return out
}

export interface JsonPatchOp {
  op: string
  path: string
  from?: string
  value?: unknown
}

/** Validates the shape of a JSON patch document; throws a plain Error (the server answers 400). */
export function parseJsonPatch(doc: unknown): JsonPatchOp[] {
  if (!Array.isArray(doc)) throw new Error('json: cannot unmarshal object into Go value of type jsonpatch.Patch')
  return doc.map((op) => {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw new Error('invalid JSON patch operation: op and path are required')
    }
    const out: JsonPatchOp = {op: op.op, path: op.path}
    if (typeof op.from === 'string') out.from = op.from
    if ('value' in op) out.value = op.value
    return out
  })
}

function pointer(path: string): string[] {
  if (path === '') return []
  if (!path.startsWith('/')) throw new PatchApplyError(`invalid JSON pointer: ${path}`)
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
}

type Container = Record<string, unknown> | unknown[]

function parentOf(doc: unknown, parts: string[], path: string): {parent: Container; key: string} {
  let cur: unknown = doc
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, part, false, path)]
    else if (isObject(cur)) cur = cur[part]
    else cur = undefined
    if (cur === undefined) throw new PatchApplyError(`doc is missing path: "${path}": missing value`)
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw new PatchApplyError(`doc is missing path: "${path}": missing value`)
  return {parent: cur, key: parts[parts.length - 1]}
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean, path: string): number {
  if (forInsert && key === '-') return arr.length
  if (!/^(0|[1-9]\d*)$/.test(key)) throw new PatchApplyError(`invalid array index in "${path}"`)
  const i = Number(key)
  if (i > arr.length || (!forInsert && i === arr.length)) throw new PatchApplyError(`array index out of bounds in "${path}"`)
  return i
}

function read(doc: unknown, path: string): unknown {
  const parts = pointer(path)
  if (parts.length === 0) return doc
  const {parent, key} = parentOf(doc, parts, path)
  const value = Array.isArray(parent) ? parent[arrayIndex(parent, key, false, path)] : parent[key]
  if (value === undefined) throw new PatchApplyError(`doc is missing path: "${path}": missing value`)
  return value
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const parts = pointer(path)
  if (parts.length === 0) return clone(value)
  const {parent, key} = parentOf(doc, parts, path)
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, path), 0, clone(value))
  else parent[key] = clone(value)
  return doc
}

function remove(doc: unknown, path: string): unknown {
  const parts = pointer(path)
  if (parts.length === 0) throw new PatchApplyError('cannot remove the whole document')
  const {parent, key} = parentOf(doc, parts, path)
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false, path), 1)
  else {
    if (!(key in parent)) throw new PatchApplyError(`Unable to remove nonexistent key: ${key}: missing value`)
    delete parent[key]
  }
  return doc
}

export function applyJsonPatch(target: unknown, ops: JsonPatchOp[]): unknown {
  let doc = clone(target)
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        doc = add(doc, op.path, op.value)
        break
      case 'remove':
        doc = remove(doc, op.path)
        break
      case 'replace':
        if (op.path === '') {
          doc = clone(op.value)
          break
        }
        read(doc, op.path)
        doc = remove(doc, op.path)
        doc = add(doc, op.path, op.value)
        break
      case 'move': {
        if (op.from === undefined) throw new PatchApplyError('move operation does not have from')
        const value = read(doc, op.from)
        doc = remove(doc, op.from)
        doc = add(doc, op.path, value)
        break
      }
      case 'copy': {
        if (op.from === undefined) throw new PatchApplyError('copy operation does not have from')
        doc = add(doc, op.path, read(doc, op.from))
        break
      }
      case 'test':
        if (!deepEqual(read(doc, op.path), op.value)) {
          throw new PatchApplyError(`testing value ${op.path} failed: test failed`)
        }
        break
      default:
        throw new PatchApplyError(`Unexpected kind: ${op.op}`)
    }
  }
  return doc
}
