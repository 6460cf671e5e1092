// Contract section 2, the unary calls of SessionService, ProjectService and
// ProjectSettingsService against the embedded server (UserService: users.test.ts; watch
// streams are covered elsewhere).
import {Metadata} from '@grpc/grpc-js'
import {describe, expect, it} from 'vitest'
import type {Project} from '../../src/gen/ambient/v1/projects.js'
import type {ProjectSettings} from '../../src/gen/ambient/v1/project_settings.js'
import type {Session} from '../../src/gen/ambient/v1/sessions.js'
import {authMetadata, call, grpcFailure, grpcStatus, projectName, useServerWithGrpc, unary, USERNAME, type GrpcClients} from './helpers.js'

const ctx = useServerWithGrpc()

const md = () => authMetadata()
const createSession = (req: Partial<Parameters<GrpcClients['sessions']['createSession']>[0]>) =>
  unary<Session>((cb) => ctx.grpc.sessions.createSession({name: 'grpc', ...req}, md(), cb))
const createProject = (name: string) => unary<Project>((cb) => ctx.grpc.projects.createProject({name}, md(), cb))
const micros = (ts: {seconds: number; nanos: number} | undefined) => (ts ? ts.seconds * 1e6 + Math.floor(ts.nanos / 1000) : 0)

describe('contract 2: SessionService unary calls', () => {
  it('2 CreateSession sets created_by_user_id from the caller identity, not from field 4', async () => {
    expect((await createSession({})).created_by_user_id).toBe(USERNAME)
    expect((await createSession({created_by_user_id: 'mallory'})).created_by_user_id).toBe(USERNAME)
  })

  it('2 CreateSession assigns the id, sets kube_cr_name to it and fills llm_model sonnet, llm_temperature 0.7, llm_max_tokens 4000 when absent', async () => {
    const s = await createSession({})
    expect(s.metadata?.id).toMatch(/\S/)
    expect(s.metadata?.kind).toBe('Session')
    expect(s.kube_cr_name).toBe(s.metadata?.id)
    expect(s).toMatchObject({llm_model: 'sonnet', llm_temperature: 0.7, llm_max_tokens: 4000})
    expect(await createSession({llm_model: 'opus', llm_temperature: 0, llm_max_tokens: 1})).toMatchObject({
      llm_model: 'opus',
      llm_temperature: 0,
      llm_max_tokens: 1,
    })
  })

  it('2 CreateSession requires a name', async () => {
    expect((await grpcFailure(createSession({name: ''}))).code).toBe(grpcStatus.INVALID_ARGUMENT)
  })

  it('2 GetSession returns the Session; an absent id is NOT_FOUND, an empty one INVALID_ARGUMENT', async () => {
    const s = await createSession({prompt: 'p'})
    expect(await unary<Session>((cb) => ctx.grpc.sessions.getSession({id: s.metadata?.id ?? ''}, md(), cb))).toEqual(s)
    expect((await grpcFailure(unary((cb) => ctx.grpc.sessions.getSession({id: 'absent'}, md(), cb)))).code).toBe(grpcStatus.NOT_FOUND)
    expect((await grpcFailure(unary((cb) => ctx.grpc.sessions.getSession({id: ''}, md(), cb)))).code).toBe(grpcStatus.INVALID_ARGUMENT)
  })

  it('2 UpdateSession changes the fields that are set and keeps the others', async () => {
    const s = await createSession({prompt: 'keep', timeout: 5})
    const u = await unary<Session>((cb) =>
      ctx.grpc.sessions.updateSession({id: s.metadata?.id ?? '', name: 'renamed', llm_temperature: 0.1}, md(), cb),
    )
    expect(u).toMatchObject({name: 'renamed', prompt: 'keep', timeout: 5, llm_temperature: 0.1})
    expect(micros(u.metadata?.updated_at)).toBeGreaterThan(micros(s.metadata?.updated_at))
  })

  it('2 UpdateSession cannot move a session to another project (INVALID_ARGUMENT); its own project_id is accepted', async () => {
    const s = await createSession({project_id: 'home'})
    const id = s.metadata?.id ?? ''
    const err = await grpcFailure(unary((cb) => ctx.grpc.sessions.updateSession({id, project_id: 'away'}, md(), cb)))
    expect(err.code).toBe(grpcStatus.INVALID_ARGUMENT)
    expect(err.details).toContain('immutable')
    expect(await unary<Session>((cb) => ctx.grpc.sessions.updateSession({id, project_id: 'home', prompt: 'x'}, md(), cb))).toMatchObject({
      project_id: 'home',
      prompt: 'x',
    })
  })

  it('2 UpdateSessionStatus writes status fields and returns the Session with a new updated_at', async () => {
    const s = await createSession({})
    const id = s.metadata?.id ?? ''
    const u = await unary<Session>((cb) =>
      ctx.grpc.sessions.updateSessionStatus(
        {id, phase: 'Running', kube_cr_uid: 'uid', sdk_restart_count: 1, start_time: {seconds: 100, nanos: 5000}},
        md(),
        cb,
      ),
    )
    expect(u).toMatchObject({phase: 'Running', kube_cr_uid: 'uid', sdk_restart_count: 1, start_time: {seconds: 100, nanos: 5000}, name: 'grpc'})
    expect(micros(u.metadata?.updated_at)).toBeGreaterThan(micros(s.metadata?.updated_at))
    expect((await grpcFailure(unary((cb) => ctx.grpc.sessions.updateSessionStatus({id}, md(), cb)))).code).toBe(grpcStatus.INVALID_ARGUMENT)
    expect((await grpcFailure(unary((cb) => ctx.grpc.sessions.updateSessionStatus({id, phase: 'Exploded'}, md(), cb)))).code).toBe(
      grpcStatus.INVALID_ARGUMENT,
    )
  })

  it('2 DeleteSession deletes and answers the empty DeleteSessionResponse', async () => {
    const s = await createSession({})
    const id = s.metadata?.id ?? ''
    expect(await unary((cb) => ctx.grpc.sessions.deleteSession({id}, md(), cb))).toEqual({})
    expect((await grpcFailure(unary((cb) => ctx.grpc.sessions.getSession({id}, md(), cb)))).code).toBe(grpcStatus.NOT_FOUND)
  })

  it('2 ListSessions answers items and ListMeta {page, size = items sent, total}', async () => {
    for (let i = 0; i < 4; i++) await createSession({})
    const before = await unary<{metadata?: {total: number}}>((cb) => ctx.grpc.sessions.listSessions({page: 1, size: 1}, md(), cb))
    const total = before.metadata?.total ?? 0
    const page = await unary<{items: Session[]; metadata?: {page: number; size: number; total: number}}>((cb) =>
      ctx.grpc.sessions.listSessions({page: 2, size: 2}, md(), cb),
    )
    expect(page.metadata).toEqual({page: 2, size: 2, total})
    // A short page: size is what was sent, not what was asked for.
    const all = await unary<{items: Session[]; metadata?: {page: number; size: number; total: number}}>((cb) =>
      ctx.grpc.sessions.listSessions({page: 1, size: total + 5}, md(), cb),
    )
    expect(all.metadata).toEqual({page: 1, size: total, total})
    expect(all.items).toHaveLength(total)
  })

  it('2 a call without the bearer token, or with a wrong one, is UNAUTHENTICATED', async () => {
    expect((await grpcFailure(unary((cb) => ctx.grpc.sessions.listSessions({page: 1, size: 1}, new Metadata(), cb)))).code).toBe(
      grpcStatus.UNAUTHENTICATED,
    )
    expect((await grpcFailure(unary((cb) => ctx.grpc.sessions.listSessions({page: 1, size: 1}, authMetadata('wrong'), cb)))).code).toBe(
      grpcStatus.UNAUTHENTICATED,
    )
  })
})

describe('contract 2: ProjectService and ProjectSettingsService unary calls', () => {
  it("2 CreateProject sets the project's id to its name", async () => {
    const name = projectName('grpc')
    const p = await createProject(name)
    expect(p.metadata?.id).toBe(name)
    expect(await unary<Project>((cb) => ctx.grpc.projects.getProject({id: name}, md(), cb))).toEqual(p)
  })

  it('2 gRPC and REST validate project names the same way (same refusals, same reason)', async () => {
    for (const name of ['', 'a', 'Team', '9lives', 'ends-', 'under_score', 'a'.repeat(64)]) {
      const rest = await call(ctx.server, 'POST', '/projects', {body: {name}})
      const grpcErr = await grpcFailure(createProject(name))
      expect(rest.status, name).toBe(400)
      expect(grpcErr.code, name).toBe(grpcStatus.INVALID_ARGUMENT)
      expect(grpcErr.details, name).toBe((rest.json as {reason: string}).reason)
    }
    const p = await createProject(projectName('rn'))
    const restRename = await call(ctx.server, 'PATCH', `/projects/${p.metadata?.id ?? ''}`, {body: {name: 'Bad Name'}})
    const grpcRename = await grpcFailure(unary((cb) => ctx.grpc.projects.updateProject({id: p.metadata?.id ?? '', name: 'Bad Name'}, md(), cb)))
    expect(grpcRename.details).toBe((restRename.json as {reason: string}).reason)
  })

  it('2 a second project with the same name is ALREADY_EXISTS', async () => {
    const name = projectName('dup')
    await createProject(name)
    expect((await grpcFailure(createProject(name))).code).toBe(grpcStatus.ALREADY_EXISTS)
  })

  it('2 ProjectService: UpdateProject, ListProjects and DeleteProject', async () => {
    const p = await createProject(projectName('crud'))
    const id = p.metadata?.id ?? ''
    expect(await unary<Project>((cb) => ctx.grpc.projects.updateProject({id, description: 'd', status: 'Active'}, md(), cb))).toMatchObject({
      description: 'd',
      status: 'Active',
      name: p.name,
    })
    const listed = await unary<{items: Project[]}>((cb) => ctx.grpc.projects.listProjects({page: 1, size: 500}, md(), cb))
    expect(listed.items.map((x) => x.metadata?.id)).toContain(id)
    expect(await unary((cb) => ctx.grpc.projects.deleteProject({id}, md(), cb))).toEqual({})
    expect((await grpcFailure(unary((cb) => ctx.grpc.projects.getProject({id}, md(), cb)))).code).toBe(grpcStatus.NOT_FOUND)
  })

  it('2 ProjectSettingsService: Create, Get, Update, List and Delete; one settings object per project', async () => {
    const project = await createProject(projectName('ps'))
    const projectId = project.metadata?.id ?? ''
    const created = await unary<ProjectSettings>((cb) =>
      ctx.grpc.settings.createProjectSettings({project_id: projectId, group_access: '[]'}, md(), cb),
    )
    const id = created.metadata?.id ?? ''
    expect(created).toMatchObject({project_id: projectId, group_access: '[]'})
    expect((await grpcFailure(unary((cb) => ctx.grpc.settings.createProjectSettings({project_id: projectId}, md(), cb)))).code).toBe(
      grpcStatus.ALREADY_EXISTS,
    )
    expect((await grpcFailure(unary((cb) => ctx.grpc.settings.createProjectSettings({project_id: ''}, md(), cb)))).code).toBe(
      grpcStatus.INVALID_ARGUMENT,
    )
    expect(await unary<ProjectSettings>((cb) => ctx.grpc.settings.getProjectSettings({id}, md(), cb))).toEqual(created)
    expect(
      await unary<ProjectSettings>((cb) => ctx.grpc.settings.updateProjectSettings({id, repositories: '[{"url":"u"}]'}, md(), cb)),
    ).toMatchObject({group_access: '[]', repositories: '[{"url":"u"}]'})
    const listed = await unary<{items: ProjectSettings[]}>((cb) => ctx.grpc.settings.listProjectSettings({page: 1, size: 500}, md(), cb))
    expect(listed.items.map((x) => x.metadata?.id)).toContain(id)
    expect(await unary((cb) => ctx.grpc.settings.deleteProjectSettings({id}, md(), cb))).toEqual({})
  })
})
