// List query parameters (contract 1.1): page, size, search, orderBy, fields and, for
// sessions, project_id (or the X-Ambient-Project header, as the real server reads it).
import {badRequest} from '../errors.js'
import type {ResourceSchema} from '../schema.js'
import {compileSearch} from '../search.js'
import type {SortKey, TableQuery} from '../table.js'

export const DEFAULT_PAGE_SIZE = 100
/** rh-trex caps at 65500; a smaller cap keeps one response within a few MiB. */
export const MAX_PAGE_SIZE = 10_000

export interface ListParams {
  query: TableQuery
  /** Projection; id is always part of it. */
  fields?: readonly string[]
}

export function parseListParams(params: URLSearchParams, schema: ResourceSchema, projectHeader: string | undefined): ListParams {
  const page = positiveInt(params.get('page'), 'page', 1, Number.MAX_SAFE_INTEGER)
  const size = positiveInt(params.get('size'), 'size', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
  const query: TableQuery = {page, size}

  const search = (params.get('search') ?? '').trim()
  if (search) {
    query.filter = compileSearch(search, schema.fields, schema.resource)
    query.filterKey = search
  }

  if (schema.resource === 'sessions') {
    const projectId = params.get('project_id') || projectHeader
    if (projectId) query.equals = {field: 'project_id', value: projectId}
  }

  const orderBy = params.get('orderBy')
  if (orderBy !== null && orderBy.trim() !== '') query.orderBy = parseOrderBy(orderBy, schema)

  const fieldsParam = params.get('fields')
  let fields: string[] | undefined
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

function positiveInt(raw: string | null, name: string, fallback: number, max: number): number {
  if (raw === null || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw badRequest(`${name} must be a positive integer, got ${JSON.stringify(raw)}`)
  const n = Number(raw)
  if (n < 1) throw badRequest(`${name} must be at least 1, got ${raw}`)
  if (n > max) throw badRequest(`${name} must be at most ${max}, got ${raw}`)
  return n
}

function parseOrderBy(raw: string, schema: ResourceSchema): SortKey[] {
  const keys: SortKey[] = []
  for (const part of raw.split(',')) {
    const text = part.trim()
    if (!text) continue
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)(?:\s+(asc|desc))?$/i.exec(text)
    if (!m) throw badRequest(`orderBy: ${JSON.stringify(text)} is not "<field> [asc|desc]"`)
    let field = m[1]
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
