// Request bodies: read with a size cap, parse as a JSON object, and check every field's name
// and type against the resource schema. JSON-document fields (repos, labels, conditions...)
// only have to be strings: their content is stored as is, malformed or not, because real
// data is and the control plane must cope with it.
import type {IncomingMessage} from 'node:http'
import {normalizeRfc3339} from '../../api/time.js'
import {malformed, payloadTooLarge, validation} from '../errors.js'
import type {FieldType, ResourceSchema} from '../schema.js'

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
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw malformed(`Unable to read request body: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`Unable to read request body: expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`)
  }
  return value as Record<string, unknown>
}

export interface FieldRules {
  schema: ResourceSchema
  /** Fields this write path accepts. */
  allowed: ReadonlySet<string>
  /** Says why a known field is refused here (read-only, status-only, spec-only...). */
  refuse: (field: string) => string
}

/**
 * Returns the body's fields with checked types (timestamps canonical). `null` means "not
 * given", as Go's pointer fields read it.
 */
export function checkFields(body: Record<string, unknown>, rules: FieldRules): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const unknown = Object.keys(body).filter((k) => !rules.schema.fields.has(k) && k !== 'kind' && k !== 'href')
  if (unknown.length) throw validation(`unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`)
  for (const [name, value] of Object.entries(body)) {
    if (!rules.allowed.has(name)) throw validation(rules.refuse(name))
    if (value === null) continue
    const type = rules.schema.fields.get(name) as FieldType
    out[name] = checkType(name, type, value)
  }
  return out
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
  const shown = JSON.stringify(got)
  return malformed(`Unable to read request body: field ${name} must be ${want}, got ${shown.length > 60 ? `${shown.slice(0, 60)}...` : shown}`)
}
