// The checks of the running image, each under the Deployment's settings (a RunPlan): one-shot
// commands, and the control plane in kube mode against the host's API server and fake
// Kubernetes until it is stopped. Every container ends with `podman diff`: it may write
// into its volumes only.
import net from 'node:net'
import fs from 'node:fs'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import * as yaml from 'js-yaml'
import {permissionKey} from '../../../src/lib/kube/requests.js'
import {grantedBy, type K8sDoc} from '../../kube/rbac.js'
import * as containers from './containers.js'
import type {RunPlan} from './deployment.js'
import {apiClient, type ApiServerProcess, type KubeFixture} from './fixtures.js'

export class CheckFailed extends Error {
  readonly code = 'ERR_CHECK'
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message)
}

export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline)
      throw new CheckFailed(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
    await sleep(250)
  }
}

/** Lines that are not JSON objects (stderr must hold log lines only, stdout NDJSON only). */
export function nonJsonLines(text: string): string[] {
  return text.split('\n').filter((line) => {
    if (!line.trim()) return false
    try {
      const v: unknown = JSON.parse(line)
      return typeof v !== 'object' || v === null || Array.isArray(v)
    } catch {
      return true
    }
  })
}

/** The `msg` of the fatal log line a failed command ends with, if there is one. */
export function fatalMessage(stderr: string): string | undefined {
  for (const line of stderr.trim().split('\n').reverse()) {
    try {
      const entry = JSON.parse(line) as {level?: unknown; msg?: unknown}
      if (entry.level === 60 && typeof entry.msg === 'string') return entry.msg
    } catch {
      // not a log line
    }
  }
  return undefined
}

const excerpt = (lines: string[]) =>
  lines
    .slice(0, 3)
    .map((l) => l.slice(0, 200))
    .join(' | ')

/** Files the runtime itself mounts into every container (a cluster's runtime mounts the same). */
const RUNTIME_FILES = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/run/.containerenv']

/**
 * `podman diff` minus what the runtime does before the command starts: the mount points of
 * the volumes and of its own files, created in the container's root when the image lacks
 * them, and so their parent folders changed. Anything else is a write outside the volumes.
 */
export function writesOutsideVolumes(changes: readonly containers.Change[], plan: Pick<RunPlan, 'volumePaths' | 'resolve'>): containers.Change[] {
  const mountPoints = new Set<string>()
  const parents = new Set<string>()
  for (const p of [...plan.volumePaths, ...RUNTIME_FILES]) {
    mountPoints.add(plan.resolve(p))
    for (let d = path.posix.dirname(plan.resolve(p)); d !== '/'; d = path.posix.dirname(d)) parents.add(d)
  }
  const allowed = (c: containers.Change) =>
    (c.kind === 'added' && (mountPoints.has(c.path) || parents.has(c.path))) || (c.kind === 'changed' && parents.has(c.path))
  return changes.filter((c) => !allowed(c))
}

export async function assertNoWrites(name: string, plan: RunPlan): Promise<void> {
  const writes = writesOutsideVolumes(await containers.diff(name), plan)
  assert(writes.length === 0, `wrote outside its volumes: ${writes.map((c) => `${c.kind} ${c.path}`).join(', ')}`)
}

export interface OneShotOptions {
  image: string
  plan: RunPlan
  name: string
  args: string[]
  env?: Record<string, string>
}

/** Runs a command to exit 0; returns its stdout. */
async function oneShot(options: OneShotOptions): Promise<{stdout: string; stderr: string}> {
  try {
    const r = await containers.runToExit({name: options.name, image: options.image, plan: options.plan, args: options.args, env: options.env}, 90_000)
    assert(r.exitCode === 0, `exit ${r.exitCode}: ${fatalMessage(r.stderr) ?? r.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 600)}`)
    await assertNoWrites(options.name, options.plan)
    return {stdout: r.stdout, stderr: r.stderr}
  } finally {
    await containers.remove(options.name)
  }
}

export async function checkVersion(image: string, plan: RunPlan, version: string): Promise<string> {
  const {stdout, stderr} = await oneShot({image, plan, name: 'ambient-smoke-version', args: ['--version']})
  assert(stdout.startsWith(`ambient/${version} linux-`), `--version printed ${JSON.stringify(stdout.trim())}`)
  assert(stderr.trim() === '', `--version wrote to stderr: ${excerpt(stderr.split('\n'))}`)
  return stdout.trim()
}

/** `run --mode <mode> --embedded --once --json`: NDJSON with a TALLY per resource, logs only on stderr. */
export async function checkEmbeddedOnce(image: string, plan: RunPlan, mode: 'test' | 'local'): Promise<string> {
  // Host network: the embedded server and local mode's proxy take free ports.
  const env = mode === 'local' ? {LOCAL_PROXY_ADDR: `127.0.0.1:${await freePort()}`} : undefined
  const args = ['run', '--mode', mode, '--embedded', '--once', '--json', '--api-port', '0', '--grpc-port', '0']
  const {stdout, stderr} = await oneShot({image, plan, name: `ambient-smoke-${mode}`, args, env})
  const badOut = nonJsonLines(stdout)
  assert(badOut.length === 0, `stdout is not NDJSON: ${excerpt(badOut)}`)
  const tallies = stdout
    .split('\n')
    .filter((l) => l.includes('"TALLY"'))
    .map((l) => (JSON.parse(l) as {resource: string}).resource)
  assert(tallies.length === 3, `expected a TALLY line per resource, got ${JSON.stringify(tallies)}`)
  const badErr = nonJsonLines(stderr)
  assert(badErr.length === 0, `stderr has lines that are not JSON: ${excerpt(badErr)}`)
  return `exit 0, ${stdout.trim().split('\n').length} NDJSON lines (TALLY ${tallies.join(', ')}), ${stderr.trim().split('\n').filter(Boolean).length} JSON log lines`
}

export interface KubeCheckOptions {
  image: string
  plan: RunPlan
  api: ApiServerProcess
  kube: KubeFixture
  /** The Lease holder to expect (the pod's name). */
  podName: string
  namespace: string
  rbacFile: string
  /** `podman stop -t`: SIGTERM, then SIGKILL after this many seconds. */
  stopGraceSeconds: number
}

export interface KubeCheckResult {
  detail: string
  stopMs: number
  readyMs: number
  reconcileMs: number
}

/** The Deployment's own args (`run --mode kube --leader-elect`): probes, a session into a CR and back, a clean stop. */
export async function checkKube(options: KubeCheckOptions): Promise<KubeCheckResult> {
  const {plan, kube} = options
  const name = 'ambient-smoke-kube'
  const started = performance.now()
  await containers.start({name, image: options.image, plan})
  try {
    const failFast = async () => {
      const s = await containers.state(name)
      if (!s.running)
        throw new CheckFailed(`exited ${s.exitCode} while starting: ${(await containers.logs(name)).stderr.trim().split('\n').slice(-3).join(' | ')}`)
    }
    const httpOk = async (url: string) => {
      await failFast()
      const res = await fetch(url).catch(() => undefined)
      return res?.status === 200 ? true : undefined
    }
    assert(plan.probes.readiness && plan.probes.liveness, 'the Deployment declares no HTTP probes')
    await until(`readiness ${plan.probes.readiness.url}`, 60_000, () => httpOk(plan.probes.readiness!.url))
    await until(`liveness ${plan.probes.liveness.url}`, 10_000, () => httpOk(plan.probes.liveness!.url))
    const readyMs = performance.now() - started
    const holders = () => kube.kube.list('leases', options.namespace).map((l) => (l as {spec?: {holderIdentity?: string}}).spec?.holderIdentity)
    const holder = await until(`a Lease in ${options.namespace} held by ${options.podName}`, 30_000, async () =>
      holders().find((h) => h === options.podName),
    )

    const rest = apiClient(options.api)
    const t0 = performance.now()
    const project = await rest.create<{id: string; name: string}>('projects', {name: 'smoke'})
    const session = await rest.create<{id: string}>('sessions', {name: 'smoke session', project_id: project.id, prompt: 'say hi'})
    const cr = await until('the AgenticSession', 60_000, async () => {
      await failFast()
      return kube.kube.list('agenticsessions').find((o) => o.metadata.labels?.['ambient-code.io/session-id'] === session.id)
    })
    const uid = await until(
      'kube_cr_uid copied back to the session',
      60_000,
      async () => (await rest.get<{kube_cr_uid?: string}>(`sessions/${session.id}`)).kube_cr_uid || undefined,
    )
    assert(uid === cr.metadata.uid, `kube_cr_uid ${uid} is not the CR's uid ${cr.metadata.uid}`)
    const reconcileMs = performance.now() - t0
    const denied = deniedRequests(kube, options.rbacFile)
    assert(denied.length === 0, `sent requests deploy/rbac.yaml does not grant: ${denied.join(', ')}`)

    const {ms: stopMs} = await containers.stop(name, options.stopGraceSeconds)
    const after = await containers.state(name)
    assert(after.exitCode === 0, `podman stop: exit ${after.exitCode} (137 = killed after the grace period)`)
    assert(stopMs < options.stopGraceSeconds * 1000, `podman stop took ${Math.round(stopMs)} ms, the grace period is ${options.stopGraceSeconds} s`)
    const out = await containers.logs(name)
    const badErr = nonJsonLines(out.stderr)
    assert(badErr.length === 0, `stderr has lines that are not JSON: ${excerpt(badErr)}`)
    const badOut = nonJsonLines(out.stdout)
    assert(badOut.length === 0, `stdout is not NDJSON: ${excerpt(badOut)}`)
    await assertNoWrites(name, plan)
    const detail = `ready in ${(readyMs / 1000).toFixed(1)} s, Lease held by ${holder}, session -> ${cr.metadata.namespace}/${cr.metadata.name} -> kube_cr_uid in ${(reconcileMs / 1000).toFixed(1)} s, stop -t ${options.stopGraceSeconds}: exit 0 in ${(stopMs / 1000).toFixed(1)} s`
    return {detail, stopMs, readyMs, reconcileMs}
  } catch (err) {
    const out = await containers.logs(name).catch(() => ({stdout: '', stderr: ''}))
    if (err instanceof Error) err.message += `\n--- container stderr (tail) ---\n${out.stderr.trim().split('\n').slice(-15).join('\n')}`
    throw err
  } finally {
    await containers.remove(name)
  }
}

/** Requests the fake received that no rule of deploy/rbac.yaml grants (discovery excluded). */
function deniedRequests(kube: KubeFixture, rbacFile: string): string[] {
  const granted = new Set<string>()
  for (const doc of yaml.loadAll(fs.readFileSync(rbacFile, 'utf8')) as K8sDoc[]) {
    if (doc?.kind === 'ClusterRole' || doc?.kind === 'Role') for (const p of grantedBy(doc)) granted.add(p)
  }
  const denied = new Set<string>()
  for (const r of kube.kube.requests) {
    if (r.verb === 'nonresource') continue
    const key = permissionKey({verb: r.verb, group: r.group, resource: r.resource, subresource: r.subresource})
    if (!granted.has(key)) denied.add(key)
  }
  return [...denied]
}
