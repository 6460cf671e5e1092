// Request bodies: read with a size cap, parse as a JSON object, and decode against the
// resource schema (create bodies strictly, PATCH bodies leniently; contract 1.3). JSON-document fields (repos, labels, conditions...)
// only have to be strings: their content is stored as is, malformed or not, because real
// data is and the control plane must cope with it.
import type {IncomingMessage} from 'node:http'
import {normalizeRfc3339} from '../../api/time.js'
import {malformed, payloadTooLarge, validation} from '../errors.js'
import {MAX_BODY_DEPTH, MAX_BODY_VALUES} from '../query-limits.js'
import type {FieldType, ResourceSchema} from '../schema.js'
import {jsonShapeProblem} from '../../util/json-shape.js'

const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      reject(payloadTooLarge(`Request body is ${declared} bytes; the limit is ${limit}`))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (err: Error | undefined, body?: Buffer) => {
      if (done) return
      done = true
      req.off('data', onData)
      req.off('close', onClose)
      if (err) reject(err)
      else resolve(body as Buffer)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        // Stop buffering; the response closes the connection so the rest is never read.
        req.pause()
        finish(payloadTooLarge(`Request body exceeds the limit of ${limit} bytes`))
        return
      }
      chunks.push(chunk)
    }
    // A client that goes away mid-body gets no answer, but the request must not hang forever.
    const onClose = () => finish(malformed('Unable to read request body: the connection closed before the body ended'))
    req.on('data', onData)
    req.once('end', () => finish(undefined, Buffer.concat(chunks, size)))
    req.once('close', onClose)
    req.once('error', (err) => finish(malformed(`Unable to read request body: ${err.message}`)))
  })
}

export function parseJsonObject(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8')
  // Bounded before parsing: JSON.parse itself builds any depth without recursing, but code that
  // later walks the value may recurse (JSON.stringify, structuredClone), and parsing tens of
  // thousands of keys takes tens of milliseconds that no valid body needs.
  checkJsonShape(text)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw malformed(`Unable to read request body: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(
      `Unable to read request body: expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
    )
  }
  return value as Record<string, unknown>
}

/** Refuses bodies nested deeper than MAX_BODY_DEPTH or with more than MAX_BODY_VALUES values. */
export function checkJsonShape(text: string): void {
  const problem = jsonShapeProblem(text, {maxDepth: MAX_BODY_DEPTH, maxValues: MAX_BODY_VALUES})
  if (problem?.exceeded === 'depth') throw malformed(`Unable to read request body: JSON nested deeper than ${MAX_BODY_DEPTH} levels`)
  if (problem?.exceeded === 'values') throw malformed(`Unable to read request body: more than ${MAX_BODY_VALUES} values in its objects and arrays`)
}

/**
 * A create body, decoded the way the real server's strict create decoding does: `id` is refused
 * (the server assigns it), a key the resource does not declare at all is refused, every declared
 * key must have its type, and declared keys a client cannot set (created_by_user_id, status
 * fields, kind, href, timestamps) are then dropped. Returns the spec fields, timestamps
 * canonical; `null` means "not given", as Go's pointer fields read it.
 */
export function decodeCreateBody(body: Record<string, unknown>, schema: ResourceSchema): Record<string, unknown> {
  if (body.id !== undefined && body.id !== null) throw validation('id must be empty: the server assigns it')
  const unknown = Object.keys(body).filter((k) => !isDeclared(schema, k))
  if (unknown.length) throw validation(`unknown field${unknown.length > 1 ? 's' : ''} for ${schema.kind}: ${listSome(unknown, 10)}`)
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(body)) {
    if (value === null) continue
    // kind and href are declared strings too (they decode like any field), then dropped.
    const checked = checkType(name, schema.fields.get(name) ?? 'string', value)
    if (schema.specFields.has(name)) out[name] = checked
  }
  return out
}

/**
 * A PATCH body (main resource or /status), decoded leniently like Go's JSON decoding into the
 * real server's patch structs: keys in `accepted` are type-checked and kept, every other key
 * (id, kind, href, created_at, status or spec fields of the other path, unknown keys) is
 * ignored, so a client can PATCH back an object it fetched.
 */
export function decodePatchBody(body: Record<string, unknown>, schema: ResourceSchema, accepted: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(body)) {
    if (value === null || !accepted.has(name)) continue
    out[name] = checkType(name, schema.fields.get(name) as FieldType, value)
  }
  return out
}

function isDeclared(schema: ResourceSchema, key: string): boolean {
  return schema.fields.has(key) || key === 'kind' || key === 'href'
}

function checkType(name: string, type: FieldType, value: unknown): unknown {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw typeError(name, 'a string', value)
      return value
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
        throw typeError(name, 'a 32-bit integer', value)
      }
      return value
    case 'double':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw typeError(name, 'a number', value)
      return value
    case 'time':
      if (typeof value !== 'string') throw typeError(name, 'an RFC 3339 timestamp', value)
      try {
        return normalizeRfc3339(value)
      } catch {
        throw typeError(name, 'an RFC 3339 timestamp', value)
      }
  }
}

function typeError(name: string, want: string, got: unknown) {
  return malformed(`Unable to read request body: field ${name} must be ${want}, got ${describe(got)}`)
}

/** A short description of a JSON value, whatever its size: scalars shown (long strings cut), containers named. */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') return value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}...` : JSON.stringify(value)
  return String(value)
}

/** The first `n` names, then how many more there are. */
function listSome(names: readonly string[], n: number): string {
  const shown = names.slice(0, n).map((k) => (k.length > 60 ? `${k.slice(0, 60)}...` : k))
  return names.length > n ? `${shown.join(', ')} and ${names.length - n} more` : shown.join(', ')
}
