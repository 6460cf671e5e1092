// The real kube-mode control plane (informers, controllers, createKubeMode's reconcilers) runs
// against the embedded API server and the fake Kubernetes API until it is idle; then `ambient
// diff` must find nothing, in-process and as the built CLI. Any disagreement between the diff
// and the reconcilers (a default, a label, a status field) fails here.
import fs from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {GrpcClient} from '../../src/lib/api/grpc.js'
import {RestClient} from '../../src/lib/api/rest.js'
import {createSources} from '../../src/lib/api/sources.js'
import type {ObjectMeta, Project, ProjectSettings, Session} from '../../src/lib/api/types.js'
import {Controller} from '../../src/lib/controller/controller.js'
import {informerCache, Manager} from '../../src/lib/controller/manager.js'
import {computeKubeDiff} from '../../src/lib/diff/index.js'
import {Informer} from '../../src/lib/informer/index.js'
import {KubeClient} from '../../src/lib/kube/client.js'
import type {AgenticSession} from '../../src/lib/kube/types.js'
import {createKubeMode, type KubeMode} from '../../src/lib/reconcilers/kube/mode.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {assertBuilt, runCli, tempConfigDir} from '../commands/helpers.js'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {until} from './helpers.js'

const TOKEN = 'diff-converge-token'
let api: ApiServer
let kube: FakeKube
let rest: RestClient
let grpc: GrpcClient
let mode: KubeMode
let reader: KubeClient
let configDir: string
let controllers: Controller<ObjectMeta>[] = []
let running: Promise<void>
const stop = new AbortController()

beforeAll(async () => {
  assertBuilt(['diff'])
  kube = await startFakeKube({namespaces: ['default', 'ambient-code']})
  api = await startApiServer({port: 0, grpcPort: 0, token: TOKEN})
  rest = new RestClient({baseUrl: api.url, token: () => TOKEN})
  grpc = new GrpcClient({address: api.grpcAddress, tls: false, token: () => TOKEN})
  reader = new KubeClient({kubeConfig: kube.kubeConfig()})
  configDir = tempConfigDir()
  const sources = createSources({rest, grpc, watch: 'stream'})
  const informers = {
    sessions: new Informer<Session>({source: sources.sessions}),
    projects: new Informer<Project>({source: sources.projects}),
    project_settings: new Informer<ProjectSettings>({source: sources.project_settings}),
  }
  mode = createKubeMode({namespace: 'ambient-code', kubeConfig: kube.kubeConfig(), rest, informers, cacheBackoff: {initialMs: 20, maxMs: 500}})
  const sessions = new Controller<Session>({name: 'sessions', informer: informers.sessions, reconciler: mode.reconcilers.sessions, workers: 2})
  const projects = new Controller<Project>({name: 'projects', informer: informers.projects, reconciler: mode.reconcilers.projects})
  const settings = new Controller<ProjectSettings>({
    name: 'project_settings',
    informer: informers.project_settings,
    reconciler: mode.reconcilers.project_settings,
  })
  controllers = [sessions, projects, settings] as unknown as Controller<ObjectMeta>[]
  mode.connect({sessions: (id) => sessions.enqueue(id), project_settings: (id) => settings.enqueue(id)})
  const manager = new Manager({gracePeriodMs: 10_000})
  for (const informer of Object.values(informers)) manager.addCache(informerCache(informer as Informer<ObjectMeta>))
  for (const cache of mode.caches) manager.addCache(cache)
  for (const r of mode.runnables) manager.add(r)
  for (const c of controllers) manager.addLeaderOnly({name: `controller/${c.name}`, start: (signal) => c.start(signal)})
  running = manager.start(stop.signal)
})

afterAll(async () => {
  stop.abort()
  await running?.catch(() => undefined)
  await mode?.stop()
  reader?.close()
  grpc?.close()
  await api?.close()
  await kube?.close()
  if (configDir) fs.rmSync(configDir, {recursive: true, force: true})
})

function cr(namespace: string | undefined, name: string): AgenticSession | undefined {
  return kube.get('agenticsessions', namespace ?? '', name) as AgenticSession | undefined
}

function idle(): boolean {
  return controllers.every((c) => {
    const s = c.stats()
    return s.running && s.queueDepth === 0 && s.inFlight === 0 && s.waiting === 0
  })
}

/** Idle, and no Kubernetes write or API server write for a second (20 polls) in a row. */
async function settled(): Promise<void> {
  let quiet = 0
  let last = ''
  await until(
    'the control plane to settle',
    async () => {
      const writes = kube.requests.filter((r) => !['get', 'list', 'watch', 'nonresource'].includes(r.verb)).length
      const sessions = await rest.listAll('sessions')
      const mark = `${writes}|${sessions.map((s) => s.updated_at).join()}`
      quiet = idle() && mark === last ? quiet + 1 : 0
      last = mark
      return quiet >= 20
    },
    60_000,
  )
}

describe('ambient diff after the kube reconcilers converged', () => {
  it('is empty, in-process and from the CLI (exit 0)', async () => {
    const team = await rest.create('projects', {name: 'team-a'})
    const other = await rest.create('projects', {name: 'other'})
    await rest.create('project_settings', {project_id: team.id, group_access: '[{"group":"devs","role":"edit"},{"group":"qa","role":"view"}]'})
    const made: Session[] = []
    for (let i = 0; i < 12; i++) {
      made.push(
        await rest.create('sessions', {
          name: `s${i}`,
          project_id: i % 3 === 2 ? undefined : i % 2 ? other.id : team.id,
          prompt: `prompt ${i}`,
          timeout: i % 4 ? 600 + i : undefined,
          repo_url: i % 5 === 0 ? 'https://github.com/acme/web' : undefined,
          repos:
            i % 5 === 1 ? '[{"url":"https://github.com/acme/api"},{"url":"https://github.com/acme/x","branch":"dev","autoPush":true}]' : undefined,
          labels: i % 2 ? JSON.stringify({team: 'a', index: String(i)}) : undefined,
          annotations: i % 3 ? JSON.stringify({note: `n${i}`}) : undefined,
          environment_variables: i % 2 ? undefined : JSON.stringify({INDEX: String(i)}),
        }),
      )
    }
    await until('every session has its CR', async () => (await rest.listAll('sessions')).every((s) => s.kube_cr_uid), 60_000)
    await until('the RoleBindings', () => kube.list('rolebindings.rbac.authorization.k8s.io', 'team-a').length === 2)
    // The operator runs two; then the user stops the second.
    const [first, second] = await rest.listAll('sessions')
    for (const s of [first, second]) {
      kube.update('agenticsessions', s.kube_namespace ?? '', s.id.toLowerCase(), (o) => {
        o.status = {
          phase: 'Running',
          startTime: '2026-01-02T03:04:05Z',
          sdkSessionId: 'sdk',
          conditions: [{type: 'Ready', status: 'True', reason: 'Up', lastTransitionTime: '2026-01-02T03:04:05Z'}],
        }
      })
      await until('status copied back', async () => (await rest.get('sessions', s.id)).phase === 'Running')
    }
    await rest.stop(second.id)
    await until('stop forwarded', () => cr(second.kube_namespace, second.id.toLowerCase())?.status?.phase === 'Stopping')
    await settled()

    const entries = await computeKubeDiff({rest, kube: reader, resources: ['sessions', 'projects', 'project_settings']})
    expect(entries).toEqual([])
    const cli = await runCli(['diff'], {
      AMBIENT_CONFIG_DIR: configDir,
      AMBIENT_STATE_DIR: configDir,
      AMBIENT_API_SERVER_URL: api.url,
      AMBIENT_API_TOKEN: TOKEN,
      KUBECONFIG: kube.kubeconfigPath,
    })
    expect(cli.code, `${cli.stdout}${cli.stderr}`).toBe(0)
    expect(made).toHaveLength(12)
  })

  it('is empty again once the reconcilers applied an edit', async () => {
    const [session] = await rest.listAll('sessions')
    await rest.patch('sessions', session.id, {prompt: 'edited', labels: '{"new":"label"}'})
    await until('the edit on the CR', () => cr(session.kube_namespace, session.id.toLowerCase())?.metadata.labels?.new === 'label')
    await settled()
    expect(await computeKubeDiff({rest, kube: reader, resources: ['sessions']})).toEqual([])
    expect(cr(session.kube_namespace, session.id.toLowerCase())?.spec?.initialPrompt).toBe('edited')
  })
})
