// List query parameters (contract 1.1): page, size, search, orderBy, fields and, for
// sessions, project_id (or the X-Ambient-Project header, as the real server reads it).
// Like rh-trex: page starts at 1; size=0 is a cheap count (no items, the real total); a size
// above 65500 (the most parameters a Postgres WHERE IN takes) is capped, not refused.
import {badRequest} from '../errors.js'
import {MAX_FIELDS_LENGTH, MAX_ORDER_BY_KEYS, MAX_ORDER_BY_LENGTH} from '../query-limits.js'
import type {ResourceSchema} from '../schema.js'
import {compileSearch} from '../search.js'
import type {SortKey, TableQuery} from '../table.js'
import {checkPlainIdFilter} from '../validate.js'

export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 65_500

export interface ListParams {
  query: TableQuery
  /** Projection; id is always part of it. */
  fields?: readonly string[]
}

export function parseListParams(params: URLSearchParams, schema: ResourceSchema, projectHeader: string | undefined): ListParams {
  const page = intParam(params.get('page'), 'page', 1, 1)
  const size = Math.min(intParam(params.get('size'), 'size', DEFAULT_PAGE_SIZE, 0), MAX_PAGE_SIZE)
  const query: TableQuery = {page, size}

  const search = (params.get('search') ?? '').trim()
  if (search) {
    query.filter = compileSearch(search, schema.fields, schema.resource)
    query.filterKey = search
  }

  if (schema.resource === 'sessions') {
    const projectId = params.get('project_id') || projectHeader
    if (projectId) {
      // A plain id only: the real server splices it into its SQL filter.
      checkPlainIdFilter(params.get('project_id') ? 'project_id' : 'X-Ambient-Project', projectId)
      query.equals = {field: 'project_id', value: projectId}
    }
  }

  const orderBy = params.get('orderBy')
  if (orderBy !== null && orderBy.trim() !== '') query.orderBy = parseOrderBy(orderBy, schema)

  const fieldsParam = params.get('fields')
  let fields: string[] | undefined
  if (fieldsParam !== null && fieldsParam.length > MAX_FIELDS_LENGTH)
    throw badRequest(`fields: longer than ${MAX_FIELDS_LENGTH} characters (${fieldsParam.length})`)
  if (fieldsParam !== null && fieldsParam.trim() !== '') {
    fields = ['id']
    for (const raw of fieldsParam.split(',')) {
      const f = raw.trim()
      if (!f) continue
      if (!schema.fields.has(f) && f !== 'kind' && f !== 'href') throw badRequest(`fields: ${f} is not a field of ${schema.kind}`)
      if (!fields.includes(f)) fields.push(f)
    }
  }
  return {query, fields}
}

/** A whole number of at least `min`, digits only; a huge one stays huge (size is capped by the caller, a page past the end is empty). */
function intParam(raw: string | null, name: string, fallback: number, min: number): number {
  if (raw === null || raw.trim() === '') return fallback
  const text = raw.trim()
  if (text.length > 64 || !/^\d+$/.test(text))
    throw badRequest(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw.slice(0, 40))}`)
  const n = Number(text)
  if (n < min) throw badRequest(`${name} must be at least ${min}, got ${text}`)
  return n
}

function parseOrderBy(raw: string, schema: ResourceSchema): SortKey[] {
  if (raw.length > MAX_ORDER_BY_LENGTH) throw badRequest(`orderBy: longer than ${MAX_ORDER_BY_LENGTH} characters (${raw.length})`)
  const keys: SortKey[] = []
  for (const part of raw.split(',')) {
    const text = part.trim()
    if (!text) continue
    if (keys.length === MAX_ORDER_BY_KEYS) throw badRequest(`orderBy: more than ${MAX_ORDER_BY_KEYS} keys`)
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)(?:\s+(asc|desc))?$/i.exec(text)
    if (!m) throw badRequest(`orderBy: ${JSON.stringify(text)} is not "<field> [asc|desc]"`)
    let field = m[1] ?? ''
    if (field.startsWith(`${schema.resource}.`)) field = field.slice(schema.resource.length + 1)
    if (!schema.fields.has(field)) throw badRequest(`orderBy: ${field} is not a field of ${schema.kind}`)
    keys.push({field, desc: (m[2] ?? 'asc').toLowerCase() === 'desc'})
  }
  return keys
}

export function project(obj: object, fields: readonly string[]): Record<string, unknown> {
  const src = obj as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const f of fields) if (src[f] !== undefined) out[f] = src[f]
  return out
}
