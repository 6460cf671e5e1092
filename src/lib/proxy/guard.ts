// Who may use the proxy. It adds each runner's secret token on the way in, so whoever reaches
// it drives the agents: requests must be meant for it (Host) and, when they act, must not be
// a browser doing a foreign page's bidding (Origin, Sec-Fetch-Site).
// - Host: a web page whose name resolves to 127.0.0.1 (DNS rebinding) reaches us with its own
//   name in Host, and being same-origin with itself may read our answers. Only loopback names
//   with our port, and the names configured for us, are served (421 otherwise).
// - Cross-site: any page can make the browser send a POST (or a GET via <img>) here; CORS
//   only keeps it from reading the answer, not the agent from acting. On the routes that act,
//   a browser request from another site (or another port of localhost: same site, but not
//   our UI) must carry the allowed Origin (403 otherwise). Clients that are not browsers send
//   neither Origin nor Sec-Fetch-Site and are not affected.
import type {IncomingHttpHeaders} from 'node:http'

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]']

export interface HostPolicy {
  /** The port the proxy listens on: loopback names must carry it. */
  port: number
  /** LOCAL_PROXY_ALLOWED_HOSTS entries: "name" (with our port) or "name:port". */
  allowedHosts?: readonly string[]
}

/** "host:port" of a Host header, lower-cased, the port made explicit (80 when absent). */
function normalizeHost(value: string): string {
  const host = value.trim().toLowerCase()
  return host.lastIndexOf(':') > host.lastIndexOf(']') ? host : `${host}:80`
}

/** The set of "host:port" values the proxy answers. */
export function allowedHostSet(policy: HostPolicy): ReadonlySet<string> {
  const allowed = new Set(LOOPBACK_NAMES.map((name) => `${name}:${policy.port}`))
  for (const entry of policy.allowedHosts ?? []) {
    const host = entry.toLowerCase()
    allowed.add(host.lastIndexOf(':') > host.lastIndexOf(']') ? host : `${host}:${policy.port}`)
  }
  return allowed
}

/** Why the Host header is refused, or undefined when it is one of ours. */
export function hostProblem(host: string | undefined, allowed: ReadonlySet<string>): string | undefined {
  if (!host) return 'a request without a Host header is not served here'
  if (allowed.has(normalizeHost(host))) return undefined
  return `Host ${JSON.stringify(host.slice(0, 200))} is not served here: this proxy answers ${[...allowed].join(', ')} (more names: LOCAL_PROXY_ALLOWED_HOSTS)`
}

/**
 * Why a request that acts is refused as cross-site, or undefined. An Origin must be the
 * allowed one or the proxy's own; without Origin, a browser's Sec-Fetch-Site must say the
 * request is same-origin or typed by the user ('none').
 */
export function crossSiteProblem(headers: IncomingHttpHeaders, options: {allowedOrigin: string; host: string}): string | undefined {
  const origin = headers.origin
  const site = headers['sec-fetch-site']
  if (origin !== undefined) {
    const own = `http://${options.host.trim().toLowerCase()}`
    if (origin === options.allowedOrigin || origin.toLowerCase() === own) return undefined
    return `a request from origin ${JSON.stringify(origin.slice(0, 200))} may not run or interrupt agents: only CORS_ALLOWED_ORIGIN (${options.allowedOrigin}) may`
  }
  if (site === undefined || site === 'same-origin' || site === 'none') return undefined
  return `a ${String(site).slice(0, 20)} browser request without the allowed Origin (CORS_ALLOWED_ORIGIN, ${options.allowedOrigin}) may not run or interrupt agents`
}
