// Contract section 3, the control plane's side: how kube mode maps sessions, projects and
// project settings to Kubernetes objects, and copies CR status back to the API server. Sessions
// come from the embedded API server creating them as the real one does (kube_cr_name = id, LLM
// defaults); the objects are read back through the fake API server serving deploy/crd.yaml.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Session} from '../../src/lib/api/types.js'
import {
  LABEL_MANAGED,
  LABEL_MANAGED_BY,
  LABEL_PROJECT_ID,
  LABEL_PROJECT_SETTINGS_ID,
  LABEL_SESSION_ID,
  type NamespaceObject,
  type RoleBindingObject,
} from '../../src/lib/kube/types.js'
import {desiredAgenticSession} from '../../src/lib/reconcilers/kube/desired.js'
import {until} from '../helpers/wait.js'
import {startWorld, type World} from './kube-world.js'

let real: World
/** A server that does not fill the LLM defaults (an older generation). */
let bare: World

beforeAll(async () => {
  ;[real, bare] = await Promise.all([startWorld(), startWorld({llmDefaults: false})])
})

afterAll(async () => {
  await Promise.all([real?.close(), bare?.close()])
})

/** Creates a session on `world`, reconciles it once, and returns it as the server now holds it. */
async function reconciled(world: World, fields: Partial<Session> & {name: string}): Promise<Session> {
  const created = await world.rest.create('sessions', fields)
  await world.reconcileSession(created.id)
  return world.rest.get('sessions', created.id)
}

async function ensureNamespace(world: World, name: string): Promise<void> {
  if (!world.kube.get('namespaces', '', name)) world.kube.put('namespaces', '', name, {metadata: {name}})
}

describe('3 where a session CR goes', () => {
  it('3 CR name is the lower-cased kube_cr_name, which the real server sets to the id', async () => {
    const s = await reconciled(real, {name: 'named'})
    expect(s.kube_cr_name).toBe(s.id)
    expect(real.cr('default', s.id.toLowerCase())?.metadata.labels?.[LABEL_SESSION_ID]).toBe(s.id)
  })

  it('3 CR name is the lower-cased kube_cr_name when it differs from the id', async () => {
    const created = await real.rest.create('sessions', {name: 'renamed'})
    await real.reconcileSessionAs({...created, kube_cr_name: 'My-Session-1'})
    expect(real.cr('default', 'my-session-1')?.metadata.labels?.[LABEL_SESSION_ID]).toBe(created.id)
    expect(real.cr('default', created.id.toLowerCase())).toBeUndefined()
  })

  it('3 CR name is the lower-cased id when kube_cr_name is empty', async () => {
    // Every session of the current server has a kube_cr_name: an empty one is another generation's.
    const created = await bare.rest.create('sessions', {name: 'no cr name'})
    await bare.reconcileSessionAs({...created, kube_cr_name: ''})
    expect(bare.cr('default', created.id.toLowerCase())?.metadata.labels?.[LABEL_SESSION_ID]).toBe(created.id)
  })

  it('3 namespace is the lower-cased project_id', async () => {
    await ensureNamespace(real, 'team-upper')
    const s = await reconciled(real, {name: 'in project', project_id: 'Team-Upper'})
    expect(real.cr('team-upper', s.id.toLowerCase())).toBeDefined()
    expect(s.kube_namespace).toBe('team-upper')
  })

  it('3 namespace is kube_namespace when there is no project_id', async () => {
    await ensureNamespace(real, 'elsewhere')
    const created = await real.rest.create('sessions', {name: 'placed'})
    await real.rest.patchStatus(created.id, {kube_namespace: 'elsewhere'})
    await real.reconcileSession(created.id)
    expect(real.cr('elsewhere', created.id.toLowerCase())).toBeDefined()
  })

  it('3 namespace is default without project_id and kube_namespace', async () => {
    const s = await reconciled(real, {name: 'homeless'})
    expect(s.kube_namespace).toBe('default')
    expect(real.cr('default', s.id.toLowerCase())).toBeDefined()
  })

  it('3 names must be RFC 1123 labels of at most 63 characters, else nothing is written', async () => {
    for (const bad of ['Not_A_Label', 'a'.repeat(64)]) {
      const created = await real.rest.create('sessions', {name: `bad namespace ${bad.length}`})
      await real.rest.patchStatus(created.id, {kube_namespace: bad})
      const mark = real.kube.requests.length
      await real.reconcileSession(created.id)
      expect(real.kubeWritesSince(mark).filter((r) => r.resource === 'agenticsessions')).toEqual([])
      const after = await real.rest.get('sessions', created.id)
      expect(after.phase).toBe('Failed')
      expect(JSON.parse(after.conditions ?? '[]')).toEqual([expect.objectContaining({type: 'Reconciled', status: 'False', reason: 'InvalidName'})])
    }
    await ensureNamespace(real, 'a'.repeat(63))
    const longest = await real.rest.create('sessions', {name: 'longest namespace'})
    await real.rest.patchStatus(longest.id, {kube_namespace: 'a'.repeat(63)})
    await real.reconcileSession(longest.id)
    expect(real.cr('a'.repeat(63), longest.id.toLowerCase())).toBeDefined()
  })
})

describe('3 what a session CR holds', () => {
  it('3 spec.displayName is the session name, spec.initialPrompt its prompt, spec.timeout its timeout', async () => {
    const s = await reconciled(real, {name: 'Fix the bug', prompt: 'please', timeout: 45})
    expect(real.cr('default', s.id.toLowerCase())?.spec).toMatchObject({displayName: 'Fix the bug', initialPrompt: 'please', timeout: 45})
  })

  it('3 spec.repos comes from the session repos JSON', async () => {
    const s = await reconciled(real, {
      name: 'repos',
      repos: '[{"url":"https://g/a","branch":"dev","autoPush":true},{"url":"https://g/b","branch":"x"}]',
      repo_url: 'https://g/ignored',
    })
    expect(real.cr('default', s.id.toLowerCase())?.spec?.repos).toEqual([
      {url: 'https://g/a', branch: 'dev', autoPush: true},
      {url: 'https://g/b', branch: 'x', autoPush: false},
    ])
  })

  it('3 spec.repos is the single repo {url: repo_url} when repos is empty', async () => {
    const s = await reconciled(real, {name: 'repo url', repo_url: 'https://g/only', repos: '[]'})
    const name = s.id.toLowerCase()
    expect(real.cr('default', name)?.spec?.repos).toEqual([{url: 'https://g/only', branch: `ambient/${name}`, autoPush: false}])
  })

  it('3 a repo without a branch gets ambient/<cr-name>', async () => {
    const s = await reconciled(real, {name: 'no branch', repos: '[{"url":"https://g/a"}]'})
    const name = s.id.toLowerCase()
    expect(real.cr('default', name)?.spec?.repos?.[0].branch).toBe(`ambient/${name}`)
  })

  it('3 llm_model, llm_temperature and llm_max_tokens go to spec.llmSettings', async () => {
    const s = await reconciled(real, {name: 'llm', llm_model: 'opus', llm_temperature: 0.1, llm_max_tokens: 123})
    expect(real.cr('default', s.id.toLowerCase())?.spec?.llmSettings).toEqual({model: 'opus', temperature: 0.1, maxTokens: 123})
    const defaulted = await reconciled(real, {name: 'llm defaults'})
    expect(defaulted).toMatchObject({llm_model: 'sonnet', llm_temperature: 0.7, llm_max_tokens: 4000})
    expect(real.cr('default', defaulted.id.toLowerCase())?.spec?.llmSettings).toEqual({model: 'sonnet', temperature: 0.7, maxTokens: 4000})
  })

  it('3 created_by_user_id goes to spec.userContext.userId', async () => {
    // The real server takes created_by_user_id from the caller's token: set it as it would.
    const created = await real.rest.create('sessions', {name: 'mine'})
    await real.reconcileSessionAs({...created, created_by_user_id: 'user-1'})
    expect(real.cr('default', created.id.toLowerCase())?.spec?.userContext).toEqual({userId: 'user-1'})
  })

  it('3 labels and annotations come from the session labels/annotations JSON strings', async () => {
    const s = await reconciled(real, {name: 'meta', labels: '{"team":"a","tier":"gold"}', annotations: '{"note":"hello"}'})
    const cr = real.cr('default', s.id.toLowerCase())
    expect(cr?.metadata.labels).toMatchObject({team: 'a', tier: 'gold'})
    expect(cr?.metadata.annotations).toMatchObject({note: 'hello'})
  })

  it('3 the first generation project, botAccount and resourceOverrides are not written to spec', async () => {
    const s = await reconciled(real, {name: 'old fields', project_id: 'team-upper', bot_account_name: 'bot', resource_overrides: '{"cpu":"2"}'})
    const desired = desiredAgenticSession(s)
    if (!desired.ok) throw new Error(desired.message)
    for (const field of ['project', 'botAccount', 'resourceOverrides']) expect(desired.object.spec, field).not.toHaveProperty(field)
    expect(real.cr('team-upper', s.id.toLowerCase())?.metadata.labels?.[LABEL_PROJECT_ID]).toBe('team-upper')
  })
})

describe('3 projects and project settings', () => {
  it('3 a project becomes a Namespace named after the lower-cased project name, labelled managed, project-id and managed-by', async () => {
    const project = await real.rest.create('projects', {name: 'research-x'})
    // As an older server generation that allowed upper case in names would send it.
    await real.reconcileProject({...project, name: 'Research-X'})
    const ns = real.kube.get('namespaces', '', 'research-x') as NamespaceObject | undefined
    expect(ns?.metadata.labels).toMatchObject({[LABEL_MANAGED]: 'true', [LABEL_PROJECT_ID]: project.id, [LABEL_MANAGED_BY]: 'ambient-control-plane'})
  })

  it('3 a deleted project keeps its namespace', async () => {
    const project = await real.rest.create('projects', {name: 'short-lived'})
    await real.reconcileProject(project)
    await real.rest.delete('projects', project.id)
    await real.reconcileProject(undefined, project.id)
    expect(real.kube.get('namespaces', '', 'short-lived')).toBeDefined()
  })

  it('3 group_access entries become RoleBindings ambient-<group>-<role> to ClusterRole <role> for Group <group>, with the managed labels', async () => {
    const project = await real.rest.create('projects', {name: 'bound'})
    await real.reconcileProject(project)
    const settings = await real.rest.create('project_settings', {project_id: project.id, group_access: '[{"group":"devs","role":"edit"}]'})
    await real.reconcileSettings(settings)
    const binding = real.kube.get('rolebindings.rbac.authorization.k8s.io', 'bound', 'ambient-devs-edit') as RoleBindingObject | undefined
    expect(binding?.roleRef).toEqual({apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit'})
    expect(binding?.subjects).toEqual([{kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs'}])
    expect(binding?.metadata.labels).toMatchObject({
      [LABEL_MANAGED]: 'true',
      [LABEL_PROJECT_ID]: project.id,
      [LABEL_MANAGED_BY]: 'ambient-control-plane',
    })
  })

  it('3 a role change in group_access deletes the old RoleBinding and creates the new one', async () => {
    const project = await real.rest.create('projects', {name: 'rebound'})
    await real.reconcileProject(project)
    const settings = await real.rest.create('project_settings', {project_id: project.id, group_access: '[{"group":"devs","role":"view"}]'})
    await real.reconcileSettings(settings)
    const changed = await real.rest.patch('project_settings', settings.id, {group_access: '[{"group":"devs","role":"admin"}]'})
    const mark = real.kube.requests.length
    await real.reconcileSettings(changed)
    const writes = real.kubeWritesSince(mark).filter((r) => r.resource === 'rolebindings')
    expect(writes.map((r) => `${r.verb} ${r.name ?? ''}`).sort()).toEqual(['create ', 'delete ambient-devs-view'])
    expect(real.kube.get('rolebindings.rbac.authorization.k8s.io', 'rebound', 'ambient-devs-view')).toBeUndefined()
    expect(
      (real.kube.get('rolebindings.rbac.authorization.k8s.io', 'rebound', 'ambient-devs-admin') as RoleBindingObject | undefined)?.roleRef.name,
    ).toBe('admin')
  })

  it('3 roleRef is immutable: a binding of the same name with another roleRef is deleted and created again', async () => {
    const project = await real.rest.create('projects', {name: 'reref'})
    await real.reconcileProject(project)
    const settings = await real.rest.create('project_settings', {project_id: project.id, group_access: '[{"group":"ops","role":"edit"}]'})
    const labels = {
      [LABEL_MANAGED]: 'true',
      [LABEL_MANAGED_BY]: 'ambient-control-plane',
      [LABEL_PROJECT_ID]: project.id,
      [LABEL_PROJECT_SETTINGS_ID]: settings.id,
    }
    const stale = real.kube.put('rolebindings.rbac.authorization.k8s.io', 'reref', 'ambient-ops-edit', {
      metadata: {name: 'ambient-ops-edit', namespace: 'reref', labels},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view'},
      subjects: [{kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'ops'}],
    })
    await until('the stale binding in the cache', () => real.caches.roleBindings.get('reref', 'ambient-ops-edit'))
    const mark = real.kube.requests.length
    await real.reconcileSettings(settings)
    const writes = real.kubeWritesSince(mark).filter((r) => r.resource === 'rolebindings')
    expect(writes.map((r) => r.verb)).toEqual(['delete', 'create'])
    const binding = real.kube.get('rolebindings.rbac.authorization.k8s.io', 'reref', 'ambient-ops-edit') as RoleBindingObject | undefined
    expect(binding?.roleRef.name).toBe('edit')
    expect(binding?.metadata.uid).not.toBe(stale.metadata.uid)
  })

  it('3 deleted project settings keep their RoleBindings', async () => {
    const project = await real.rest.create('projects', {name: 'kept-bindings'})
    await real.reconcileProject(project)
    const settings = await real.rest.create('project_settings', {project_id: project.id, group_access: '[{"group":"qa","role":"view"}]'})
    await real.reconcileSettings(settings)
    await real.rest.delete('project_settings', settings.id)
    await real.reconcileSettings(undefined, settings.id)
    expect(real.kube.get('rolebindings.rbac.authorization.k8s.io', 'kept-bindings', 'ambient-qa-view')).toBeDefined()
  })
})

describe('3 status copied back to the API server', () => {
  it('3 after writing a CR the control plane copies kube_cr_uid, kube_namespace, phase, start_time, completion_time, sdk_session_id, sdk_restart_count, conditions, reconciled_repos, reconciled_workflow', async () => {
    const s = await reconciled(real, {name: 'copied', repos: '[{"url":"https://g/a"}]'})
    const name = s.id.toLowerCase()
    const cr = real.cr('default', name)
    expect(s).toMatchObject({kube_cr_uid: cr?.metadata.uid, kube_namespace: 'default'})
    const status = {
      phase: 'Completed',
      startTime: '2026-01-02T03:04:05Z',
      completionTime: '2026-01-02T04:04:05Z',
      sdkSessionId: 'sdk-1',
      sdkRestartCount: 2,
      conditions: [{type: 'Ready', status: 'False', reason: 'Done', message: 'finished', lastTransitionTime: '2026-01-02T04:04:05Z'}],
      reconciledRepos: [{url: 'https://g/a', branch: `ambient/${name}`, status: 'Ready', currentActiveBranch: 'main'}],
      reconciledWorkflow: {gitUrl: 'https://g/w', status: 'Active'},
    }
    real.kube.update('agenticsessions', 'default', name, (o) => {
      o.status = status
    })
    await waitForCache(real, name, 'Completed')
    await real.reconcileSession(s.id)
    const after = await real.rest.get('sessions', s.id)
    expect(after).toMatchObject({
      phase: 'Completed',
      start_time: '2026-01-02T03:04:05.000000Z',
      completion_time: '2026-01-02T04:04:05.000000Z',
      sdk_session_id: 'sdk-1',
      sdk_restart_count: 2,
    })
    expect(JSON.parse(after.conditions ?? 'null')).toEqual(status.conditions)
    expect(JSON.parse(after.reconciled_repos ?? 'null')).toEqual(status.reconciledRepos)
    expect(JSON.parse(after.reconciled_workflow ?? 'null')).toEqual(status.reconciledWorkflow)
  })

  it('3 the control plane does not react to the echo of its own status write', async () => {
    const s = await reconciled(real, {name: 'echo'})
    const name = s.id.toLowerCase()
    real.kube.update('agenticsessions', 'default', name, (o) => {
      o.status = {phase: 'Running', startTime: '2026-01-02T03:04:05Z'}
    })
    await waitForCache(real, name, 'Running')
    await real.reconcileSession(s.id)
    const copied = await real.rest.get('sessions', s.id)
    expect(copied.phase).toBe('Running')
    const mark = real.kube.requests.length
    await real.reconcileSession(s.id)
    expect(real.kubeWritesSince(mark)).toEqual([])
    expect((await real.rest.get('sessions', s.id)).updated_at).toBe(copied.updated_at)
  })
})

async function waitForCache(world: World, name: string, phase: string): Promise<void> {
  await until(`the CR ${name} in phase ${phase} in the cache`, () => world.caches.agenticSessions.get('default', name)?.status?.phase === phase)
}
