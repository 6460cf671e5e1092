// A tiny path router. Why not a framework router: the route table is five patterns, and the
// contract wants every miss (unknown path 404, wrong method 405 with Allow) answered with the
// same error body and operation id as any other error, which is simplest when the router
// returns "no match" values instead of writing responses itself. No dependency either.

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export interface Route<H> {
  /** Segments; `:name` captures one segment. */
  pattern: readonly string[]
  methods: Partial<Record<HttpMethod, H>>
}

export type RouteMatch<H> =
  | {kind: 'ok'; handler: H; params: Readonly<Record<string, string>>}
  | {kind: 'not-found'}
  | {kind: 'method-not-allowed'; allow: HttpMethod[]}

export class Router<H> {
  private readonly routes: Route<H>[] = []

  add(path: string, methods: Partial<Record<HttpMethod, H>>): this {
    this.routes.push({pattern: path.split('/').filter(Boolean), methods})
    return this
  }

  /** `segments` are already percent-decoded. */
  match(method: string, segments: readonly string[]): RouteMatch<H> {
    for (const route of this.routes) {
      const params = matchPattern(route.pattern, segments)
      if (!params) continue
      const handler = route.methods[method as HttpMethod]
      if (handler) return {kind: 'ok', handler, params}
      return {kind: 'method-not-allowed', allow: Object.keys(route.methods) as HttpMethod[]}
    }
    return {kind: 'not-found'}
  }
}

function matchPattern(pattern: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined
  const params: Record<string, string> = {}
  for (const [i, p] of pattern.entries()) {
    const s = segments[i]
    if (s === undefined || s === '') return undefined
    if (p.startsWith(':')) params[p.slice(1)] = s
    else if (p !== s) return undefined
  }
  return params
}

/** Splits a path below `basePath` into decoded segments; undefined when outside it or undecodable. */
export function segmentsBelow(pathname: string, basePath: string): string[] | undefined {
  if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return undefined
  const rest = pathname.slice(basePath.length)
  if (rest === '') return []
  try {
    return rest
      .slice(1)
      .split('/')
      .map((s) => decodeURIComponent(s))
  } catch {
    return undefined
  }
}
