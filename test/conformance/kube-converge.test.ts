// Contract section 3, the whole loop: kube mode's reconcilers converge against a Kubernetes API
// server that fills the CRD's defaults (deploy/crd.yaml), and then `ambient diff` finds nothing
// (in-process and as the built CLI, exit 0) and a resync writes nothing, neither to Kubernetes
// nor to the API server. Once with sessions created as the real server creates them
// (kube_cr_name = id, llm_model "sonnet", 0.7, 4000), once with a server that leaves llm_*,
// timeout and repo branches unset, so the CRD's defaults fill them.
import fs from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Session} from '../../src/lib/api/types.js'
import {computeKubeDiff} from '../../src/lib/diff/index.js'
import {DIFF_RESOURCES} from '../../src/lib/diff/types.js'
import {assertBuilt, runCli, tempConfigDir} from '../commands/helpers.js'
import {until} from '../helpers/wait.js'
import {sameVersions, startWorld, TOKEN, type World, type WorldOptions} from './kube-world.js'

type SessionFields = Partial<Session> & {name: string}

/** Sessions that exercise every default: none of them sets timeout or a repo branch. */
function sessionsFor(projectId: string): SessionFields[] {
  return [
    {name: 'bare'},
    {name: 'in a project', project_id: projectId, prompt: 'p'},
    {name: 'repo url', project_id: projectId, repo_url: 'https://g/web'},
    {name: 'repos', repos: '[{"url":"https://g/a"},{"url":"https://g/b","autoPush":true}]'},
    {name: 'model only', llm_model: 'opus'},
    {name: 'temperature only', llm_temperature: 0.1},
    {name: 'tokens only', llm_max_tokens: 99},
    {name: 'meta', labels: '{"team":"a"}', annotations: '{"note":"n"}', environment_variables: '{"A":"1"}'},
    {name: 'user', created_by_user_id: 'user-1', timeout: 600},
  ]
}

async function expectNoDiff(world: World, configDir: string): Promise<void> {
  expect(await computeKubeDiff({rest: world.rest, kube: world.client, resources: DIFF_RESOURCES})).toEqual([])
  const cli = await runCli(['diff'], {
    AMBIENT_CONFIG_DIR: configDir,
    AMBIENT_STATE_DIR: configDir,
    AMBIENT_API_SERVER_URL: world.api.url,
    AMBIENT_API_TOKEN: TOKEN,
    KUBECONFIG: world.kube.kubeconfigPath,
  })
  expect(cli.code, `${cli.stdout}${cli.stderr}`).toBe(0)
}

/** One reconcile of everything, as a resync does: nothing may be written anywhere. */
async function expectQuietResync(world: World): Promise<void> {
  const mark = world.kube.requests.length
  const before = await world.rest.listAll('sessions')
  for (const p of await world.rest.listAll('projects')) await world.reconcileProject(p)
  for (const s of await world.rest.listAll('project_settings')) await world.reconcileSettings(s)
  for (const s of before) await world.reconcileSession(s.id)
  expect(world.kubeWritesSince(mark)).toEqual([])
  expect(sameVersions(before, await world.rest.listAll('sessions'))).toBe(true)
}

/** The operator's part: it runs some sessions and reports their repos and workflow. */
async function operatorRuns(world: World, sessions: readonly Session[]): Promise<void> {
  for (const s of sessions) {
    const namespace = s.kube_namespace ?? 'default'
    const name = (s.kube_cr_name || s.id).toLowerCase()
    world.kube.update('agenticsessions', namespace, name, (o) => {
      // No phase: the CRD's default (Pending) fills it, and is what must flow back.
      o.status = {
        startTime: '2026-01-02T03:04:05Z',
        reconciledRepos: [{url: 'https://g/a', status: 'Cloning'}],
        reconciledWorkflow: {gitUrl: 'https://g/w', status: 'Cloning'},
      }
    })
    await until('the operator status in the cache', () => world.caches.agenticSessions.get(namespace, name)?.status?.startTime)
  }
}

function describeConvergence(title: string, options: WorldOptions): void {
  describe(title, () => {
    let world: World
    let configDir: string

    beforeAll(async () => {
      assertBuilt(['diff'])
      world = await startWorld(options)
      configDir = tempConfigDir()
      const project = await world.rest.create('projects', {name: 'team-a'})
      await world.rest.create('project_settings', {project_id: project.id, group_access: '[{"group":"devs","role":"edit"}]'})
      for (const fields of sessionsFor(project.id)) await world.rest.create('sessions', fields)
    })

    afterAll(async () => {
      await world?.close()
      if (configDir) fs.rmSync(configDir, {recursive: true, force: true})
    })

    it('3 after convergence with the CRD defaults, ambient diff is empty (exit 0)', async () => {
      await world.converge()
      const sessions = await world.rest.listAll('sessions')
      expect(sessions.every((s) => s.kube_cr_uid)).toBe(true)
      expect(sessions.every((s) => s.kube_cr_name === s.id)).toBe(true)
      await operatorRuns(world, sessions.slice(0, 3))
      await world.converge()
      expect((await world.rest.listAll('sessions')).filter((s) => s.phase === 'Pending')).toHaveLength(3)
      await expectNoDiff(world, configDir)
    })

    it('3 after convergence a resync makes no write', async () => {
      await expectQuietResync(world)
    })

    it('3 after an edit that drops the LLM settings, the CR loses llmSettings and the diff is empty again', async () => {
      const [session] = (await world.rest.listAll('sessions')).filter((s) => s.name === 'model only')
      await world.rest.patch('sessions', session.id, {llm_model: '', llm_temperature: null, llm_max_tokens: null})
      const edited = await world.rest.get('sessions', session.id)
      await world.converge()
      const cr = world.cr(edited.kube_namespace ?? 'default', (edited.kube_cr_name || edited.id).toLowerCase())
      // The real server keeps its 0.7/4000 (only the model is cleared): the model falls back to
      // the CRD's default. A server that keeps nothing: llmSettings goes as a whole.
      const kept = edited.llm_temperature !== undefined && edited.llm_temperature !== null
      expect(cr?.spec?.llmSettings).toEqual(kept ? {model: 'claude-3-7-sonnet-latest', temperature: 0.7, maxTokens: 4000} : undefined)
      await expectNoDiff(world, configDir)
      await expectQuietResync(world)
    })
  })
}

describeConvergence('3 kube mode converges: sessions created as the real server creates them', {llmDefaults: true})
describeConvergence('3 kube mode converges: sessions that leave llm_*, timeout and repo branches unset', {llmDefaults: false})
