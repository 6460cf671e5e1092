// `ambient diff` (kube mode) as a real process: the embedded API server, the fake Kubernetes
// API, and a converged state written with the reconcilers' own desired-state functions. The
// diff must be empty then, must report each kind of drift exactly once, and must only read.
import fs from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {RestClient} from '../../src/lib/api/rest.js'
import type {Project, ProjectSettings, Session} from '../../src/lib/api/types.js'
import {KubeClient} from '../../src/lib/kube/client.js'
import {AGENTIC_SESSION_API_VERSION, AGENTIC_SESSION_KIND, LABEL_MANAGED_BY, LABEL_PROJECT_ID, LABEL_SESSION_ID} from '../../src/lib/kube/types.js'
import {managedLabels} from '../../src/lib/reconcilers/kube/desired.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {assertBuilt, runCli, tempConfigDir} from '../commands/helpers.js'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {ndjson, summaryKeys, writeConverged} from './helpers.js'

const TOKEN = 'diff-cli-token'
const RUNNING = {
  phase: 'Running',
  startTime: '2026-01-02T03:04:05Z',
  sdkSessionId: 'sdk-1',
  conditions: [{type: 'Ready', status: 'True' as const, reason: 'Up', lastTransitionTime: '2026-01-02T03:04:05Z'}],
}

let api: ApiServer
let kube: FakeKube
let rest: RestClient
let client: KubeClient
let configDir: string
let env: Record<string, string>
let apiWrites = 0
const projects: Record<string, Project> = {}
const sessions: Record<string, Session> = {}
const settings: Record<string, ProjectSettings> = {}

beforeAll(async () => {
  assertBuilt(['diff'])
  api = await startApiServer({port: 0, grpcPort: 0, token: TOKEN})
  kube = await startFakeKube()
  rest = new RestClient({baseUrl: api.url, token: () => TOKEN})
  client = new KubeClient({kubeConfig: kube.kubeConfig()})
  configDir = tempConfigDir()
  env = {
    AMBIENT_CONFIG_DIR: configDir,
    AMBIENT_STATE_DIR: configDir,
    AMBIENT_API_SERVER_URL: api.url,
    AMBIENT_API_TOKEN: TOKEN,
    KUBECONFIG: kube.kubeconfigPath,
  }
  for (const r of ['sessions', 'projects', 'project_settings'] as const) api.store.on(r, () => apiWrites++)

  for (const name of ['alpha', 'beta', 'gamma', 'delta']) projects[name] = await rest.create('projects', {name})
  settings.alpha = await rest.create('project_settings', {
    project_id: projects.alpha.id,
    group_access: '[{"group":"devs","role":"edit"},{"group":"qa","role":"view"}]',
  })
  settings.delta = await rest.create('project_settings', {project_id: projects.delta.id, group_access: '[{"group":"ops","role":"admin"}]'})
  const alpha = projects.alpha.id
  const beta = projects.beta.id
  sessions.a1 = await rest.create('sessions', {
    name: 'a1',
    project_id: alpha,
    prompt: 'fix it',
    timeout: 600,
    repos: '[{"url":"https://github.com/acme/api","branch":"dev"}]',
    labels: '{"team":"a"}',
    annotations: '{"note":"x"}',
    environment_variables: '{"X":"1"}',
  })
  // No timeout, no branch, no autoPush: the CRD fills them in, and that must not read as drift.
  sessions.a2 = await rest.create('sessions', {name: 'a2', project_id: alpha, repo_url: 'https://github.com/acme/web'})
  sessions.a3 = await rest.create('sessions', {name: 'a3', project_id: alpha, repos: '[{"url":"https://github.com/acme/x"}]'})
  sessions.b1 = await rest.create('sessions', {name: 'b1', project_id: beta, llm_model: 'opus', llm_temperature: 0.5, llm_max_tokens: 1000})
  sessions.r1 = await rest.create('sessions', {name: 'r1', project_id: beta})
  sessions.n0 = await rest.create('sessions', {name: 'no project'})
  await writeConverged({rest, kube: client, status: (s) => (s.name === 'b1' || s.name === 'r1' ? RUNNING : undefined)})
})

afterAll(async () => {
  client?.close()
  await kube?.close()
  await api?.close()
  if (configDir) fs.rmSync(configDir, {recursive: true, force: true})
})

const crName = (s: Session) => s.id.toLowerCase()

describe('ambient diff --mode kube', () => {
  it('is empty right after convergence, exits 0, and only LISTs (one per kind, managed label) without writing', async () => {
    kube.resetCounts()
    const writesBefore = apiWrites
    const text = await runCli(['diff'], env)
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toBe('')
    expect(text.stderr).toContain('no drift')
    const json = await runCli(['diff', '--json'], env)
    expect(json.code, json.stderr).toBe(0)
    expect(json.stdout).toBe('')

    const requests = kube.requests
    expect(requests.map((r) => r.verb)).toEqual(Array(6).fill('list'))
    expect(requests.map((r) => r.resource).sort()).toEqual([
      'agenticsessions',
      'agenticsessions',
      'namespaces',
      'namespaces',
      'rolebindings',
      'rolebindings',
    ])
    for (const r of requests) expect(new URLSearchParams(r.query).get('labelSelector')).toBe('ambient-code.io/managed=true')
    expect(apiWrites).toBe(writesBefore)
  })

  it('keeps namespaces of deleted projects and bindings of deleted settings (not drift)', async () => {
    await rest.delete('projects', projects.gamma.id)
    await rest.delete('project_settings', settings.delta.id)
    expect(kube.get('namespaces', '', 'gamma')).toBeDefined()
    expect(kube.get('rolebindings.rbac.authorization.k8s.io', 'delta', 'ambient-ops-admin')).toBeDefined()
    const result = await runCli(['diff', '--json'], env)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe('')
  })

  describe('with drift', () => {
    let added: Session
    let invalid: Session
    const writesAtStart = {n: 0}

    beforeAll(async () => {
      const alpha = projects.alpha.id
      const beta = projects.beta.id
      // A new session: its CR is missing.
      added = await rest.create('sessions', {name: 'added', project_id: alpha, prompt: 'new'})
      // Malformed data: reported, not a crash.
      invalid = await rest.create('sessions', {name: 'bad', project_id: beta, labels: '{"team":'})
      // Someone edited a CR's spec.
      kube.update('agenticsessions', 'alpha', crName(sessions.a1), (o) => {
        ;(o.spec as Record<string, unknown>).timeout = 999
      })
      // A managed CR whose session does not exist.
      kube.put('agenticsessions', 'beta', 'ghost', {
        apiVersion: AGENTIC_SESSION_API_VERSION,
        kind: AGENTIC_SESSION_KIND,
        metadata: {name: 'ghost', namespace: 'beta', labels: managedLabels({[LABEL_SESSION_ID]: 'ghost-session', [LABEL_PROJECT_ID]: beta})},
        spec: {displayName: 'ghost'},
      })
      // Wrong namespace labels.
      kube.update('namespaces', '', 'beta', (o) => {
        o.metadata.labels = {...o.metadata.labels, [LABEL_MANAGED_BY]: 'someone-else'}
      })
      // A binding recreated by hand with another role (roleRef is immutable, so delete + create).
      const binding = kube.get('rolebindings.rbac.authorization.k8s.io', 'alpha', 'ambient-devs-edit')
      if (!binding) throw new Error('fixture binding missing')
      kube.delete('rolebindings.rbac.authorization.k8s.io', 'alpha', 'ambient-devs-edit')
      kube.put('rolebindings.rbac.authorization.k8s.io', 'alpha', 'ambient-devs-edit', {
        ...binding,
        metadata: {name: 'ambient-devs-edit', namespace: 'alpha', labels: binding.metadata.labels},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view'},
      })
      // Group access no longer lists qa: its binding is extra.
      await rest.patch('project_settings', settings.alpha.id, {group_access: '[{"group":"devs","role":"edit"}]'})
      // The operator finished a session; its status was not copied back yet.
      kube.update('agenticsessions', 'beta', crName(sessions.b1), (o) => {
        o.status = {...(o.status as object), phase: 'Completed', completionTime: '2026-01-02T04:00:00Z'}
      })
      // The CR of a running session vanished.
      kube.delete('agenticsessions', 'beta', crName(sessions.r1))
      kube.resetCounts()
      writesAtStart.n = apiWrites
    })

    it('reports each change exactly once as NDJSON and exits 1', async () => {
      const result = await runCli(['diff', '--json'], env)
      expect(result.code, result.stderr).toBe(1)
      const lines = ndjson(result.stdout)
      expect(summaryKeys(lines)).toEqual(
        [
          `create AgenticSession alpha/${crName(added)}`,
          `update AgenticSession alpha/${crName(sessions.a1)}`,
          'delete AgenticSession beta/ghost',
          `invalid AgenticSession beta/${crName(invalid)}`,
          `status Session beta/${crName(sessions.b1)}`,
          `status Session beta/${crName(sessions.r1)}`,
          'update Namespace beta',
          'update RoleBinding alpha/ambient-devs-edit',
          'delete RoleBinding alpha/ambient-qa-view',
        ].sort(),
      )
      const find = (action: string, name: string) => {
        const line = lines.find((l) => l.action === action && l.name === name)
        if (!line) throw new Error(`no ${action} ${name}`)
        return line
      }
      expect(find('update', crName(sessions.a1))).toMatchObject({
        resource: 'sessions',
        id: sessions.a1.id,
        kind: 'AgenticSession',
        namespace: 'alpha',
        fields: [{path: 'spec.timeout', desired: 600, actual: 999}],
      })
      const created = find('create', crName(added))
      expect(created).toMatchObject({resource: 'sessions', id: added.id, namespace: 'alpha'})
      expect(created.fields).toEqual(
        expect.arrayContaining([
          {path: 'spec.displayName', desired: 'added', actual: null},
          {path: 'spec.initialPrompt', desired: 'new', actual: null},
        ]),
      )
      expect(find('delete', 'ghost')).toMatchObject({id: 'ghost-session', reason: 'SessionDeleted'})
      expect(find('invalid', crName(invalid))).toMatchObject({id: invalid.id, reason: 'InvalidSpec', message: expect.stringContaining('labels')})
      const status = find('status', crName(sessions.b1))
      expect(status.fields).toEqual([
        {path: 'phase', desired: 'Completed', actual: 'Running'},
        {path: 'completion_time', desired: '2026-01-02T04:00:00.000000Z', actual: null},
      ])
      expect(find('status', crName(sessions.r1))).toMatchObject({
        reason: 'CustomResourceDeleted',
        fields: [{path: 'phase', desired: 'Failed', actual: 'Running'}],
      })
      expect(find('update', 'beta')).toMatchObject({
        resource: 'projects',
        id: projects.beta.id,
        kind: 'Namespace',
        fields: [{path: 'metadata.labels["ambient-code.io/managed-by"]', desired: 'ambient-control-plane', actual: 'someone-else'}],
      })
      expect(find('update', 'ambient-devs-edit')).toMatchObject({
        resource: 'project_settings',
        id: settings.alpha.id,
        replace: true,
        fields: [{path: 'roleRef.name', desired: 'edit', actual: 'view'}],
      })
      expect(find('delete', 'ambient-qa-view')).toMatchObject({resource: 'project_settings', id: settings.alpha.id, namespace: 'alpha'})
    })

    it('prints a plain unified-diff-like view when piped', async () => {
      const result = await runCli(['diff'], env)
      expect(result.code, result.stderr).toBe(1)
      expect(result.stdout).not.toContain('\u001B[')
      const a1 = `AgenticSession alpha/${crName(sessions.a1)}`
      expect(result.stdout).toContain(`--- desired ${a1}\n+++ live ${a1}\n spec:\n-  timeout: 600\n+  timeout: 999\n`)
      expect(result.stdout).toContain(`+++ live (absent)\n-metadata:`)
      expect(result.stdout).toContain('-  name: edit\n+  name: view')
      expect(result.stdout).toMatch(/! InvalidSpec: labels: not valid JSON/)
      expect(result.stderr).toContain('9 changes: 1 create, 3 update, 2 delete, 2 status, 1 invalid')
    })

    it('narrows to one resource and one project, still one LIST per kind it needs', async () => {
      kube.resetCounts()
      const onlySessions = await runCli(['diff', 'sessions', '--json'], env)
      expect(onlySessions.code).toBe(1)
      expect(new Set(ndjson(onlySessions.stdout).map((l) => l.resource))).toEqual(new Set(['sessions']))
      expect(kube.requests.map((r) => `${r.verb} ${r.resource}`)).toEqual(['list agenticsessions'])

      const alpha = await runCli(['diff', '--project', 'alpha', '--json'], env)
      expect(alpha.code).toBe(1)
      expect(summaryKeys(ndjson(alpha.stdout))).toEqual(
        [
          `create AgenticSession alpha/${crName(added)}`,
          `update AgenticSession alpha/${crName(sessions.a1)}`,
          'update RoleBinding alpha/ambient-devs-edit',
          'delete RoleBinding alpha/ambient-qa-view',
        ].sort(),
      )
      const settingsOnly = await runCli(['diff', 'project-settings', '-p', projects.beta.id, '--json'], env)
      expect(settingsOnly.code, settingsOnly.stderr).toBe(0)
    })

    it('wrote nothing anywhere', () => {
      expect(kube.requests.length).toBeGreaterThan(0)
      expect(kube.requests.filter((r) => r.verb !== 'list')).toEqual([])
      expect(apiWrites).toBe(writesAtStart.n)
    })
  })
})
