// The container smoke test (`npm run test:container`, also run by .ci/run): builds the
// Dockerfile from a clean export of HEAD and runs the image under deploy/deployment.yaml's own
// settings (see lib/deployment.ts), against a host API server and the fake Kubernetes API.
// Exit 0 when every check passed, 1 otherwise. SMOKE_VERBOSE=1 streams podman's output.
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {baseImageOf, ensureBaseImage, type BaseImageResult} from './lib/base-image.js'
import {buildImage, exportContext, npmBuildMount, type Context} from './lib/build.js'
import {checkEmbeddedOnce, checkKube, checkVersion, freePort, CheckFailed} from './lib/checks.js'
import {loadDeployment, planRun, type RunPlan} from './lib/deployment.js'
import {startHostApiServer, startKube} from './lib/fixtures.js'
import {ensurePodman, type Log} from './lib/host.js'
import {checkContent, homeFromPasswd, inspectImage, pathResolver, readPasswd, withImageFiles, type ImageInfo} from './lib/image.js'
import {run} from './lib/proc.js'

export const IMAGE = 'localhost/ambient:smoke'
const KUBECONFIG_IN_CONTAINER = '/var/run/ambient-smoke/kubeconfig'

export const log: Log = (line) => process.stderr.write(`container: ${line}\n`)

export function repoRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json')
    if (fs.existsSync(pj) && (JSON.parse(fs.readFileSync(pj, 'utf8')) as {name?: string}).name === 'ambient') return dir
  }
  throw new Error('cannot find the repository (package.json named ambient) above the smoke test')
}

export interface Prepared {
  root: string
  context: Context
  base: BaseImageResult & {name: string}
  npmVolumes: string[]
  cleanup(): void
}

/** Host tools, a clean export of the commit, the base image, npm's build-time settings. */
export async function prepare(ref = 'HEAD'): Promise<Prepared> {
  const root = repoRoot()
  await ensurePodman(log)
  const dirty = (await run('git', ['status', '--porcelain'], {cwd: root})).stdout.trim()
  if (dirty) log(`uncommitted changes are not in the image (built from ${ref})`)
  const context = await exportContext(root, ref)
  const lock = JSON.parse(fs.readFileSync(path.join(context.dir, 'package-lock.json'), 'utf8')) as {packages: Record<string, {version?: string}>}
  const nodeVersion = lock.packages['node_modules/node']?.version
  if (!nodeVersion) throw new Error('package-lock.json locks no node package: cannot tell which Node a locally made base needs')
  const baseRef = baseImageOf(context.dockerfile)
  const base = await ensureBaseImage({base: baseRef, nodeVersion, log})
  log(`base ${baseRef.name}: ${base.source} (${(base.ms / 1000).toFixed(1)} s)`)
  const npm = await npmBuildMount()
  return {
    root,
    context,
    base: {...base, name: baseRef.name},
    npmVolumes: npm ? [npm.volume] : [],
    cleanup: () => {
      context.remove()
      npm?.remove()
    },
  }
}

export async function build(prepared: Prepared, options: {noCache?: boolean} = {}): Promise<{ms: number}> {
  const {context} = prepared
  return buildImage({
    contextDir: context.dir,
    tag: IMAGE,
    noCache: options.noCache,
    buildArgs: {VERSION: context.version, REVISION: context.revision},
    labels: {'org.opencontainers.image.version': context.version, 'org.opencontainers.image.revision': context.revision},
    volumes: prepared.npmVolumes,
  })
}

export interface CheckReport {
  name: string
  ok: boolean
  detail: string
  ms: number
}

export interface SmokeReport {
  checks: CheckReport[]
  image?: ImageInfo
  appBytes?: number
  nodeModulesBytes?: number
  stopMs?: number
}

/** Everything checked about the built image; never throws for a failed check. */
export async function checkImage(prepared: Prepared): Promise<SmokeReport> {
  const {root, context} = prepared
  const report: SmokeReport = {checks: []}
  const check = async (name: string, fn: () => Promise<string>) => {
    const started = performance.now()
    try {
      const detail = await fn()
      report.checks.push({name, ok: true, detail, ms: performance.now() - started})
    } catch (err) {
      const detail = err instanceof CheckFailed ? err.message : String((err as Error).stack ?? err)
      report.checks.push({name, ok: false, detail, ms: performance.now() - started})
    }
    const last = report.checks.at(-1)!
    log(`${last.ok ? 'ok  ' : 'FAIL'} ${name} (${(last.ms / 1000).toFixed(1)} s): ${last.detail}`)
  }

  const image = await inspectImage(IMAGE)
  report.image = image
  const lock = JSON.parse(fs.readFileSync(path.join(context.dir, 'package-lock.json'), 'utf8')) as {packages: Record<string, {dev?: boolean}>}
  const devOnly = Object.entries(lock.packages)
    .filter(([p, v]) => p && v.dev)
    .map(([p]) => p)
  let passwd = ''
  let resolve = (p: string) => p
  await check('image: config and content', async () => {
    const problems: string[] = []
    const labels = image.labels
    for (const key of ['title', 'description', 'licenses', 'version', 'revision'])
      if (!labels[`org.opencontainers.image.${key}`]) problems.push(`label org.opencontainers.image.${key} missing`)
    if (labels['org.opencontainers.image.version'] !== context.version)
      problems.push(`version label ${labels['org.opencontainers.image.version']}, package.json says ${context.version}`)
    if (labels['org.opencontainers.image.revision'] !== context.revision)
      problems.push(`revision label ${labels['org.opencontainers.image.revision']}, built from ${context.revision}`)
    if (image.healthcheck) problems.push('the image has a HEALTHCHECK (Kubernetes probes are in the Deployment)')
    if (image.entrypoint[0] !== 'node') problems.push(`ENTRYPOINT ${JSON.stringify(image.entrypoint)} does not run node directly (exec form)`)
    if (/^#\s*syntax\s*=/im.test(context.dockerfile)) problems.push('the Dockerfile has a # syntax line (BuildKit would pull a frontend)')
    const content = await withImageFiles(IMAGE, (mount) => {
      passwd = readPasswd(mount)
      resolve = pathResolver(mount)
      return checkContent(mount, {appDir: 'app', devOnly, unshipped: ['deploy', 'proto', 'src', 'test', 'bench', 'docs']})
    })
    report.appBytes = content.appBytes
    report.nodeModulesBytes = content.nodeModulesBytes
    problems.push(...content.problems)
    if (problems.length) throw new CheckFailed(problems.join('; '))
    return `${mb(image.size)} (app ${mb(content.appBytes)}, of which node_modules ${mb(content.nodeModulesBytes)}), user ${image.user}, labels ok, no HEALTHCHECK`
  })
  if (!report.checks.at(-1)?.ok) return report

  // deploy/ of the commit the image was built from, not of the working tree.
  const deployDir = path.join(context.dir, 'deploy')
  const deployment = loadDeployment(path.join(deployDir, 'deployment.yaml'))
  const namespace = deployment.metadata.namespace ?? 'default'
  const podName = `${deployment.metadata.name}-smoke`
  const token = `smoke-${Math.random().toString(36).slice(2)}`
  const api = await startHostApiServer(root, token)
  const kube = await startKube(deployDir, [namespace])
  const ports = new Map<number, number>()
  for (const p of deployment.spec.template.spec.containers[0]?.ports ?? []) ports.set(p.containerPort, await freePort())
  let plan: RunPlan | undefined
  try {
    plan = planRun(deployment, {
      podName,
      // The only Secret the Deployment mounts is the API token.
      secret: () => token,
      imageUser: image.user,
      home: (uid) => homeFromPasswd(passwd, uid),
      resolve,
      hostPort: (p) => ports.get(p) ?? 0,
      // What a cluster provides differently: the API server's Service, in-cluster Kubernetes credentials.
      envOverrides: {AMBIENT_API_SERVER_URL: api.url, AMBIENT_GRPC_SERVER_ADDR: api.grpcAddress, KUBECONFIG: KUBECONFIG_IN_CONTAINER},
      extraMounts: {[kube.kubeconfig]: KUBECONFIG_IN_CONTAINER},
    })
    const p = plan
    log(
      `run as uid ${p.uid}, HOME=${p.env.HOME}, read-only root: ${p.readOnlyRoot}, volumes ${p.volumePaths.join(' ')}; overridden: ${p.overridden.join(', ')}`,
    )
    await check('--version', () => checkVersion(IMAGE, p, context.version))
    await check('run --mode test --embedded --once --json', () => checkEmbeddedOnce(IMAGE, p, 'test'))
    await check('run --mode local --embedded --once --json', () => checkEmbeddedOnce(IMAGE, p, 'local'))
    await check(`${p.args.join(' ')} (the Deployment's args)`, async () => {
      const r = await checkKube({
        image: IMAGE,
        plan: p,
        api,
        kube,
        podName,
        namespace,
        rbacFile: path.join(deployDir, 'rbac.yaml'),
        stopGraceSeconds: 10,
      })
      report.stopMs = r.stopMs
      return r.detail
    })
  } catch (err) {
    report.checks.push({name: 'deployment settings', ok: false, detail: String((err as Error).message), ms: 0})
    log(`FAIL deployment settings: ${(err as Error).message}`)
  } finally {
    plan?.remove()
    await kube.close()
    await api.close()
  }
  return report
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`

async function main(): Promise<void> {
  const started = performance.now()
  const prepared = await prepare(process.env.SMOKE_REF ?? 'HEAD')
  try {
    log(`building ${IMAGE} from ${prepared.context.revision.slice(0, 12)}`)
    const built = await build(prepared)
    log(`built in ${(built.ms / 1000).toFixed(1)} s`)
    const report = await checkImage(prepared)
    const failed = report.checks.filter((c) => !c.ok)
    log(
      `${report.checks.length - failed.length}/${report.checks.length} checks passed in ${((performance.now() - started) / 1000).toFixed(1)} s; image ${report.image ? mb(report.image.size) : '?'}`,
    )
    if (failed.length) process.exitCode = 1
  } finally {
    prepared.cleanup()
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await main().catch((err: unknown) => {
    log(`FAIL: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  })
}
