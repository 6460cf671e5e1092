// Building the Dockerfile as a release would: from a clean export of a commit (`git archive`),
// so uncommitted files never reach the image, with podman on the host network (no bridge
// here) and never asking a registry. npm inside the build gets this machine's CA bundle and
// registry through a folder mounted for the build only; nothing of it stays in the image.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {run} from './proc.js'

export interface Context {
  dir: string
  revision: string
  version: string
  dockerfile: string
  remove(): void
}

export async function exportContext(repoRoot: string, ref = 'HEAD'): Promise<Context> {
  const revision = (await run('git', ['rev-parse', '--verify', `${ref}^{commit}`], {cwd: repoRoot})).stdout.trim()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-context-'))
  await run('sh', ['-c', 'git archive --format=tar "$1" | tar -x -C "$2"', 'sh', revision, dir], {cwd: repoRoot})
  const version = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {version: string}).version
  const dockerfile = fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8')
  return {dir, revision, version, dockerfile, remove: () => fs.rmSync(dir, {recursive: true, force: true})}
}

export interface NpmMount {
  /** `-v` argument for podman build. */
  volume: string
  remove(): void
}

const unset = (v: string) => v === '' || v === 'null' || v === 'undefined'

/**
 * npm's global config inside the base image is $PREFIX/etc/npmrc = /usr/local/etc/npmrc:
 * a folder mounted there holds an npmrc naming a copy of the host's CA bundle (npm's own
 * `cafile`, else NODE_EXTRA_CA_CERTS) and the host's registry. No credentials: only those
 * two settings are copied. Undefined when the host uses neither.
 */
export async function npmBuildMount(): Promise<NpmMount | undefined> {
  const get = async (key: string) => (await run('npm', ['config', 'get', key], {timeoutMs: 30_000})).stdout.trim()
  let cafile = await get('cafile')
  if (unset(cafile)) cafile = process.env.NODE_EXTRA_CA_CERTS ?? ''
  const registry = await get('registry')
  const defaultRegistry = unset(registry) || registry.replace(/\/+$/, '') === 'https://registry.npmjs.org'
  if (unset(cafile) && defaultRegistry) return undefined
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-npm-build-'))
  fs.chmodSync(dir, 0o755)
  const lines: string[] = []
  if (!unset(cafile)) {
    fs.copyFileSync(cafile, path.join(dir, 'ca.pem'))
    fs.chmodSync(path.join(dir, 'ca.pem'), 0o644)
    lines.push('cafile=/usr/local/etc/ca.pem')
  }
  if (!defaultRegistry) lines.push(`registry=${registry}`)
  fs.writeFileSync(path.join(dir, 'npmrc'), `${lines.join('\n')}\n`, {mode: 0o644})
  return {volume: `${dir}:/usr/local/etc:ro`, remove: () => fs.rmSync(dir, {recursive: true, force: true})}
}

export interface BuildOptions {
  contextDir: string
  tag: string
  buildArgs?: Record<string, string>
  volumes?: string[]
  /** Rebuild every layer (the base image is still used as it is). */
  noCache?: boolean
  /**
   * Also set as labels on the command line. podman 4.3 (buildah 1.28) reuses a cached LABEL
   * step when only the build args it expands changed, so a rebuild at a new commit kept the
   * old revision label; command-line labels are applied when the image is committed.
   */
  labels?: Record<string, string>
}

export async function buildImage(options: BuildOptions): Promise<{ms: number}> {
  const args = ['build', '--network=host', '--pull=never', '--layers', '--tag', options.tag]
  if (options.noCache) args.push('--no-cache')
  for (const [k, v] of Object.entries(options.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`)
  for (const [k, v] of Object.entries(options.labels ?? {})) args.push('--label', `${k}=${v}`)
  for (const v of options.volumes ?? []) args.push('--volume', v)
  args.push('--file', path.join(options.contextDir, 'Dockerfile'), options.contextDir)
  const result = await run('podman', args, {timeoutMs: 15 * 60_000})
  return {ms: result.ms}
}
