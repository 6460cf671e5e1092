// The container smoke test's own logic, without podman: how a Deployment becomes `podman run`
// options, which base image the Dockerfile names, and what counts as a write outside the
// volumes. (The smoke test itself is `npm run test:container`.)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {baseImageOf, qualify} from './lib/base-image.js'
import {fatalMessage, nonJsonLines, writesOutsideVolumes} from './lib/checks.js'
import {loadDeployment, planRun, type DeploymentDoc, type PlanOptions, type RunPlan} from './lib/deployment.js'
import {homeFromPasswd, pathResolver} from './lib/image.js'

const root = path.resolve(import.meta.dirname, '../..')
const plans: RunPlan[] = []

afterEach(() => {
  for (const p of plans.splice(0)) p.remove()
})

function deployment(
  pod: Partial<DeploymentDoc['spec']['template']['spec']>,
  container: Partial<DeploymentDoc['spec']['template']['spec']['containers'][number]> = {},
): DeploymentDoc {
  return {
    kind: 'Deployment',
    metadata: {name: 'cp', namespace: 'ns'},
    spec: {template: {spec: {containers: [{name: 'c', ...container}], ...pod}}},
  }
}

const options: PlanOptions = {
  podName: 'cp-pod',
  secret: (name, key) => `${name}/${key}`,
  imageUser: '10001:10001',
  home: () => '/',
  hostPort: (p) => p + 30_000,
}

function plan(doc: DeploymentDoc, extra: Partial<PlanOptions> = {}): RunPlan {
  const p = planRun(doc, {...options, ...extra})
  plans.push(p)
  return p
}

/** The value following `flag` each time it appears. */
const values = (opts: string[], flag: string) => opts.flatMap((o, i) => (o === flag ? [opts[i + 1]] : []))

describe('planRun', () => {
  it('translates the pod and container securityContext', () => {
    const p = plan(
      deployment(
        {securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: {type: 'RuntimeDefault'}}},
        {securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ['ALL'], add: ['NET_BIND_SERVICE']}}},
      ),
    )
    expect(values(p.options, '--user')).toEqual(['10001:10001'])
    expect(values(p.options, '--security-opt')).toEqual(['no-new-privileges'])
    expect(p.options).toEqual(expect.arrayContaining(['--read-only', '--read-only-tmpfs=false']))
    expect(values(p.options, '--cap-drop')).toEqual(['ALL'])
    expect(values(p.options, '--cap-add')).toEqual(['NET_BIND_SERVICE'])
    expect(p.uid).toBe(10001)
  })

  it('refuses what kubelet refuses: runAsNonRoot with root or a named user', () => {
    expect(() => plan(deployment({securityContext: {runAsNonRoot: true, runAsUser: 0}}))).toThrow(/runAsNonRoot.*root/)
    expect(() => plan(deployment({securityContext: {runAsNonRoot: true}}), {imageUser: 'node'})).toThrow(/non-numeric user "node"/)
    expect(plan(deployment({securityContext: {runAsNonRoot: true}}), {imageUser: '10001'}).uid).toBe(10001)
  })

  it('sets env as Kubernetes does: values, fieldRefs, HOME, listeners moved to free ports, overrides last', () => {
    const doc = deployment(
      {},
      {
        ports: [{name: 'metrics', containerPort: 8080}],
        env: [
          {name: 'A', value: 'a'},
          {name: 'NS', valueFrom: {fieldRef: {fieldPath: 'metadata.namespace'}}},
          {name: 'POD', valueFrom: {fieldRef: {fieldPath: 'metadata.name'}}},
          {name: 'METRICS_ADDR', value: ':8080'},
          {name: 'URL', value: 'http://svc:8000'},
        ],
      },
    )
    const p = plan(doc, {envOverrides: {URL: 'http://127.0.0.1:1'}, home: (uid) => `/home/${uid}`, imageUser: '7'})
    expect(p.env).toEqual({HOME: '/home/7', A: 'a', NS: 'ns', POD: 'cp-pod', METRICS_ADDR: '127.0.0.1:38080', URL: 'http://127.0.0.1:1'})
    expect(p.overridden).toEqual(['METRICS_ADDR (port moved)', 'URL'])
    expect(() => plan(deployment({}, {env: [{name: 'S', valueFrom: {secretKeyRef: {name: 's', key: 'k'}}}]}))).toThrow(/env S/)
  })

  it('mounts emptyDir as a world-writable tmpfs and secret items as read-only 0644 files', () => {
    const doc = deployment(
      {
        volumes: [
          {name: 'tmp', emptyDir: {}},
          {name: 'tok', secret: {secretName: 'api', items: [{key: 'token', path: 'token'}]}},
        ],
      },
      {
        volumeMounts: [
          {name: 'tmp', mountPath: '/tmp'},
          {name: 'tok', mountPath: '/var/run/secrets/x', readOnly: true},
        ],
      },
    )
    const p = plan(doc)
    expect(values(p.options, '--mount')).toEqual(['type=tmpfs,destination=/tmp,tmpfs-mode=1777'])
    const [secret] = values(p.options, '--volume')
    const [hostDir, target, mode] = secret.split(':')
    expect([target, mode]).toEqual(['/var/run/secrets/x', 'ro'])
    expect(fs.readFileSync(path.join(hostDir, 'token'), 'utf8')).toBe('api/token')
    expect(fs.statSync(path.join(hostDir, 'token')).mode & 0o777).toBe(0o644)
    expect(p.volumePaths).toEqual(['/tmp', '/var/run/secrets/x'])
    p.remove()
    expect(fs.existsSync(hostDir)).toBe(false)
    expect(() => plan(deployment({volumes: [{name: 'cm', configMap: {name: 'x'}}]}, {volumeMounts: [{name: 'cm', mountPath: '/cm'}]}))).toThrow(
      /only emptyDir and secret/,
    )
  })

  it('finds the probes on their named ports', () => {
    const doc = deployment(
      {},
      {
        ports: [{name: 'probes', containerPort: 8081}],
        readinessProbe: {httpGet: {path: '/readyz', port: 'probes'}},
        livenessProbe: {httpGet: {path: '/healthz', port: 8081}},
      },
    )
    expect(plan(doc).probes).toEqual({readiness: {url: 'http://127.0.0.1:38081/readyz'}, liveness: {url: 'http://127.0.0.1:38081/healthz'}})
  })

  it('reads deploy/deployment.yaml: non-root, read-only, every capability dropped, /tmp the only writable volume', () => {
    const p = plan(loadDeployment(path.join(root, 'deploy/deployment.yaml')))
    expect(p.uid).toBeGreaterThan(0)
    expect(p.readOnlyRoot).toBe(true)
    expect(values(p.options, '--cap-drop')).toEqual(['ALL'])
    expect(values(p.options, '--mount')).toEqual(['type=tmpfs,destination=/tmp,tmpfs-mode=1777'])
    expect(p.env.HOME).toBe('/')
  })
})

describe('the base image', () => {
  it('is the one image the stages start from, fully qualified', () => {
    expect(baseImageOf('FROM node:24-bookworm-slim AS deps\nFROM node:24-bookworm-slim AS build\nFROM deps AS x\n')).toEqual({
      name: 'docker.io/library/node:24-bookworm-slim',
      nodeMajor: 24,
      debianSuite: 'bookworm',
    })
    expect(() => baseImageOf('FROM node:24-slim AS a\nFROM node:22-slim\n')).toThrow(/one base image/)
    expect(() => baseImageOf('FROM alpine:3\n')).toThrow(/node:<major>-<debian>-slim/)
    expect(baseImageOf(fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8')).name).toBe('docker.io/library/node:24-bookworm-slim')
    expect(qualify('ghcr.io/a/b:1')).toBe('ghcr.io/a/b:1')
    expect(qualify('a/b:1')).toBe('docker.io/a/b:1')
    expect(qualify('localhost/x')).toBe('localhost/x')
  })
})

describe('writes outside the volumes', () => {
  const p = {volumePaths: ['/tmp', '/var/run/secrets/x'], resolve: (c: string) => c.replace(/^\/var\/run\//, '/run/')}

  it("allows only the runtime's mount points and the folders they were created in", () => {
    const changes = [
      {kind: 'changed', path: '/etc'},
      {kind: 'added', path: '/run/secrets'},
      {kind: 'added', path: '/run/secrets/x'},
      {kind: 'added', path: '/etc/ambient'},
      {kind: 'changed', path: '/app'},
      {kind: 'deleted', path: '/run/secrets'},
    ] as const
    expect(writesOutsideVolumes([...changes], p).map((c) => `${c.kind} ${c.path}`)).toEqual([
      'added /etc/ambient',
      'changed /app',
      'deleted /run/secrets',
    ])
  })

  it("resolves paths through the image's symlinks", () => {
    const image = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-image-'))
    try {
      fs.mkdirSync(path.join(image, 'run'))
      fs.mkdirSync(path.join(image, 'var'))
      fs.symlinkSync('/run', path.join(image, 'var', 'run'))
      fs.symlinkSync('usr/lib', path.join(image, 'lib'))
      const resolve = pathResolver(image)
      expect(resolve('/var/run/secrets/x')).toBe('/run/secrets/x')
      expect(resolve('/lib/x')).toBe('/usr/lib/x')
      expect(resolve('/tmp')).toBe('/tmp')
    } finally {
      fs.rmSync(image, {recursive: true, force: true})
    }
  })

  it("reads HOME from the image's passwd, `/` without an entry", () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nnode:x:1000:1000::/home/node:/bin/bash\n'
    expect(homeFromPasswd(passwd, 1000)).toBe('/home/node')
    expect(homeFromPasswd(passwd, 10001)).toBe('/')
  })
})

describe('output checks', () => {
  it('finds lines that are not JSON objects', () => {
    expect(nonJsonLines('{"a":1}\n\n[1]\nplain\n{"b":2}\n"s"\n')).toEqual(['[1]', 'plain', '"s"'])
  })

  it('finds the fatal log line a failed command ends with', () => {
    expect(fatalMessage('{"level":30,"msg":"started"}\n{"level":60,"msg":"AMBIENT_CONFIG_DIR: cannot create"}\n')).toBe(
      'AMBIENT_CONFIG_DIR: cannot create',
    )
    expect(fatalMessage('plain text\n')).toBeUndefined()
  })
})
