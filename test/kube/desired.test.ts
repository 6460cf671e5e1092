import {readFile} from 'node:fs/promises'
import * as yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import type {Project, ProjectSettings, Session} from '../../src/lib/api/types.js'
import type {AgenticSession} from '../../src/lib/kube/types.js'
import {
  desiredAgenticSession,
  desiredNamespace,
  desiredRoleBindings,
  driftPatch,
  roleBindingAction,
  roleBindingName,
  specDrift,
  statusPatchDiff,
  statusPatchNeeded,
  statusToApi,
  withCondition,
  type DesiredFailure,
} from '../../src/lib/reconcilers/kube/desired.js'
import {applyDefaults, parseSchema, prune} from '../fake-kube/schema.js'
import {defaultCrdPath} from '../fake-kube/index.js'

const meta = {kind: 'Session', href: '/x', created_at: '2026-01-01T00:00:00.000000Z', updated_at: '2026-01-01T00:00:00.000000Z'}

function session(fields: Partial<Session> = {}): Session {
  return {...meta, id: '2zX9aBcDeFgHiJkLmNoPqRsTuVw', name: 'fix the bug', ...fields}
}

function ok(s: Session, options?: Parameters<typeof desiredAgenticSession>[1]) {
  const d = desiredAgenticSession(s, options)
  if (!d.ok) throw new Error(`expected ok, got ${d.reason}: ${d.message}`)
  return d
}

function failed(s: Session): DesiredFailure {
  const d = desiredAgenticSession(s)
  if (d.ok) throw new Error('expected a failure')
  return d
}

/** What a real API server stores for a create: pruned to the CRD schema, then defaulted. */
async function serverStored(object: AgenticSession): Promise<AgenticSession> {
  const docs = yaml.loadAll(await readFile(defaultCrdPath, 'utf8')) as {spec: {versions: {schema: {openAPIV3Schema: unknown}}[]}}[]
  const schema = parseSchema(docs[0].spec.versions[0].schema.openAPIV3Schema)
  const stored = JSON.parse(JSON.stringify(object)) as Record<string, unknown>
  prune(stored, schema)
  applyDefaults(stored, schema)
  return stored as unknown as AgenticSession
}

describe('desiredAgenticSession: names', () => {
  it('uses the lower-cased kube_cr_name, else the lower-cased id', () => {
    expect(ok(session({kube_cr_name: 'My-Session'})).name).toBe('my-session')
    expect(ok(session()).name).toBe('2zx9abcdefghijklmnopqrstuvw')
  })

  it('uses the lower-cased project_id, else kube_namespace, else default', () => {
    expect(ok(session({project_id: 'Team-A', kube_namespace: 'other'})).namespace).toBe('team-a')
    expect(ok(session({kube_namespace: 'other'})).namespace).toBe('other')
    expect(ok(session()).namespace).toBe('default')
    expect(ok(session({project_id: ''})).namespace).toBe('default')
  })

  it('prefers the namespace of a known project (its lower-cased name)', () => {
    const d = ok(session({project_id: 'PROJ1'}), {projectNamespace: (id) => (id === 'PROJ1' ? 'payments' : undefined)})
    expect(d.namespace).toBe('payments')
    expect(ok(session({project_id: 'PROJ2'}), {projectNamespace: () => undefined}).namespace).toBe('proj2')
  })

  it('rejects names that are not RFC 1123 labels, naming the field', () => {
    const bad = failed(session({kube_cr_name: 'has.dot'}))
    expect(bad.reason).toBe('InvalidName')
    expect(bad.fields).toContain('kube_cr_name')
    expect(failed(session({kube_cr_name: 'a'.repeat(64)})).message).toMatch(/no more than 63/)
    expect(ok(session({kube_cr_name: 'a'.repeat(63)})).name).toHaveLength(63)
    expect(failed(session({kube_cr_name: '-lead'})).reason).toBe('InvalidName')
    expect(failed(session({kube_cr_name: 'trail-'})).reason).toBe('InvalidName')
    const ns = failed(session({project_id: 'My_Project'}))
    expect(ns.reason).toBe('InvalidName')
    expect(ns.fields).toContain('project_id')
    expect(failed(session({kube_namespace: 'under_score'})).fields).toContain('kube_namespace')
  })

  it('reports a JSON field nested too deep to handle as malformed, instead of overflowing the stack', () => {
    const deep = `{"a":${'['.repeat(50_000)}${']'.repeat(50_000)}}`
    for (const field of ['labels', 'annotations', 'environment_variables', 'repos'] as const) {
      const bad = failed(session({[field]: deep}))
      expect(bad.fields, field).toContain(field)
      expect(bad.message).toMatch(/nested deeper than 64 levels/)
    }
    // Status documents from the server: malformed, compared without recursing into them.
    const echoed = session({conditions: deep, reconciled_repos: deep, reconciled_workflow: deep})
    expect(() => statusPatchNeeded(echoed, statusToApi(undefined, {metadata: {uid: 'u', namespace: 'n'}}))).not.toThrow()
  })

  it('reports name and spec problems together, InvalidName first', () => {
    const both = failed(session({kube_cr_name: 'Bad Name', repos: '{nope'}))
    expect(both.reason).toBe('InvalidName')
    expect(both.fields).toEqual(expect.arrayContaining(['kube_cr_name', 'repos']))
  })
})

describe('desiredAgenticSession: spec', () => {
  it('maps the contract fields', () => {
    const d = ok(
      session({
        kube_cr_name: 'fix-1',
        prompt: 'do it',
        timeout: 900,
        repos: JSON.stringify([{url: 'https://g/a', branch: 'dev', autoPush: true}, {url: 'https://g/b'}]),
        llm_model: 'claude',
        llm_temperature: 0.2,
        llm_max_tokens: 4000,
        created_by_user_id: 'u-1',
        environment_variables: JSON.stringify({A: '1', B: ''}),
      }),
    )
    expect(d.object.apiVersion).toBe('vteam.ambient-code/v1alpha1')
    expect(d.object.kind).toBe('AgenticSession')
    expect(d.object.spec).toEqual({
      displayName: 'fix the bug',
      initialPrompt: 'do it',
      timeout: 900,
      repos: [
        {url: 'https://g/a', branch: 'dev', autoPush: true},
        {url: 'https://g/b', branch: 'ambient/fix-1'},
      ],
      llmSettings: {model: 'claude', temperature: 0.2, maxTokens: 4000},
      userContext: {userId: 'u-1'},
      environmentVariables: {A: '1', B: ''},
    })
  })

  it('falls back to repo_url when repos is empty, with the ambient/<cr-name> branch', () => {
    expect(ok(session({kube_cr_name: 'x', repo_url: 'https://g/r'})).object.spec?.repos).toEqual([{url: 'https://g/r', branch: 'ambient/x'}])
    expect(ok(session({kube_cr_name: 'x', repos: '[]', repo_url: 'https://g/r'})).object.spec?.repos).toEqual([
      {url: 'https://g/r', branch: 'ambient/x'},
    ])
    expect(ok(session({kube_cr_name: 'x', repos: '[{"url":"https://g/s","branch":""}]', repo_url: 'https://g/r'})).object.spec?.repos).toEqual([
      {url: 'https://g/s', branch: 'ambient/x'},
    ])
  })

  it('omits what the session does not set, and llmSettings when empty', () => {
    const spec = ok(session({llm_temperature: 0})).object.spec
    expect(spec).toEqual({displayName: 'fix the bug', llmSettings: {temperature: 0}})
    expect(ok(session()).object.spec).toEqual({displayName: 'fix the bug'})
  })

  it('never writes a field the CRD does not declare', async () => {
    const d = ok(
      session({
        bot_account_name: 'bot',
        resource_overrides: '{"cpu":"2"}',
        project_id: 'p1',
        workflow_id: 'wf',
        parent_session_id: 'parent',
        assigned_user_id: 'u2',
        repos: '[{"url":"https://g/a","extra":"x"}]',
      }),
    )
    expect(Object.keys(d.object.spec ?? {}).sort()).toEqual(['displayName', 'repos'])
    expect(d.object.spec?.repos).toEqual([{url: 'https://g/a', branch: `ambient/${d.name}`}])
    // Nothing of ours is pruned by the server's structural schema.
    const stored = await serverStored(d.object)
    expect(stored.spec?.displayName).toBe(d.object.spec?.displayName)
    expect(stored.metadata).toEqual(d.object.metadata)
  })

  it.each([
    ['repos', {repos: '[{"url": '}],
    ['repos', {repos: '{"url":"x"}'}],
    ['repos', {repos: '[{"branch":"main"}]'}],
    ['repos', {repos: '[{"url":"x","autoPush":"yes"}]'}],
    ['repos', {repos: '[{"url":"x","branch":3}]'}],
    ['labels', {labels: 'not json'}],
    ['labels', {labels: '["a"]'}],
    ['labels', {labels: '{"a": 1}'}],
    ['labels', {labels: '{"bad key!": "v"}'}],
    ['labels', {labels: '{"ok": "bad value!"}'}],
    ['labels', {labels: JSON.stringify({ok: 'v'.repeat(64)})}],
    ['annotations', {annotations: '{'}],
    ['annotations', {annotations: '{"a": {"nested": true}}'}],
    ['annotations', {annotations: '{"-bad": "v"}'}],
    ['annotations', {annotations: JSON.stringify({big: 'x'.repeat(256 * 1024)})}],
    ['environment_variables', {environment_variables: '{"A": }'}],
    ['environment_variables', {environment_variables: '{"A": 1}'}],
    ['environment_variables', {environment_variables: '"A=1"'}],
    ['environment_variables', {environment_variables: '{"": "x"}'}],
    ['resource_overrides', {resource_overrides: '{cpu: 2}'}],
    ['resource_overrides', {resource_overrides: '[1]'}],
    ['timeout', {timeout: 1.5}],
    ['llm_max_tokens', {llm_max_tokens: 10.5}],
    ['llm_temperature', {llm_temperature: Number.NaN}],
  ] as const)('rejects a bad %s (%j) with InvalidSpec naming the field', (field, fields) => {
    const f = failed(session(fields as Partial<Session>))
    expect(f.reason).toBe('InvalidSpec')
    expect(f.fields).toEqual([field])
    expect(f.message).toContain(field)
  })

  it('treats empty strings and JSON null as absent', () => {
    const d = ok(session({repos: '', labels: ' ', annotations: 'null', environment_variables: '', resource_overrides: 'null'}))
    expect(d.object.spec).toEqual({displayName: 'fix the bug'})
  })
})

describe('desiredAgenticSession: metadata', () => {
  it('copies the session labels/annotations and adds the managed labels', () => {
    const d = ok(session({project_id: 'p1', labels: '{"team":"a","example.com/tier":"gold"}', annotations: '{"note":"hello world"}'}))
    expect(d.object.metadata.labels).toEqual({
      team: 'a',
      'example.com/tier': 'gold',
      'ambient-code.io/managed': 'true',
      'ambient-code.io/session-id': '2zX9aBcDeFgHiJkLmNoPqRsTuVw',
      'ambient-code.io/managed-by': 'ambient-control-plane',
      'ambient-code.io/project-id': 'p1',
    })
    expect(d.object.metadata.annotations?.note).toBe('hello world')
    expect(JSON.parse(d.object.metadata.annotations?.['ambient-code.io/session-metadata-keys'] ?? '')).toEqual({
      labels: ['example.com/tier', 'team'],
      annotations: ['note'],
    })
  })

  it('does not let session labels override the managed ones', () => {
    const d = ok(session({labels: '{"ambient-code.io/managed":"false","ambient-code.io/session-id":"other"}'}))
    expect(d.object.metadata.labels?.['ambient-code.io/managed']).toBe('true')
    expect(d.object.metadata.labels?.['ambient-code.io/session-id']).toBe('2zX9aBcDeFgHiJkLmNoPqRsTuVw')
    expect(d.object.metadata.annotations).toBeUndefined()
    expect(ok(session()).object.metadata.labels).not.toHaveProperty('ambient-code.io/project-id')
  })
})

describe('specDrift', () => {
  const base = session({
    kube_cr_name: 's1',
    prompt: 'p',
    repos: '[{"url":"https://g/a","branch":"main"},{"url":"https://g/b","branch":"dev","autoPush":true}]',
    llm_model: 'm',
    environment_variables: '{"A":"1"}',
    labels: '{"team":"a"}',
  })

  it('reports nothing for what the API server defaulted', async () => {
    const desired = ok(base).object
    const stored = await serverStored(desired)
    expect(stored.spec?.timeout).toBe(300)
    expect(stored.spec?.repos?.[0].autoPush).toBe(false)
    expect(specDrift(desired, stored)).toEqual([])
    const noRepos = ok(session()).object
    expect(specDrift(noRepos, await serverStored(noRepos))).toEqual([])
  })

  it('reports the timeout when it differs from the default it would get', async () => {
    const stored = await serverStored(ok(base).object)
    stored.spec = {...stored.spec, timeout: 600}
    const drift = specDrift(ok(base).object, stored)
    expect(drift).toEqual([{path: 'spec.timeout', segments: ['spec', 'timeout'], desired: 300, actual: 600}])
  })

  it('reports edits field by field and builds a merge patch that removes what is gone', async () => {
    const stored = await serverStored(ok(base).object)
    const edited = ok(
      session({
        ...base,
        prompt: undefined,
        timeout: 60,
        llm_model: undefined,
        llm_max_tokens: 10,
        environment_variables: '{"B":"2"}',
        labels: '{"tier":"x"}',
      }),
    ).object
    stored.metadata.labels = {...stored.metadata.labels, 'someone-else': 'keep'}
    const drift = specDrift(edited, stored)
    expect(drift.map((d) => d.path).sort()).toEqual(
      [
        'spec.initialPrompt',
        'spec.timeout',
        'spec.llmSettings.maxTokens',
        'spec.llmSettings.model',
        'spec.environmentVariables.A',
        'spec.environmentVariables.B',
        'metadata.labels.team',
        'metadata.labels.tier',
        'metadata.annotations["ambient-code.io/session-metadata-keys"]',
      ].sort(),
    )
    expect(driftPatch(drift)).toEqual({
      // The model the session no longer sets becomes the CRD's default, written explicitly.
      spec: {
        initialPrompt: null,
        timeout: 60,
        llmSettings: {model: 'claude-3-7-sonnet-latest', maxTokens: 10},
        environmentVariables: {A: null, B: '2'},
      },
      metadata: {
        labels: {team: null, tier: 'x'},
        annotations: {'ambient-code.io/session-metadata-keys': JSON.stringify({labels: ['tier'], annotations: []})},
      },
    })
  })

  it('ignores labels, annotations and spec fields other writers own', async () => {
    const stored = await serverStored(ok(base).object)
    stored.metadata.labels = {...stored.metadata.labels, extra: 'x'}
    stored.metadata.annotations = {...stored.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': '{}'}
    stored.spec = {...stored.spec, inactivityTimeout: 30, activeWorkflow: {gitUrl: 'g'}, userContext: {displayName: 'D', groups: ['g']}}
    expect(specDrift(ok(base).object, stored)).toEqual([])
  })

  it('reports nothing for llmSettings the server completed with its defaults', async () => {
    for (const llm of [
      {llm_model: 'sonnet'},
      {llm_temperature: 0.2},
      {llm_max_tokens: 10},
      {llm_model: 'sonnet', llm_temperature: 0.7, llm_max_tokens: 4000},
    ]) {
      const desired = ok(session({llm_model: undefined, ...llm})).object
      const stored = await serverStored(desired)
      expect(Object.keys(stored.spec?.llmSettings ?? {}).sort()).toEqual(['maxTokens', 'model', 'temperature'])
      expect(specDrift(desired, stored), JSON.stringify(llm)).toEqual([])
    }
  })

  it('removes llmSettings as a whole once the session sets none (clearing keys would be refilled)', async () => {
    const stored = await serverStored(ok(session({llm_model: 'sonnet', llm_temperature: 0.2})).object)
    const drift = specDrift(ok(session()).object, stored)
    expect(drift.map((d) => d.path)).toEqual(['spec.llmSettings'])
    expect(driftPatch(drift)).toEqual({spec: {llmSettings: null}})
    const after = await serverStored({...stored, spec: {...stored.spec, llmSettings: undefined}})
    expect(specDrift(ok(session()).object, after)).toEqual([])
  })

  it('treats a repo list change as one atomic field', async () => {
    const stored = await serverStored(ok(base).object)
    const changed = ok(session({...base, repos: '[{"url":"https://g/a","branch":"main"}]'})).object
    const drift = specDrift(changed, stored)
    expect(drift.map((d) => d.path)).toEqual(['spec.repos'])
    expect(driftPatch(drift)).toEqual({spec: {repos: [{url: 'https://g/a', branch: 'main', autoPush: false}]}})
  })
})

describe('statusToApi / statusPatchNeeded', () => {
  const cr = {
    metadata: {name: 's1', namespace: 'team-a', uid: 'uid-1'},
    status: {
      phase: 'Running',
      startTime: '2026-03-01T10:00:00Z',
      sdkSessionId: 'sdk-1',
      sdkRestartCount: 2,
      conditions: [{type: 'Ready', status: 'True' as const, lastTransitionTime: '2026-03-01T10:00:01Z', observedGeneration: 1}],
      reconciledRepos: [{url: 'https://g/a', status: 'Cloned'}],
      reconciledWorkflow: {gitUrl: 'g', status: 'Active'},
    },
  }

  it('maps the CR status and identity', () => {
    expect(statusToApi(cr.status, cr)).toEqual({
      kube_cr_uid: 'uid-1',
      kube_namespace: 'team-a',
      phase: 'Running',
      start_time: '2026-03-01T10:00:00.000000Z',
      sdk_session_id: 'sdk-1',
      sdk_restart_count: 2,
      conditions: JSON.stringify(cr.status.conditions),
      reconciled_repos: JSON.stringify(cr.status.reconciledRepos),
      reconciled_workflow: JSON.stringify(cr.status.reconciledWorkflow),
    })
    expect(statusToApi(undefined, {metadata: {uid: 'u', namespace: 'n'}})).toEqual({kube_cr_uid: 'u', kube_namespace: 'n', conditions: '[]'})
  })

  it('does not see the echo of its own write as a change', () => {
    const patch = statusToApi(cr.status, cr)
    // The server re-serialises: other key order, other timestamp precision.
    const echoed = session({
      kube_cr_uid: 'uid-1',
      kube_namespace: 'team-a',
      phase: 'Running',
      start_time: '2026-03-01T10:00:00.000Z',
      sdk_session_id: 'sdk-1',
      sdk_restart_count: 2,
      conditions: '[{"observedGeneration":1,"lastTransitionTime":"2026-03-01T10:00:01.000000Z","status":"True","type":"Ready"}]',
      reconciled_repos: '[{"status":"Cloned","url":"https://g/a"}]',
      reconciled_workflow: '{"status":"Active","gitUrl":"g"}',
    })
    expect(statusPatchNeeded(echoed, patch)).toBe(false)
    expect(statusPatchNeeded(session(), statusToApi(undefined, {metadata: {}}))).toBe(false)
  })

  it('returns only what changed', () => {
    const patch = statusToApi({...cr.status, phase: 'Completed', completionTime: '2026-03-01T11:00:00+01:00'}, cr)
    const current = session({...statusToApi(cr.status, cr)})
    expect(statusPatchDiff(current, patch)).toEqual({phase: 'Completed', completion_time: '2026-03-01T10:00:00.000000Z'})
    expect(statusPatchDiff(session({conditions: 'garbage'}), {conditions: '[]'})).toEqual({conditions: '[]'})
    expect(statusPatchDiff(session({conditions: '[{"type":"Reconciled","status":"False"}]'}), {conditions: '[]'})).toEqual({conditions: '[]'})
  })

  it('withCondition keeps the transition time while the status holds', () => {
    const first = withCondition(undefined, {type: 'Reconciled', status: 'False', reason: 'InvalidSpec', message: 'a'}, '2026-01-01T00:00:00.000000Z')
    const again = withCondition(first, {type: 'Reconciled', status: 'False', reason: 'InvalidSpec', message: 'b'}, '2026-02-01T00:00:00.000000Z')
    expect(JSON.parse(again)).toEqual([
      {type: 'Reconciled', status: 'False', reason: 'InvalidSpec', message: 'b', lastTransitionTime: '2026-01-01T00:00:00.000000Z'},
    ])
    const flipped = withCondition(again, {type: 'Reconciled', status: 'True'}, '2026-03-01T00:00:00.000000Z')
    expect(JSON.parse(flipped)[0].lastTransitionTime).toBe('2026-03-01T00:00:00.000000Z')
    expect(JSON.parse(withCondition('[{"type":"Other","status":"True"}]', {type: 'Reconciled', status: 'True'}, 't'))).toHaveLength(2)
  })
})

const project = (fields: Partial<Project> = {}): Project => ({...meta, kind: 'Project', id: 'p-123', name: 'Payments', ...fields})
const settings = (fields: Partial<ProjectSettings> = {}): ProjectSettings => ({
  ...meta,
  kind: 'ProjectSettings',
  id: 's-9',
  project_id: 'p-123',
  ...fields,
})

describe('desiredNamespace', () => {
  it('is the lower-cased project name with the managed labels', () => {
    const d = desiredNamespace(project())
    expect(d).toEqual({
      ok: true,
      name: 'payments',
      object: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'payments',
          labels: {'ambient-code.io/managed': 'true', 'ambient-code.io/project-id': 'p-123', 'ambient-code.io/managed-by': 'ambient-control-plane'},
        },
      },
    })
  })

  it('rejects a project name that is not an RFC 1123 label', () => {
    const d = desiredNamespace(project({name: 'My Project'}))
    expect(d.ok).toBe(false)
    if (!d.ok) expect(d.reason).toBe('InvalidName')
  })
})

describe('desiredRoleBindings', () => {
  it('makes one binding per group_access entry', () => {
    const d = desiredRoleBindings(
      settings({group_access: '[{"group":"devs","role":"edit"},{"group":"ops","role":"admin"},{"group":"devs","role":"edit"}]'}),
      project(),
    )
    if (!d.ok) throw new Error(d.message)
    expect(d.namespace).toBe('payments')
    expect(d.bindings.map((b) => b.metadata.name)).toEqual(['ambient-devs-edit', 'ambient-ops-admin'])
    expect(d.bindings[0]).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {
        name: 'ambient-devs-edit',
        namespace: 'payments',
        labels: {
          'ambient-code.io/managed': 'true',
          'ambient-code.io/managed-by': 'ambient-control-plane',
          'ambient-code.io/project-id': 'p-123',
          'ambient-code.io/project-settings-id': 's-9',
        },
      },
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit'},
      subjects: [{kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs'}],
    })
    expect(desiredRoleBindings(settings(), project())).toEqual({ok: true, namespace: 'payments', bindings: []})
  })

  it('sanitises names that are not valid and keeps distinct pairs distinct', () => {
    const a = roleBindingName('Team_A', 'edit')
    const b = roleBindingName('team-a', 'edit')
    const c = roleBindingName('team.a', 'edit')
    expect(b).toBe('ambient-team-a-edit')
    expect(a).toMatch(/^ambient-team-a-edit-[0-9a-f]{8}$/)
    expect(new Set([a, b, c]).size).toBe(3)
    const long = roleBindingName('g'.repeat(100), 'view')
    expect(long.length).toBeLessThanOrEqual(63)
    expect(long).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/)
  })

  it.each(['not json', '{"group":"a","role":"b"}', '[{"group":"a"}]', '[{"group":"","role":"x"}]', '[{"group":"a","role":"a/b"}]'])(
    'rejects group_access %s',
    (group_access) => {
      const d = desiredRoleBindings(settings({group_access}), project())
      expect(d.ok).toBe(false)
      if (!d.ok) {
        expect(d.reason).toBe('InvalidSpec')
        expect(d.fields).toEqual(['group_access'])
      }
    },
  )

  it('roleBindingAction: recreate on a roleRef or subject change, patch missing labels', () => {
    const d = desiredRoleBindings(settings({group_access: '[{"group":"devs","role":"edit"}]'}), project())
    if (!d.ok) throw new Error(d.message)
    const want = d.bindings[0]
    expect(roleBindingAction(want, structuredClone(want))).toBe('none')
    expect(roleBindingAction(want, {...structuredClone(want), roleRef: {...want.roleRef, name: 'admin'}})).toBe('recreate')
    expect(
      roleBindingAction(want, {...structuredClone(want), subjects: [{kind: 'Group', name: 'other', apiGroup: 'rbac.authorization.k8s.io'}]}),
    ).toBe('recreate')
    expect(roleBindingAction(want, {...structuredClone(want), metadata: {...want.metadata, labels: {}}})).toBe('patch-labels')
  })
})
