// What a real API server checks in a CRD's openAPIV3Schema before it accepts the CRD: the
// structural-schema invariants (a type on every specified node, items on arrays, no
// additionalProperties at the root or next to properties) and that every `default` is valid
// under its own node and survives pruning. A CRD the fake accepts is then one a cluster accepts.
import {clone, deepEqual, isObject} from './json.js'
import {parseSchema, pruneValue, validateValue} from './schema.js'
import {fieldForbidden, fieldInvalid, fieldRequired, type FieldError} from './status.js'

type Level = 'root' | 'item' | 'field'

const emptyTypeDetail: Record<Level, string> = {
  root: 'must not be empty at the root',
  item: 'must not be empty for specified array items',
  field: 'must not be empty for specified object fields',
}

/** Errors of every served version's schema, with field paths as kube-apiserver prints them. */
export function crdSchemaErrors(spec: unknown): FieldError[] {
  const versions = isObject(spec) && Array.isArray(spec.versions) ? spec.versions : []
  const errors: FieldError[] = []
  versions.forEach((version, i) => {
    const schema = isObject(version) && isObject(version.schema) ? version.schema.openAPIV3Schema : undefined
    if (schema === undefined) return
    const path = `spec.versions[${i}].schema.openAPIV3Schema`
    // A schema nested deeper than this is not a CRD anyone writes; stop instead of recursing on.
    nodeErrors(schema, path, 'root', 0, errors)
  })
  return errors
}

const MAX_DEPTH = 64

function nodeErrors(node: unknown, path: string, level: Level, depth: number, errors: FieldError[]): void {
  if (depth > MAX_DEPTH) {
    errors.push(fieldForbidden(path, `must not be nested more than ${MAX_DEPTH} levels deep`))
    return
  }
  if (!isObject(node)) {
    errors.push(fieldInvalid(path, node, 'must be an object'))
    return
  }
  const type = typeof node.type === 'string' ? node.type : ''
  const intOrString = node['x-kubernetes-int-or-string'] === true
  const preserve = node['x-kubernetes-preserve-unknown-fields'] === true
  if (type === '' && !intOrString && !preserve) errors.push(fieldRequired(`${path}.type`, emptyTypeDetail[level]))
  if (level === 'root' && type !== '' && type !== 'object') errors.push(fieldInvalid(`${path}.type`, type, 'must be object at the root'))
  if (type === 'array' && node.items === undefined) errors.push(fieldRequired(`${path}.items`, 'must be specified'))
  if (node.additionalProperties !== undefined) {
    if (level === 'root') errors.push(fieldForbidden(`${path}.additionalProperties`, 'must not be used at the root'))
    if (isObject(node.properties))
      errors.push(fieldForbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'))
  }
  if ('default' in node) defaultErrors(node, path, errors)
  if (node.items !== undefined) nodeErrors(node.items, `${path}.items`, 'item', depth + 1, errors)
  if (isObject(node.additionalProperties)) nodeErrors(node.additionalProperties, `${path}.additionalProperties`, 'field', depth + 1, errors)
  if (isObject(node.properties)) {
    for (const [key, child] of Object.entries(node.properties)) {
      // The root's metadata is the server's: only name/generateName may be restricted there.
      if (level === 'root' && key === 'metadata') continue
      nodeErrors(child, `${path}.properties[${key}]`, 'field', depth + 1, errors)
    }
  }
}

/** A default must validate under its node and be unchanged by pruning (no unknown fields). */
function defaultErrors(node: Record<string, unknown>, path: string, errors: FieldError[]): void {
  const schema = parseSchema(node)
  const value = node.default
  const pruned = clone(value)
  pruneValue(pruned, schema)
  if (!deepEqual(pruned, value)) errors.push(fieldInvalid(`${path}.default`, value, 'must not have unknown fields'))
  validateValue(value, schema, `${path}.default`, errors)
}
