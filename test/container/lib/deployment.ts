// deploy/deployment.yaml as Kubernetes would run its container, turned into `podman run`
// options. The smoke test proves the image under the Deployment's own settings, so they are
// read from the file, never restated here: securityContext (pod and container), env, args,
// volumes, ports and probes. What a cluster provides and this machine does not (the API
// server's Service address, in-cluster Kubernetes credentials, a network namespace per pod)
// comes in as explicit overrides from the caller, and the plan lists them.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as yaml from 'js-yaml'

interface SecurityContext {
  runAsUser?: number
  runAsGroup?: number
  runAsNonRoot?: boolean
  fsGroup?: number
  supplementalGroups?: number[]
  seccompProfile?: {type?: string}
  allowPrivilegeEscalation?: boolean
  readOnlyRootFilesystem?: boolean
  privileged?: boolean
  capabilities?: {add?: string[]; drop?: string[]}
}

interface EnvVar {
  name: string
  value?: string
  valueFrom?: {fieldRef?: {fieldPath?: string}; [other: string]: unknown}
}

export interface Probe {
  httpGet?: {path?: string; port?: number | string}
  [other: string]: unknown
}

interface Container {
  name: string
  image?: string
  command?: string[]
  args?: string[]
  env?: EnvVar[]
  ports?: {name?: string; containerPort: number}[]
  volumeMounts?: {name: string; mountPath: string; readOnly?: boolean}[]
  securityContext?: SecurityContext
  livenessProbe?: Probe
  readinessProbe?: Probe
}

interface Volume {
  name: string
  emptyDir?: object
  secret?: {secretName: string; items?: {key: string; path: string}[]}
  [other: string]: unknown
}

export interface DeploymentDoc {
  kind: 'Deployment'
  metadata: {name: string; namespace?: string}
  spec: {template: {spec: {terminationGracePeriodSeconds?: number; securityContext?: SecurityContext; containers: Container[]; volumes?: Volume[]}}}
}

export class DeploymentError extends Error {
  readonly code = 'ERR_DEPLOYMENT'
}

export function loadDeployment(file: string): DeploymentDoc {
  const docs = yaml.loadAll(fs.readFileSync(file, 'utf8')) as {kind?: string}[]
  const found = docs.filter((d) => d?.kind === 'Deployment')
  if (found.length !== 1) throw new DeploymentError(`${file}: expected one Deployment, found ${found.length}`)
  return found[0] as DeploymentDoc
}

export interface PlanOptions {
  /** The pod's name (metadata.name of the pod: fieldRef metadata.name). */
  podName: string
  /** The content of a Secret's key, as the cluster would hold it. */
  secret: (secretName: string, key: string) => string
  /** The user the image declares (`USER`), for runAsNonRoot when the pod sets no runAsUser. */
  imageUser: string
  /** HOME as the runtime sets it: the user's passwd entry in the image, else `/`. */
  home: (uid: number) => string
  /** A free host port for each containerPort: with the host network, listeners must not collide. */
  hostPort: (containerPort: number) => number
  /** Environment a cluster would provide differently (the API server's address, KUBECONFIG). */
  envOverrides?: Record<string, string>
  /** Read-only bind mounts a cluster would not need (e.g. a kubeconfig): host path → container path. */
  extraMounts?: Record<string, string>
  /** A container path through the image's symlinks (/var/run/x -> /run/x). */
  resolve?: (containerPath: string) => string
}

export interface RunPlan {
  /** `podman run` options (image and args not included). */
  options: string[]
  /** The container's args (replacing the image's CMD). */
  args: string[]
  env: Record<string, string>
  overridden: string[]
  uid: number
  readOnlyRoot: boolean
  /** Container paths that are volumes (writes there are allowed). */
  volumePaths: string[]
  resolve: (containerPath: string) => string
  probes: {liveness?: {url: string}; readiness?: {url: string}}
  /** Seconds Kubernetes waits after SIGTERM. */
  gracePeriodSeconds: number
  remove(): void
}

export function planRun(doc: DeploymentDoc, options: PlanOptions): RunPlan {
  const pod = doc.spec.template.spec
  if (pod.containers.length !== 1) throw new DeploymentError(`expected one container, found ${pod.containers.length}`)
  const container = pod.containers[0]
  const namespace = doc.metadata.namespace ?? 'default'
  const sc: SecurityContext = {...pod.securityContext, ...container.securityContext}
  const out: string[] = []
  const cleanups: (() => void)[] = []

  // User: runAsUser/runAsGroup, else the image's USER; runAsNonRoot refuses uid 0 as kubelet does.
  const [imageUid, imageGid] = options.imageUser.split(':')
  const uid = sc.runAsUser ?? (/^\d+$/.test(imageUid ?? '') ? Number(imageUid) : Number.NaN)
  if (sc.runAsNonRoot && !(uid > 0))
    throw new DeploymentError(
      `runAsNonRoot: the container would run as ${Number.isNaN(uid) ? `non-numeric user ${JSON.stringify(options.imageUser)}` : 'root'}`,
    )
  const gid = sc.runAsGroup ?? (imageGid !== undefined && /^\d+$/.test(imageGid) ? Number(imageGid) : undefined)
  if (!Number.isNaN(uid)) out.push('--user', gid === undefined ? String(uid) : `${uid}:${gid}`)
  for (const g of [...(sc.supplementalGroups ?? []), ...(sc.fsGroup === undefined ? [] : [sc.fsGroup])]) out.push('--group-add', String(g))

  const seccomp = sc.seccompProfile?.type ?? 'RuntimeDefault'
  if (seccomp === 'Unconfined') out.push('--security-opt', 'seccomp=unconfined')
  else if (seccomp !== 'RuntimeDefault') throw new DeploymentError(`seccompProfile ${seccomp} is not supported by the smoke test`)
  if (sc.allowPrivilegeEscalation === false) out.push('--security-opt', 'no-new-privileges')
  if (sc.privileged) out.push('--privileged')
  // podman adds tmpfs at /run, /tmp and /var/tmp to a read-only container unless told not to; Kubernetes adds none.
  if (sc.readOnlyRootFilesystem) out.push('--read-only', '--read-only-tmpfs=false')
  for (const cap of sc.capabilities?.drop ?? []) out.push('--cap-drop', cap)
  for (const cap of sc.capabilities?.add ?? []) out.push('--cap-add', cap)

  // Ports: every listener on a containerPort moves to a free host port (no pod network here).
  const portMap = new Map<number, number>()
  const portNames = new Map<string, number>()
  for (const p of container.ports ?? []) {
    portMap.set(p.containerPort, options.hostPort(p.containerPort))
    if (p.name) portNames.set(p.name, p.containerPort)
  }
  const movePort = (value: string): string => {
    const m = /^(?:0\.0\.0\.0)?:(\d+)$/.exec(value)
    const moved = m ? portMap.get(Number(m[1])) : undefined
    return moved === undefined ? value : `127.0.0.1:${moved}`
  }

  // Environment, in the order Kubernetes applies it; HOME as the runtime sets it.
  const env: Record<string, string> = {HOME: options.home(uid)}
  const overridden: string[] = []
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = movePort(e.value)
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = namespace
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = options.podName
    else throw new DeploymentError(`env ${e.name}: only value and the fieldRefs metadata.name/metadata.namespace are supported by the smoke test`)
    if (env[e.name] !== e.value && e.value !== undefined) overridden.push(`${e.name} (port moved)`)
  }
  for (const [name, value] of Object.entries(options.envOverrides ?? {})) {
    env[name] = value
    overridden.push(name)
  }
  for (const [name, value] of Object.entries(env)) out.push('--env', `${name}=${value}`)

  // Volumes: emptyDir is a fresh world-writable folder (tmpfs here); secrets are files, read-only.
  const volumePaths: string[] = []
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name)
    if (!volume) throw new DeploymentError(`volumeMount ${mount.name}: no such volume`)
    volumePaths.push(mount.mountPath)
    if (volume.emptyDir) {
      out.push('--mount', `type=tmpfs,destination=${mount.mountPath},tmpfs-mode=1777`)
    } else if (volume.secret) {
      const {secretName, items} = volume.secret
      if (!items?.length) throw new DeploymentError(`volume ${volume.name}: a secret volume without items is not supported by the smoke test`)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ambient-secret-${volume.name}-`))
      cleanups.push(() => fs.rmSync(dir, {recursive: true, force: true}))
      fs.chmodSync(dir, 0o755)
      for (const item of items) {
        fs.mkdirSync(path.dirname(path.join(dir, item.path)), {recursive: true})
        // Secret files are 0644 (defaultMode) and read-only, whatever the mount says.
        fs.writeFileSync(path.join(dir, item.path), options.secret(secretName, item.key), {mode: 0o644})
      }
      out.push('--volume', `${dir}:${mount.mountPath}:ro`)
    } else {
      throw new DeploymentError(`volume ${volume.name}: only emptyDir and secret volumes are supported by the smoke test`)
    }
  }
  for (const [hostPath, containerPath] of Object.entries(options.extraMounts ?? {})) {
    out.push('--volume', `${hostPath}:${containerPath}:ro`)
    volumePaths.push(containerPath)
  }
  if (container.command) out.push('--entrypoint', JSON.stringify(container.command))

  const probeUrl = (probe: Probe | undefined): {url: string} | undefined => {
    const get = probe?.httpGet
    if (!get?.port) return undefined
    const containerPort = typeof get.port === 'number' ? get.port : portNames.get(get.port)
    const hostPort = containerPort === undefined ? undefined : portMap.get(containerPort)
    if (hostPort === undefined) throw new DeploymentError(`probe port ${get.port}: not a containerPort`)
    return {url: `http://127.0.0.1:${hostPort}${get.path ?? '/'}`}
  }

  return {
    options: out,
    args: container.args ?? [],
    env,
    overridden,
    uid,
    readOnlyRoot: Boolean(sc.readOnlyRootFilesystem),
    volumePaths,
    resolve: options.resolve ?? ((p) => p),
    probes: {liveness: probeUrl(container.livenessProbe), readiness: probeUrl(container.readinessProbe)},
    gracePeriodSeconds: pod.terminationGracePeriodSeconds ?? 30,
    remove: () => {
      for (const c of cleanups) c()
    },
  }
}
