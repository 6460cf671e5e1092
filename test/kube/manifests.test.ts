// The shipped manifests agree with the code: the CRD declares every field the control plane
// writes (a real API server would silently prune the rest), RBAC grants exactly what it sends,
// and the Deployment/Dockerfile run it the way the contract and the shutdown path need.
import {readFileSync} from 'node:fs'
import {resolve} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {Session} from '../../src/lib/api/types.js'
import {SETTING_NAMES} from '../../src/lib/config/settings.js'
import {KUBE_PERMISSIONS} from '../../src/lib/kube/client.js'
import {desiredAgenticSession} from '../../src/lib/reconcilers/kube/desired.js'
import {deployDir, grantedBy, grantedPermissions, loadDocs, type K8sDoc} from './rbac.js'

interface SchemaNode {
  type?: string
  properties?: Record<string, SchemaNode>
  items?: SchemaNode
  additionalProperties?: SchemaNode | boolean
  'x-kubernetes-preserve-unknown-fields'?: boolean
}

function crdSchema(): {spec: SchemaNode; status: SchemaNode} {
  const [crd] = loadDocs('crd.yaml') as {spec: {versions: {name: string; schema: {openAPIV3Schema: SchemaNode}}[]}}[]
  const root = crd.spec.versions.find((v) => v.name === 'v1alpha1')?.schema.openAPIV3Schema
  if (!root?.properties?.spec || !root.properties.status) throw new Error('CRD has no v1alpha1 spec/status schema')
  return {spec: root.properties.spec, status: root.properties.status}
}

/** Paths of every leaf in `value` that the schema does not declare. */
function undeclared(value: unknown, schema: SchemaNode | undefined, path: string): string[] {
  if (!schema) return [path]
  if (Array.isArray(value)) return value.flatMap((v, i) => undeclared(v, schema.items, `${path}[${i}]`))
  if (typeof value === 'object' && value !== null) {
    if (schema['x-kubernetes-preserve-unknown-fields']) return []
    return Object.entries(value).flatMap(([k, v]) => {
      const child = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined)
      return undeclared(v, child, `${path}.${k}`)
    })
  }
  const type = typeof value === 'number' ? (Number.isInteger(value) ? ['integer', 'number'] : ['number']) : [typeof value]
  return schema.type && !type.includes(schema.type) ? [`${path} (${typeof value} vs ${schema.type})`] : []
}

const everyField: Session = {
  id: '2zX9aBcDeFgHiJkLmNoPqRsTuVw',
  kind: 'Session',
  href: '/x',
  created_at: '2026-01-01T00:00:00.000000Z',
  updated_at: '2026-01-01T00:00:00.000000Z',
  name: 'n',
  repo_url: 'https://g/r',
  prompt: 'p',
  created_by_user_id: 'u',
  assigned_user_id: 'a',
  workflow_id: 'w',
  repos: '[{"url":"https://g/a","branch":"b","autoPush":true},{"url":"https://g/b"}]',
  timeout: 10,
  llm_model: 'm',
  llm_temperature: 0.5,
  llm_max_tokens: 100,
  parent_session_id: 'p',
  bot_account_name: 'bot',
  resource_overrides: '{"cpu":"1"}',
  environment_variables: '{"A":"1"}',
  labels: '{"l":"v"}',
  annotations: '{"a":"v"}',
  project_id: 'proj',
}

describe('deploy/crd.yaml', () => {
  it('declares every spec field the desired-state builder can write', () => {
    const desired = desiredAgenticSession(everyField)
    if (!desired.ok) throw new Error(desired.message)
    expect(Object.keys(desired.object.spec ?? {}).sort()).toEqual([
      'displayName',
      'environmentVariables',
      'initialPrompt',
      'llmSettings',
      'repos',
      'timeout',
      'userContext',
    ])
    expect(undeclared(desired.object.spec, crdSchema().spec, 'spec')).toEqual([])
  })

  it('declares the status fields the control plane writes (stop/restart forwarding)', () => {
    const written = {phase: 'Stopping', stoppedReason: 'user', completionTime: '2026-01-01T00:00:00Z'}
    expect(undeclared(written, crdSchema().status, 'status')).toEqual([])
  })
})

describe('deploy/rbac.yaml', () => {
  it('grants exactly what the control plane sends, plus bind on clusterroles', () => {
    const granted = grantedPermissions()
    expect([...granted].sort()).toEqual([...KUBE_PERMISSIONS, 'bind clusterroles.rbac.authorization.k8s.io'].sort())
  })

  it('binds the roles to the ServiceAccount the Deployment runs as, leases only in its namespace', () => {
    const docs = loadDocs('rbac.yaml')
    const sa = docs.find((d) => d.kind === 'ServiceAccount')
    const deployment = loadDocs('deployment.yaml').find((d) => d.kind === 'Deployment') as K8sDoc & {
      spec: {template: {spec: {serviceAccountName: string}}}
    }
    expect(deployment.spec.template.spec.serviceAccountName).toBe(sa?.metadata?.name)
    for (const binding of docs.filter((d) => d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding')) {
      const role = docs.find(
        (d) => d.kind === (binding.roleRef as {kind: string}).kind && d.metadata?.name === (binding.roleRef as {name: string}).name,
      )
      expect(role, `role of ${binding.metadata?.name}`).toBeDefined()
      expect(binding.subjects).toEqual([{kind: 'ServiceAccount', name: sa?.metadata?.name, namespace: sa?.metadata?.namespace}])
    }
    const role = docs.find((d) => d.kind === 'Role')
    expect(role?.metadata?.namespace).toBe('ambient-code')
    expect([...grantedBy(role as K8sDoc)].every((p) => p.includes('leases'))).toBe(true)
    const clusterRole = docs.find((d) => d.kind === 'ClusterRole') as K8sDoc
    expect([...grantedBy(clusterRole)].some((p) => p.includes('leases') || p.includes('secrets'))).toBe(false)
  })
})

describe('deploy/deployment.yaml', () => {
  const deployment = loadDocs('deployment.yaml').find((d) => d.kind === 'Deployment') as K8sDoc & {
    spec: {
      replicas: number
      template: {spec: {containers: Container[]; volumes: {name: string; secret?: {secretName: string}}[]; securityContext: {runAsNonRoot: boolean}}}
    }
  }
  interface Container {
    args: string[]
    env: {name: string; value?: string; valueFrom?: unknown}[]
    ports: {name: string; containerPort: number}[]
    livenessProbe: {httpGet: {path: string; port: string}}
    readinessProbe: {httpGet: {path: string; port: string}}
    volumeMounts: {name: string; mountPath: string}[]
  }
  const container = deployment.spec.template.spec.containers[0]

  it('runs two replicas of `run --mode kube --leader-elect` as non-root', () => {
    expect(deployment.spec.replicas).toBe(2)
    expect(container.args).toEqual(['run', '--mode', 'kube', '--leader-elect'])
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true)
  })

  it('probes /healthz and /readyz on 8081 and exposes metrics on 8080', () => {
    const port = (name: string) => container.ports.find((p) => p.name === name)?.containerPort
    expect(port(container.livenessProbe.httpGet.port)).toBe(8081)
    expect(container.livenessProbe.httpGet.path).toBe('/healthz')
    expect(port(container.readinessProbe.httpGet.port)).toBe(8081)
    expect(container.readinessProbe.httpGet.path).toBe('/readyz')
    expect(port('metrics')).toBe(8080)
  })

  it('uses only setting names the CLI knows, and reads the token from a mounted Secret file', () => {
    const names = container.env.map((e) => e.name)
    // Known: the settings table, and the env names of `ambient run`'s own flags (POD_NAME).
    const manifest = JSON.parse(readFileSync(resolve(deployDir, '../oclif.manifest.json'), 'utf8')) as {
      commands: {run: {flags: Record<string, {env?: string}>}}
    }
    const flagEnv = Object.values(manifest.commands.run.flags).flatMap((f) => (f.env ? [f.env] : []))
    expect(flagEnv).toContain('POD_NAME')
    const known = new Set<string>([...SETTING_NAMES, ...flagEnv])
    expect(names.filter((n) => !known.has(n))).toEqual([])
    expect(names).not.toContain('AMBIENT_API_TOKEN')
    const tokenFile = container.env.find((e) => e.name === 'AMBIENT_API_TOKEN_FILE')?.value ?? ''
    const mount = container.volumeMounts.find((m) => tokenFile.startsWith(`${m.mountPath}/`))
    const volume = deployment.spec.template.spec.volumes.find((v) => v.name === mount?.name)
    expect(volume?.secret?.secretName).toBe('ambient-api-token')
  })
})

describe('Dockerfile', () => {
  const text = readFileSync(resolve(deployDir, '../Dockerfile'), 'utf8')
  const lines = text.split('\n').filter((l) => !l.trim().startsWith('#'))

  // What the image holds is proven by building it: `npm run test:container` (test/container/).
  it('builds on a Debian release of node:24-slim and ships production dependencies only', () => {
    const bases = lines.filter((l) => l.startsWith('FROM ')).map((l) => l.split(/\s+/)[1])
    expect(new Set(bases)).toEqual(new Set(['node:24-bookworm-slim']))
    expect(lines.some((l) => /npm ci --omit=dev/.test(l))).toBe(true)
    expect(lines.some((l) => /tsc -p tsconfig.json/.test(l))).toBe(true)
  })

  it("asks no registry for a frontend, leaves health to the Deployment's probes, carries OCI labels", () => {
    expect(text).not.toMatch(/^#\s*syntax\s*=/im)
    expect(lines.some((l) => /^HEALTHCHECK/.test(l))).toBe(false)
    for (const key of ['title', 'description', 'licenses', 'version', 'revision']) expect(text).toContain(`org.opencontainers.image.${key}=`)
  })

  it('runs node directly in exec form as a non-root user', () => {
    expect(lines).toContain('ENTRYPOINT ["node", "/app/bin/run.js"]')
    expect(lines).toContain('CMD ["run", "--mode", "kube"]')
    const user = lines.find((l) => l.startsWith('USER '))?.split(/\s+/)[1] ?? ''
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/)
    expect(lines.filter((l) => /^(ENTRYPOINT|CMD)/.test(l)).join(' ')).not.toMatch(/npm|npx|sh -c/)
  })
})
