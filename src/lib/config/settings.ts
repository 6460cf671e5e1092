// Every setting the CLI reads, in one table: its environment name (the names users of the
// Ambient platform already know, contract section 5), default, parser and help text. The
// resolver, `ambient config`, the README and the tests all walk this table.
import os from 'node:os'
import path from 'node:path'
import {z} from 'zod'
import {LOG_LEVELS} from '../log.js'

const MODES = ['kube', 'local', 'test'] as const
export type Mode = (typeof MODES)[number]

export interface PortRange {
  from: number
  to: number
}

/** host:port, with an empty host (":8080") meaning all interfaces, and "0" meaning off. */
export interface ListenAddress {
  host: string
  port: number
}

const BOOL_TRUE = new Set(['true', '1', 'yes', 'on'])
const BOOL_FALSE = new Set(['false', '0', 'no', 'off', ''])

function expandHome(value: string): string {
  return value === '~' || value.startsWith('~/') ? path.join(os.homedir(), value.slice(1)) : value
}

/** "host:port", "[::1]:port" or ":port" (all interfaces). */
function parseHostPort(value: string): ListenAddress | undefined {
  const m = /^(.*):(\d+)$/.exec(value.trim())
  const p = m ? Number(m[2]) : Number.NaN
  if (!m || !Number.isInteger(p) || p < 0 || p > 65_535) return undefined
  return {host: (m[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port: p}
}

const port = z.coerce.number().int().min(1).max(65_535)

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/
const BRACKETED_IPV6 = /^\[[0-9a-f:.]+\]$/

/** "name", "name:port", "[v6]" or "[v6]:port", lower-cased; undefined when not one. */
function parseHostEntry(entry: string): string | undefined {
  const value = entry.toLowerCase()
  const bracket = value.lastIndexOf(']')
  const colon = value.lastIndexOf(':')
  const hasPort = colon > bracket
  const host = hasPort ? value.slice(0, colon) : value
  if (hasPort && (!/^\d{1,5}$/.test(value.slice(colon + 1)) || !port.safeParse(value.slice(colon + 1)).success)) return undefined
  if (host.startsWith('[')) return BRACKETED_IPV6.test(host) ? value : undefined
  const labels = host.split('.')
  return host.length <= 253 && labels.every((label) => label.length <= 63 && HOST_LABEL.test(label)) ? value : undefined
}

const schemas = {
  url: z
    .string()
    .url()
    .transform((v) => v.replace(/\/+$/, '')),
  text: z.string(),
  nonEmpty: z.string().min(1),
  path: z.string().min(1).transform(expandHome),
  basePath: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/, 'must start with / and contain only path characters')
    .transform((v) => v.replace(/\/+$/, '')),
  positiveInt: z.coerce.number().int().min(1),
  nonNegativeNumber: z.coerce.number().min(0),
  bool: z.string().transform((v, ctx) => {
    const s = v.trim().toLowerCase()
    if (BOOL_TRUE.has(s)) return true
    if (BOOL_FALSE.has(s)) return false
    ctx.addIssue({code: 'custom', message: 'expected true or false'})
    return z.NEVER
  }),
  mode: z.enum(MODES),
  logLevel: z.enum(LOG_LEVELS),
  hostPort: z.string().transform((v, ctx): ListenAddress => {
    const addr = parseHostPort(v)
    if (addr) return addr
    ctx.addIssue({code: 'custom', message: 'expected host:port, e.g. localhost:8001'})
    return z.NEVER
  }),
  /** Like hostPort, but a bare "0" turns the listener off. */
  listen: z.string().transform((v, ctx): ListenAddress | undefined => {
    if (v.trim() === '0') return undefined
    const addr = parseHostPort(v)
    if (addr) return addr
    ctx.addIssue({code: 'custom', message: 'expected [host]:port (e.g. :8080) or 0 to turn it off'})
    return z.NEVER
  }),
  /** Comma-separated host names or addresses, each with an optional :port; empty = none. */
  hostList: z.string().transform((v, ctx): string[] => {
    const entries = v
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
    const bad = entries.find((e) => parseHostEntry(e) === undefined)
    if (bad === undefined) return entries.map((e) => parseHostEntry(e) ?? e)
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(bad)} is not a host name or address with an optional :port (e.g. agents.internal,box.lan:8443,[fd00::1]:9080; no wildcards)`,
    })
    return z.NEVER
  }),
  portRange: z.string().transform((v, ctx): PortRange => {
    const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(v)
    const range = m ? {from: Number(m[1]), to: Number(m[2])} : undefined
    if (!range || !port.safeParse(range.from).success || !port.safeParse(range.to).success || range.from > range.to) {
      ctx.addIssue({code: 'custom', message: 'expected FROM-TO with 1 <= FROM <= TO <= 65535, e.g. 9100-9199'})
      return z.NEVER
    }
    return range
  }),
}

export interface SettingDef<S extends z.ZodType> {
  schema: S
  /** Default as the user would type it; undefined = no default (unset). */
  default?: string
  description: string
  /** Kept out of `ambient config ls` output and logs. */
  secret?: boolean
  /** Accepted values, shown in errors and help. */
  accepted?: readonly string[]
}

export const SETTINGS = {
  AMBIENT_API_SERVER_URL: {schema: schemas.url, default: 'http://localhost:8000', description: 'Base URL of the Ambient API server (REST).'},
  AMBIENT_API_BASE_PATH: {
    schema: schemas.basePath,
    default: '/api/ambient/v1',
    description: 'REST base path; the older generation used /api/ambient-api-server/v1.',
  },
  AMBIENT_API_TOKEN: {schema: schemas.nonEmpty, description: 'Bearer token for the API server.', secret: true},
  AMBIENT_API_TOKEN_FILE: {schema: schemas.path, description: 'File holding the bearer token; re-read when it changes (mounted secrets rotate).'},
  AMBIENT_API_PROJECT: {schema: schemas.nonEmpty, default: 'default', description: 'Default project for commands that take one.'},
  AMBIENT_GRPC_SERVER_ADDR: {schema: schemas.hostPort, default: 'localhost:8001', description: 'gRPC address of the API server (watch streams).'},
  AMBIENT_GRPC_USE_TLS: {schema: schemas.bool, default: 'false', description: 'Use TLS for gRPC.', accepted: ['true', 'false']},
  MODE: {schema: schemas.mode, default: 'kube', description: 'Reconciler mode of `ambient run`.', accepted: MODES},
  LOG_LEVEL: {schema: schemas.logLevel, default: 'info', description: 'Log level.', accepted: LOG_LEVELS},
  KUBECONFIG: {schema: schemas.path, description: 'Kubeconfig file (else ~/.kube/config, else in-cluster).'},
  NAMESPACE: {schema: schemas.nonEmpty, default: 'ambient-code', description: 'Namespace of the control plane (leases, events).'},
  POLL_INTERVAL_SECONDS: {schema: schemas.positiveInt, default: '5', description: 'List interval when the server has no watch.'},
  WATCH_RELIST_DELAY_SECONDS: {
    schema: schemas.nonNegativeNumber,
    default: '2',
    description:
      'After a watch request went out, list once more this much later: changes made before the server registered the stream (it never says when) are on no stream.',
  },
  WORKER_COUNT: {schema: schemas.positiveInt, default: '2', description: 'Reconcile workers per resource.'},
  METRICS_ADDR: {schema: schemas.listen, default: ':8080', description: 'Prometheus metrics listener; 0 turns it off.'},
  PROBE_ADDR: {schema: schemas.listen, default: ':8081', description: 'Health probe listener (/healthz, /readyz); 0 turns it off.'},
  KUBE_QPS: {schema: schemas.nonNegativeNumber, default: '50', description: 'Client-side rate limit for Kubernetes calls (queries per second).'},
  KUBE_BURST: {schema: schemas.positiveInt, default: '100', description: 'Burst of the Kubernetes rate limiter.'},
  AMBIENT_STATE_DIR: {schema: schemas.path, default: '~/.ambient/state', description: 'Where local mode keeps its runner registry.'},
  LOCAL_WORKSPACE_ROOT: {schema: schemas.path, default: '~/.ambient/workspaces', description: "Parent of the runners' workspaces."},
  LOCAL_PROXY_ADDR: {schema: schemas.hostPort, default: '127.0.0.1:9080', description: 'Listen address of the AG-UI proxy.'},
  LOCAL_PROXY_ALLOWED_HOSTS: {
    schema: schemas.hostList,
    default: '',
    description:
      'Host names the AG-UI proxy answers besides localhost, 127.0.0.1 and [::1] on its port (comma-separated, name or name:port): any other Host header is refused, against DNS rebinding.',
  },
  CORS_ALLOWED_ORIGIN: {
    schema: schemas.nonEmpty,
    default: 'http://localhost:3000',
    description: 'The one origin the AG-UI proxy allows (CORS, and browser requests that run or interrupt agents).',
  },
  LOCAL_RUNNER_COMMAND: {schema: schemas.nonEmpty, default: 'python local_entry.py', description: 'Command that starts a runner.'},
  LOCAL_PORT_RANGE: {schema: schemas.portRange, default: '9100-9199', description: 'Ports handed to runners.'},
  LOCAL_MAX_SESSIONS: {schema: schemas.positiveInt, default: '10', description: 'Runners at most at once.'},
  LOCAL_RUNNER_LOG_MAX_BYTES: {
    schema: z.coerce.number().int().min(1024, 'must be at least 1024 (bytes)').max(Number.MAX_SAFE_INTEGER),
    default: '10485760',
    description: "Largest size in bytes of a runner's stdout.log / stderr.log before it is rotated (to .1, .2 ...).",
  },
  LOCAL_RUNNER_LOG_FILES: {
    schema: z.coerce.number().int().min(1).max(100),
    default: '3',
    description: 'Log files kept per runner stream, the live one included (1: the log starts over when full).',
  },
  BOSS_URL: {schema: schemas.text, description: 'Passed to runners when set.'},
  BOSS_SPACE: {schema: schemas.text, description: 'Passed to runners when set.'},
} as const satisfies Record<string, SettingDef<z.ZodType>>

export type SettingName = keyof typeof SETTINGS
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[]

type Parsed<N extends SettingName> = z.output<(typeof SETTINGS)[N]['schema']>
type HasDefault<N extends SettingName> = (typeof SETTINGS)[N] extends {default: string} ? N : never

/** Resolved configuration, keyed by the variable names; settings without a default may be undefined. */
export type Config = {[N in SettingName]: N extends HasDefault<N> ? Parsed<N> : Parsed<N> | undefined}

export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(SETTINGS, name)
}
