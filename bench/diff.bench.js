// Issue 6: `ambient diff` end to end over 10k sessions and 10k matching AgenticSession CRs.
//
// What runs where: this process hosts the embedded API server (dist/) seeded with 10k sessions
// in 10 projects, and the fake Kubernetes API server of test/fake-kube (TypeScript, compiled
// here with tsc into .tmp/, which is git-ignored) seeded with the converged state built by the
// reconcilers' own desired-state functions, with CR status copied back to the sessions. The
// measured thing is the built CLI as a child process, `node bin/run.js diff`, from spawn to
// exit: Node and oclif start-up, every page of three REST lists, one LIST per Kubernetes kind,
// the comparison, the output. It also times the library path in-process, split into its parts.
import {execFile, spawn} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {fmt, median, report} from './lib.js'

const N = 10_000
const PROJECTS = 10
const ROUNDS = 3
const DRIFTED = 100
const GOAL_MS = 5000

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const build = path.join(root, '.tmp', 'bench-diff')

// The fake lives in test/ (TypeScript): compile just it (and what it imports) for this run.
await promisify(execFile)(
  process.execPath,
  [
    path.join(root, 'node_modules/typescript/bin/tsc'),
    '--outDir',
    build,
    '--rootDir',
    root,
    '--module',
    'NodeNext',
    '--moduleResolution',
    'NodeNext',
    '--target',
    'ES2023',
    '--skipLibCheck',
    '--types',
    'node',
    '--esModuleInterop',
    '--strict',
    'false',
    '--declaration',
    'false',
    '--sourceMap',
    'false',
    path.join(root, 'test/fake-kube/index.ts'),
  ],
  {cwd: root, maxBuffer: 16 << 20},
)
const {startFakeKube} = await import(path.join(build, 'test/fake-kube/index.js'))
const {startApiServer} = await import('../dist/lib/server/index.js')
const {RestClient} = await import('../dist/lib/api/rest.js')
const {KubeClient} = await import('../dist/lib/kube/client.js')
const {computeKubeDiff, readDesired, readKubeActual, diffKube, DIFF_RESOURCES} = await import('../dist/lib/diff/index.js')
const {desiredAgenticSession, desiredNamespace, desiredRoleBindings, namespaceForProject, statusPatchDiff, statusToApi} = await import(
  '../dist/lib/reconcilers/kube/desired.js'
)

const token = 'bench-diff-token'
const api = await startApiServer({port: 0, grpcPort: 0, token})
const kube = await startFakeKube({crdPaths: [path.join(root, 'deploy/crd.yaml')]})
const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-bench-diff-'))

try {
  // Desired: 10 projects with settings, 10k sessions with the fields people use.
  const projects = []
  const sessions = []
  api.store.transaction(() => {
    for (let p = 0; p < PROJECTS; p++) {
      const project = api.store.create('projects', {name: `team-${p}`})
      projects.push(project)
      api.store.create('project_settings', {
        project_id: project.id,
        group_access: JSON.stringify([
          {group: `devs-${p}`, role: 'edit'},
          {group: 'qa', role: 'view'},
        ]),
      })
    }
    for (let i = 0; i < N; i++) {
      sessions.push(
        api.store.create('sessions', {
          name: `session-${i}`,
          prompt: `benchmark prompt ${i} with a few words in it`,
          project_id: projects[i % PROJECTS].id,
          repos: JSON.stringify([{url: 'https://github.com/ambient-code/platform', branch: 'main'}]),
          labels: '{"team":"bench"}',
          environment_variables: JSON.stringify({INDEX: String(i)}),
          timeout: i % 2 ? 600 : undefined,
        }),
      )
    }
  })
  // Actual: what a converged kube mode wrote, CR status copied back (kube_cr_uid, phase...).
  const byId = new Map(projects.map((p) => [p.id, p]))
  for (const project of projects) {
    kube.put('namespaces', '', namespaceForProject(project), desiredNamespace(project).object)
  }
  for (const settings of api.store.all('project_settings')) {
    const desired = desiredRoleBindings(settings, byId.get(settings.project_id))
    for (const b of desired.bindings) kube.put('rolebindings.rbac.authorization.k8s.io', desired.namespace, b.metadata.name, b)
  }
  api.store.transaction(() => {
    for (const session of sessions) {
      const desired = desiredAgenticSession(session, {projectNamespace: (id) => namespaceForProject(byId.get(id))})
      const cr = kube.put('agenticsessions', desired.namespace, desired.name, {
        ...desired.object,
        status: {phase: 'Running', startTime: '2026-01-02T03:04:05Z', sdkSessionId: `sdk-${session.id}`},
      })
      api.store.updateSessionStatus(session.id, statusPatchDiff(session, statusToApi(cr.status, cr)))
    }
  })

  const env = {
    ...process.env,
    AMBIENT_CONFIG_DIR: configDir,
    AMBIENT_STATE_DIR: configDir,
    AMBIENT_API_SERVER_URL: api.url,
    AMBIENT_API_TOKEN: token,
    KUBECONFIG: kube.kubeconfigPath,
    NO_COLOR: '1',
  }
  /** The CLI as a child process: wall-clock from spawn to exit. */
  const runCli = (args) =>
    new Promise((resolve, reject) => {
      const started = performance.now()
      const child = spawn(process.execPath, [path.join(root, 'bin/run.js'), ...args], {cwd: root, env, stdio: ['ignore', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (c) => (stdout += c))
      child.stderr.on('data', (c) => (stderr += c))
      child.once('error', reject)
      child.once('exit', (code) => resolve({code, ms: performance.now() - started, stdout, stderr}))
    })

  // Converged: exit 0, nothing printed.
  const clean = []
  for (let i = 0; i < ROUNDS; i++) {
    const r = await runCli(['diff', '--json'])
    if (r.code !== 0 || r.stdout !== '') throw new Error(`converged diff: exit ${r.code}, ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`)
    clean.push(r.ms)
  }

  // The library path in-process, split into its parts (same client settings as the command).
  const rest = new RestClient({baseUrl: api.url, token: () => token})
  const client = new KubeClient({kubeConfig: kube.kubeConfig()})
  const parts = {desired: [], actual: [], compare: [], total: []}
  for (let i = 0; i < ROUNDS; i++) {
    let t = performance.now()
    const desired = await readDesired({rest, resources: DIFF_RESOURCES})
    parts.desired.push(performance.now() - t)
    t = performance.now()
    const actual = await readKubeActual({client, resources: DIFF_RESOURCES})
    parts.actual.push(performance.now() - t)
    t = performance.now()
    const entries = diffKube({desired, actual, resources: DIFF_RESOURCES})
    parts.compare.push(performance.now() - t)
    if (entries.length !== 0 || actual.agenticSessions.length !== N)
      throw new Error(`in-process diff: ${entries.length} entries, ${actual.agenticSessions.length} CRs`)
    t = performance.now()
    await computeKubeDiff({rest, kube: client, resources: DIFF_RESOURCES})
    parts.total.push(performance.now() - t)
  }
  client.close()

  // 1% drift: edited CR specs, shown as text (the unified-diff view, piped).
  for (const session of sessions.slice(0, DRIFTED)) {
    const ns = namespaceForProject(byId.get(session.project_id))
    kube.update('agenticsessions', ns, session.id.toLowerCase(), (o) => {
      o.spec.timeout = 1
    })
  }
  const drift = []
  for (let i = 0; i < ROUNDS; i++) {
    const r = await runCli(['diff'])
    if (r.code !== 1 || !r.stderr.includes(`${DRIFTED} changes: ${DRIFTED} update`))
      throw new Error(`drifted diff: exit ${r.code}, ${r.stderr.slice(0, 500)}`)
    drift.push(r.ms)
  }
  const lists = kube.count({verb: 'list'})
  const nonLists = kube.requests.filter((r) => r.verb !== 'list').length
  if (nonLists !== 0) throw new Error(`diff sent ${nonLists} requests other than LIST to Kubernetes`)

  const cleanMs = median(clean)
  report({
    title: '`ambient diff`: 10k sessions vs 10k AgenticSessions (issue 6)',
    description: `The built CLI as a child process (spawn to exit, Node and oclif start-up included) against the embedded API server (${N.toLocaleString('en-US')} sessions in ${PROJECTS} projects, each with project settings) and the fake Kubernetes API of test/fake-kube (compiled with tsc into .tmp/ for this run), both in the benchmark's own process, seeded with the converged state the reconcilers' desired-state functions produce and CR status copied back. Median of ${ROUNDS}. REST lists are read in pages of 500; Kubernetes gets one LIST per kind with the managed label selector (${lists} LISTs in all, no other request).`,
    rows: [
      {name: 'CLI, converged (no drift, exit 0), --json', value: fmt.ms(cleanMs), goal: '< 5 s', met: cleanMs < GOAL_MS},
      {name: `CLI, ${DRIFTED} drifted CR specs (exit 1), text view`, value: fmt.ms(median(drift)), goal: '< 5 s', met: median(drift) < GOAL_MS},
      {name: 'in-process: read desired (3 REST lists, every page)', value: fmt.ms(median(parts.desired))},
      {name: 'in-process: read actual (3 label-selected LISTs)', value: fmt.ms(median(parts.actual))},
      {name: 'in-process: compare (pure)', value: fmt.ms(median(parts.compare))},
      {name: 'in-process: computeKubeDiff (reads in parallel + compare)', value: fmt.ms(median(parts.total))},
    ],
  })
} finally {
  await kube.close()
  await api.close()
  fs.rmSync(configDir, {recursive: true, force: true})
  fs.rmSync(build, {recursive: true, force: true})
}
