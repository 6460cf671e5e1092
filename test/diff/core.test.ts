// The pure comparisons behind `ambient diff`, case by case: each decision of the reconcilers
// that the end-to-end tests do not reach, and the renderers.
import {describe, expect, it} from 'vitest'
import type {Project, ProjectSettings, Session} from '../../src/lib/api/types.js'
import {
  diffKube,
  diffLocal,
  renderEntry,
  renderNdjson,
  renderText,
  summarize,
  type DiffEntry,
  type DiffResource,
  type KubeActualState,
} from '../../src/lib/diff/index.js'
import {diffLines} from '../../src/lib/diff/line-diff.js'
import {LABEL_PROJECT_ID, LABEL_SESSION_ID, type AgenticSession, type NamespaceObject, type RoleBindingObject} from '../../src/lib/kube/types.js'
import {
  applyCrdDefaults,
  desiredAgenticSession,
  desiredNamespace,
  desiredRoleBindings,
  managedLabels,
  statusToApi,
} from '../../src/lib/reconcilers/kube/desired.js'

const T0 = '2026-01-01T00:00:00.000000Z'
let seq = 0

function session(fields: Partial<Session> & {name: string}): Session {
  seq++
  return {id: `s${seq}`, kind: 'Session', href: `/sessions/s${seq}`, created_at: T0, updated_at: T0, ...fields}
}

function project(name: string, id = name): Project {
  return {id, kind: 'Project', href: `/projects/${id}`, created_at: T0, updated_at: T0, name}
}

function settings(projectId: string, groupAccess: unknown, id = `ps-${projectId}`): ProjectSettings {
  return {
    id,
    kind: 'ProjectSettings',
    href: `/project_settings/${id}`,
    created_at: T0,
    updated_at: T0,
    project_id: projectId,
    group_access: JSON.stringify(groupAccess),
  }
}

/** The CR as the API server stores it after the reconciler's create: defaults filled, uid set. */
function crFor(s: Session, projects: Project[] = [], status?: AgenticSession['status']): AgenticSession {
  const d = desiredAgenticSession(s, {projectNamespace: (id) => projects.find((p) => p.id === id)?.name.toLowerCase()})
  if (!d.ok) throw new Error(d.message)
  return {
    ...d.object,
    metadata: {...d.object.metadata, uid: `uid-${s.id}`, resourceVersion: '1', generation: 1},
    spec: applyCrdDefaults(d.object.spec),
    ...(status ? {status} : {}),
  }
}

/** The session after the control plane copied the CR's status back. */
function copied(s: Session, cr: AgenticSession): Session {
  return {...s, ...statusToApi(cr.status, cr)}
}

function kubeDiff(
  sessions: Session[],
  crs: AgenticSession[],
  more: Partial<KubeActualState> & {projects?: Project[]; settings?: ProjectSettings[]; project?: string; resources?: DiffResource[]} = {},
): DiffEntry[] {
  return diffKube({
    desired: {sessions, projects: more.projects ?? [], projectSettings: more.settings ?? []},
    actual: {agenticSessions: crs, namespaces: more.namespaces ?? [], roleBindings: more.roleBindings ?? []},
    resources: more.resources ?? ['sessions', 'projects', 'project_settings'],
    project: more.project,
  })
}

const brief = (entries: DiffEntry[]) => entries.map((e) => `${e.action} ${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name ?? ''}`)

describe('sessions vs AgenticSessions', () => {
  it('shows nothing for a converged session, whatever the CRD defaulted', () => {
    const s = session({name: 'a', repos: '[{"url":"https://g/x"}]', labels: '{"team":"a"}'})
    const cr = crFor(s, [], {phase: 'Running', startTime: '2026-01-01T01:00:00Z'})
    expect(kubeDiff([copied(s, cr)], [cr])).toEqual([])
  })

  it('forwards a stop to the CR status and does not copy the old phase back', () => {
    const s = session({name: 'a'})
    const cr = crFor(s, [], {phase: 'Running'})
    const entries = kubeDiff([{...copied(s, cr), phase: 'Stopping'}], [cr])
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({
      action: 'update',
      reason: 'StopRequested',
      fields: [{path: 'status.phase', desired: 'Stopping', actual: 'Running'}],
    })
  })

  it('forwards a restart (Pending after the CR finished)', () => {
    const s = session({name: 'a'})
    const cr = crFor(s, [], {phase: 'Completed', completionTime: '2026-01-01T02:00:00Z'})
    const restarted = {...copied(s, cr), phase: 'Pending', completion_time: undefined, updated_at: '2026-01-01T03:00:00.000000Z'}
    expect(kubeDiff([restarted], [cr])).toEqual([
      expect.objectContaining({
        action: 'update',
        reason: 'RestartRequested',
        fields: [expect.objectContaining({path: 'status.phase', desired: 'Pending'})],
      }),
    ])
  })

  it('keeps the CR found by label when the project was renamed, and deletes duplicates', () => {
    const p = project('Team', 'p1')
    const s = session({name: 'a', project_id: 'p1'})
    const cr = crFor(s, [p])
    const dup = {...cr, metadata: {...cr.metadata, namespace: 'elsewhere', uid: 'dup'}}
    // Renamed: the desired namespace is now "renamed", the CR stays in "team".
    const entries = kubeDiff([copied(s, cr)], [cr, dup], {projects: [project('Renamed', 'p1')]})
    expect(brief(entries.filter((e) => e.resource === 'sessions'))).toEqual([`delete AgenticSession elsewhere/${s.id}`])
    expect(entries[0]).toMatchObject({reason: 'Duplicate'})
  })

  it('reports a CR name taken by another live session as invalid, by a deleted one as delete + create', () => {
    const a = session({name: 'a'})
    const b = session({name: 'b', kube_cr_name: a.id})
    const crA = crFor(a)
    expect(brief(kubeDiff([copied(a, crA), b], [crA]))).toEqual([`invalid AgenticSession default/${a.id}`])
    expect(kubeDiff([copied(a, crA), b], [crA])[0]).toMatchObject({id: b.id, reason: 'NameConflict'})
    expect(brief(kubeDiff([b], [crA]))).toEqual([`delete AgenticSession default/${a.id}`, `create AgenticSession default/${a.id}`])
  })

  it('keeps the CR of an invalid session (not an orphan) and reports why it is invalid', () => {
    const s = session({name: 'a'})
    const cr = crFor(s)
    const entries = kubeDiff([{...copied(s, cr), environment_variables: '[1]'}], [cr])
    expect(entries).toEqual([
      expect.objectContaining({action: 'invalid', reason: 'InvalidSpec', message: expect.stringContaining('environment_variables')}),
    ])
  })

  it('reports a vanished CR of a stopping session as Stopped, of a terminal one as nothing', () => {
    const s = session({name: 'a'})
    const cr = crFor(s, [], {phase: 'Running'})
    expect(kubeDiff([{...copied(s, cr), phase: 'Stopping'}], [])[0]).toMatchObject({
      action: 'status',
      fields: [{path: 'phase', desired: 'Stopped', actual: 'Stopping'}],
    })
    expect(kubeDiff([{...copied(s, cr), phase: 'Completed'}], [])).toEqual([])
  })

  it('drops an old Reconciled=False verdict of a finished, valid session with no CR', () => {
    const conditions = JSON.stringify([{type: 'Reconciled', status: 'False', reason: 'InvalidSpec', message: 'x', lastTransitionTime: T0}])
    const entries = kubeDiff([session({name: 'a', phase: 'Failed', conditions})], [])
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'status',
        fields: [expect.objectContaining({path: 'conditions', desired: [], actual: [expect.objectContaining({type: 'Reconciled'})]})],
      }),
    ])
  })

  it('shows label and annotation drift only for the keys the session owns', () => {
    const s = session({name: 'a', labels: '{"team":"a","gone":"x"}'})
    const cr = crFor(s)
    cr.metadata.labels = {...cr.metadata.labels, 'someone.else/added': 'y'}
    const entries = kubeDiff([{...copied(s, cr), labels: '{"team":"b"}'}], [cr])
    expect(entries).toHaveLength(1)
    expect(entries[0].fields.map((f) => [f.path, f.desired, f.actual])).toEqual([
      ['metadata.labels.gone', undefined, 'x'],
      ['metadata.labels.team', 'b', 'a'],
      [
        'metadata.annotations["ambient-code.io/session-metadata-keys"]',
        '{"labels":["team"],"annotations":[]}',
        '{"labels":["gone","team"],"annotations":[]}',
      ],
    ])
  })

  it('limits orphans to the project asked for', () => {
    const orphan = (id: string, projectId: string): AgenticSession => ({
      apiVersion: 'vteam.ambient-code/v1alpha1',
      kind: 'AgenticSession',
      metadata: {name: id, namespace: projectId, labels: managedLabels({[LABEL_SESSION_ID]: id, [LABEL_PROJECT_ID]: projectId})},
    })
    const unlabelled: AgenticSession = {metadata: {name: 'x', namespace: 'a', labels: managedLabels()}}
    const crs = [orphan('o1', 'a'), orphan('o2', 'b'), unlabelled]
    expect(brief(kubeDiff([], crs))).toEqual(['delete AgenticSession a/o1', 'delete AgenticSession b/o2'])
    expect(brief(kubeDiff([], crs, {project: 'a'}))).toEqual(['delete AgenticSession a/o1'])
    expect(brief(kubeDiff([], crs, {project: 'B-name', projects: [project('B-name', 'b')], resources: ['sessions']}))).toEqual([
      'delete AgenticSession b/o2',
    ])
  })
})

describe('projects vs Namespaces', () => {
  const p = project('Team', 'p1')
  const ns = (): NamespaceObject => {
    const d = desiredNamespace(p)
    if (!d.ok) throw new Error(d.message)
    return {...d.object, metadata: {...d.object.metadata, labels: {...d.object.metadata.labels, 'kubernetes.io/metadata.name': 'team'}}}
  }

  it('ignores labels Kubernetes adds, and namespaces of deleted projects', () => {
    expect(kubeDiff([], [], {projects: [p], namespaces: [ns()]})).toEqual([])
    expect(kubeDiff([], [], {projects: [], namespaces: [ns()]})).toEqual([])
  })

  it('creates a missing one, reports one held by another project as invalid, and an invalid name', () => {
    expect(brief(kubeDiff([], [], {projects: [p]}))).toEqual(['create Namespace team'])
    const held = ns()
    held.metadata.labels = {...held.metadata.labels, [LABEL_PROJECT_ID]: 'other'}
    expect(kubeDiff([], [], {projects: [p], namespaces: [held]})).toEqual([expect.objectContaining({action: 'invalid', reason: 'NamespaceConflict'})])
    expect(kubeDiff([], [], {projects: [project('no spaces', 'p2')]})).toEqual([
      expect.objectContaining({action: 'invalid', reason: 'InvalidName', name: 'no spaces'}),
    ])
  })
})

describe('project settings vs RoleBindings', () => {
  const p = project('team', 'p1')
  const only = ['project_settings'] as DiffResource[]
  const bindings = (ps: ProjectSettings): RoleBindingObject[] => {
    const d = desiredRoleBindings(ps, p)
    if (!d.ok) throw new Error(d.message)
    return d.bindings
  }

  it('replaces a binding whose subject changed, shows missing labels as an update', () => {
    const ps = settings('p1', [{group: 'devs', role: 'edit'}])
    const [rb] = bindings(ps)
    const otherSubject = {...rb, subjects: [{kind: 'User', name: 'mallory', apiGroup: 'rbac.authorization.k8s.io'}]}
    expect(kubeDiff([], [], {projects: [p], settings: [ps], roleBindings: [otherSubject], resources: only})[0]).toMatchObject({
      action: 'update',
      replace: true,
      fields: [{path: 'subjects'}],
    })
    const unlabelled = {...rb, metadata: {...rb.metadata, labels: managedLabels()}}
    expect(kubeDiff([], [], {projects: [p], settings: [ps], roleBindings: [unlabelled], resources: only})[0]).toMatchObject({
      action: 'update',
      fields: [{path: 'metadata.labels["ambient-code.io/project-id"]'}, {path: 'metadata.labels["ambient-code.io/project-settings-id"]'}],
    })
    // Server fields and labels others add are not drift.
    const stored = {...rb, metadata: {...rb.metadata, uid: 'u1', resourceVersion: '7', labels: {...rb.metadata.labels, extra: 'x'}}}
    expect(kubeDiff([], [], {projects: [p], settings: [ps], roleBindings: [stored], resources: only})).toEqual([])
  })

  it('reports settings of an unknown project and malformed group_access as invalid', () => {
    expect(kubeDiff([], [], {settings: [settings('nope', [])]})).toEqual([expect.objectContaining({action: 'invalid', reason: 'ProjectMissing'})])
    const bad = {...settings('p1', []), group_access: '{"group":"x"}'}
    expect(kubeDiff([], [], {projects: [p], settings: [bad], resources: only})).toEqual([
      expect.objectContaining({action: 'invalid', reason: 'InvalidSpec'}),
    ])
  })
})

describe('local mode', () => {
  const runner = (sessionId: string, alive = true) => ({sessionId, pid: 1234, port: 9100, alive})

  it('leaves kube sessions, healthy runners and in-flight health checks alone', () => {
    // Every session has a kube_cr_name (the real server sets it); only kube_cr_uid means a CR exists.
    const sessions = [
      session({name: 'k', phase: 'Running', kube_cr_uid: 'uid-k'}),
      session({name: 'r', phase: 'Running', kube_cr_name: 'r'}),
      session({name: 'c', phase: 'Creating'}),
    ]
    expect(diffLocal({sessions, runners: [runner(sessions[1].id), runner(sessions[2].id)]})).toEqual([])
    // A kube_cr_name alone does not hand a session to Kubernetes: its missing runner is reported.
    expect(diffLocal({sessions: [session({name: 'n', phase: 'Pending', kube_cr_name: 'n'})], runners: []})).toEqual([
      expect.objectContaining({action: 'create', reason: 'RunnerMissing'}),
    ])
  })

  it('reports a spawned runner whose phase was not advanced, and a session that cannot get a workspace', () => {
    const pending = session({name: 'p', phase: 'Pending'})
    const bad = {...session({name: 'bad'}), id: '../escape'}
    const entries = diffLocal({sessions: [pending, bad], runners: [runner(pending.id)]})
    expect(entries.map((e) => [e.action, e.id, e.reason])).toEqual([
      ['invalid', '../escape', 'InvalidSession'],
      ['status', pending.id, 'RunnerSpawned'],
    ])
    expect(diffLocal({sessions: [session({name: 'x', phase: 'Stopping'})], runners: []})[0]).toMatchObject({
      action: 'status',
      fields: [{path: 'phase', desired: 'Stopped'}],
    })
  })
})

describe('rendering', () => {
  const entry: DiffEntry = {
    action: 'update',
    resource: 'sessions',
    id: 'S1',
    kind: 'AgenticSession',
    namespace: 'team',
    name: 's1',
    fields: [
      {path: 'spec.timeout', segments: ['spec', 'timeout'], desired: 600, actual: 999},
      {path: 'spec.llmSettings.model', segments: ['spec', 'llmSettings', 'model'], desired: 'opus', actual: undefined},
    ],
  }

  it('renders -/+ lines under shared context, coloured only when asked', () => {
    const plain = renderEntry(entry)
    expect(plain).toBe(
      [
        'update AgenticSession team/s1  (session S1)',
        '--- desired AgenticSession team/s1',
        '+++ live AgenticSession team/s1',
        ' spec:',
        '-  timeout: 600',
        '-  llmSettings:',
        '-    model: opus',
        '+  timeout: 999',
      ].join('\n'),
    )
    const colored = renderEntry(entry, {color: true})
    expect(colored).toContain('\u001B[31m-  timeout: 600\u001B[0m')
    expect(colored).toContain('\u001B[32m+  timeout: 999\u001B[0m')
    expect(renderText([entry, entry]).split('\n\n')).toHaveLength(2)
  })

  it('writes NDJSON with the documented keys, absent values as null', () => {
    expect(JSON.parse(renderNdjson([entry]).trim())).toEqual({
      action: 'update',
      resource: 'sessions',
      id: 'S1',
      kind: 'AgenticSession',
      namespace: 'team',
      name: 's1',
      fields: [
        {path: 'spec.timeout', desired: 600, actual: 999},
        {path: 'spec.llmSettings.model', desired: 'opus', actual: null},
      ],
    })
    expect(Object.keys(JSON.parse(renderNdjson([entry]).trim()) as object)).toEqual([
      'action',
      'resource',
      'id',
      'kind',
      'namespace',
      'name',
      'fields',
    ])
    expect(renderNdjson([])).toBe('')
  })

  it('summarizes counts per action', () => {
    expect(summarize([])).toBe('no drift')
    expect(summarize([entry, {...entry, action: 'create'}, entry])).toBe('3 changes: 1 create, 2 update')
  })

  it('diffs lines by longest common subsequence', () => {
    expect(diffLines(['a', 'b', 'c'], ['a', 'x', 'c'])).toEqual([
      {op: ' ', text: 'a'},
      {op: '-', text: 'b'},
      {op: '+', text: 'x'},
      {op: ' ', text: 'c'},
    ])
    expect(diffLines([], ['y'])).toEqual([{op: '+', text: 'y'}])
  })
})
