// What the built image holds and declares, read from podman's storage: its config (user,
// labels, entrypoint, no HEALTHCHECK), its size, and its files (production dependencies only,
// no source maps, caches or unused folders).
import fs from 'node:fs'
import path from 'node:path'
import {run} from './proc.js'

export interface ImageInfo {
  size: number
  user: string
  labels: Record<string, string>
  entrypoint: string[]
  healthcheck: boolean
  env: string[]
}

interface InspectJson {
  Size: number
  Config?: {User?: string; Labels?: Record<string, string> | null; Entrypoint?: string[] | null; Healthcheck?: unknown; Env?: string[] | null}
  HealthCheck?: unknown
}

export async function inspectImage(image: string): Promise<ImageInfo> {
  const r = await run('podman', ['image', 'inspect', image], {timeoutMs: 30_000})
  const [json] = JSON.parse(r.stdout) as InspectJson[]
  return {
    size: json.Size,
    user: json.Config?.User ?? '',
    labels: json.Config?.Labels ?? {},
    entrypoint: json.Config?.Entrypoint ?? [],
    healthcheck: Boolean(json.Config?.Healthcheck ?? json.HealthCheck),
    env: json.Config?.Env ?? [],
  }
}

/** Mounts the image's filesystem read-only on the host for `fn` (rootful podman). */
export async function withImageFiles<T>(image: string, fn: (root: string) => T | Promise<T>): Promise<T> {
  const root = (await run('podman', ['image', 'mount', image], {timeoutMs: 60_000})).stdout.trim()
  try {
    return await fn(root)
  } finally {
    await run('podman', ['image', 'unmount', image], {allowFailure: true, timeoutMs: 60_000})
  }
}

/** HOME as the runtime sets it: the uid's entry in the image's /etc/passwd, else `/`. */
export function homeFromPasswd(passwd: string, uid: number): string {
  for (const line of passwd.split('\n')) {
    const f = line.split(':')
    if (f.length >= 6 && f[2] !== '' && Number(f[2]) === uid) return f[5] || '/'
  }
  return '/'
}

export function readPasswd(root: string): string {
  const file = path.join(root, 'etc/passwd')
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
}

/**
 * The image's symlinks in its first two levels (/var/run -> /run, /lib -> usr/lib), as a
 * function that resolves a container path through them: podman reports changes at the
 * resolved path.
 */
export function pathResolver(root: string): (p: string) => string {
  const links = new Map<string, string>()
  const scan = (dir: string, depth: number) => {
    for (const e of fs.readdirSync(path.join(root, dir), {withFileTypes: true})) {
      const p = path.posix.join(dir, e.name)
      if (e.isSymbolicLink()) links.set(p, path.posix.resolve(dir, fs.readlinkSync(path.join(root, p))))
      else if (e.isDirectory() && depth < 2) scan(p, depth + 1)
    }
  }
  scan('/', 1)
  return (p) => {
    let current = path.posix.resolve(p)
    for (let hops = 0; hops < 40; hops++) {
      const prefix = [...links.keys()].find((l) => current === l || current.startsWith(`${l}/`))
      if (!prefix) return current
      current = `${links.get(prefix)}${current.slice(prefix.length)}`
    }
    return current
  }
}

export interface ContentProblems {
  problems: string[]
  appBytes: number
  nodeModulesBytes: number
}

/** Files under `dir` whose name matches, found without following symlinks. */
function findFiles(dir: string, match: (name: string) => boolean, limit = 20): string[] {
  const out: string[] = []
  const walk = (d: string, depth: number) => {
    if (out.length >= limit || depth > 40) return
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p, depth + 1)
      else if (match(e.name)) out.push(p)
      if (out.length >= limit) return
    }
  }
  if (fs.existsSync(dir)) walk(dir, 0)
  return out
}

function bytesUnder(dir: string): number {
  let total = 0
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) total += fs.lstatSync(p).size
    }
  }
  if (fs.existsSync(dir)) walk(dir)
  return total
}

export interface ContentExpectations {
  /** The image's application folder (WORKDIR). */
  appDir: string
  /** Lockfile paths of packages only devDependencies need (`"dev": true`): none may be installed. */
  devOnly: string[]
  /** Folders of the repository that the image must not ship. */
  unshipped: string[]
}

export function checkContent(root: string, expected: ContentExpectations): ContentProblems {
  const problems: string[] = []
  const app = path.join(root, expected.appDir)
  const rel = (p: string) => `/${path.relative(root, p)}`
  const maps = findFiles(app, (n) => n.endsWith('.map'))
  if (maps.length) problems.push(`source maps shipped: ${maps.map(rel).join(', ')}`)
  for (const dir of expected.unshipped) if (fs.existsSync(path.join(app, dir))) problems.push(`${expected.appDir}/${dir} is shipped`)
  const dev = expected.devOnly.filter((p) => fs.existsSync(path.join(app, p)))
  if (dev.length) problems.push(`${dev.length} packages only devDependencies need are installed: ${dev.slice(0, 5).join(', ')}`)
  for (const cache of ['tmp/node-compile-cache', 'root/.npm', 'root/.cache'])
    if (fs.existsSync(path.join(root, cache))) problems.push(`/${cache} is in the image`)
  const tmp = fs.existsSync(path.join(root, 'tmp')) ? fs.readdirSync(path.join(root, 'tmp')) : []
  if (tmp.length) problems.push(`/tmp is not empty: ${tmp.slice(0, 5).join(', ')}`)
  return {problems, appBytes: bytesUnder(app), nodeModulesBytes: bytesUnder(path.join(app, 'node_modules'))}
}
