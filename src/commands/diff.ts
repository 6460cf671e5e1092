import {Args, Errors, Flags} from '@oclif/core'
import {restClientFromConfig, ApiCommand} from '../lib/cli/client.js'
import type {Config} from '../lib/config/index.js'
import {AmbientError, errorMessage, ExitCode} from '../lib/errors.js'
import type {DiffEntry, DiffResource} from '../lib/diff/types.js'

/** kubectl diff: 0 no drift, 1 drift, above 1 an error. */
const EXIT_ERROR = 2
const RESOURCE_ARGS = ['sessions', 'projects', 'project_settings', 'project-settings'] as const

export default class Diff extends ApiCommand {
  static override summary = 'Show the drift between what the API server declares and what exists.'
  static override description =
    `Reads the desired state from the Ambient API server (every page) and the actual state from Kubernetes (one LIST per kind, label ambient-code.io/managed=true) or, in local mode, from the runner registry, and shows what the reconcilers would do: create, update (the owned fields that differ), delete, status (CR status not yet copied back to the API server), or invalid (the session's data cannot be turned into an object; the reason is shown). Nothing is ever written.

Without a resource, kube mode compares sessions, projects and project_settings; local mode compares sessions only. Values Kubernetes fills in itself (CRD defaults, server fields, labels it adds) are not drift; neither are namespaces of deleted projects or RoleBindings of deleted project settings, which are kept by design.

Output: "--- desired" / "+++ live" per object with "-" desired and "+" live lines (coloured on a terminal, NO_COLOR turns colour off); --json prints one JSON object per change per line.

Exit codes, like kubectl diff: 0 no drift, 1 drift found, 2 error (the API server or the cluster unreachable, invalid configuration).`
  static override examples = [
    '<%= config.bin %> diff',
    '<%= config.bin %> diff sessions --project team-a',
    '<%= config.bin %> diff --mode local',
    '<%= config.bin %> diff --json | jq -c \'select(.action == "update")\'',
  ]
  static override enableJsonFlag = false
  static override args = {
    resource: Args.string({
      options: [...RESOURCE_ARGS],
      required: false,
      description: 'Only this resource (default: all three in kube mode, sessions in local mode).',
    }),
  }

  static override flags = {
    mode: Flags.option({options: ['kube', 'local'] as const, description: 'Compare against Kubernetes or local runners (env MODE, default kube).'})(),
    project: Flags.string({char: 'p', description: 'Only this project (id or name).'}),
    json: Flags.boolean({description: 'One JSON object per change per line (NDJSON).'}),
    kubeconfig: Flags.string({description: 'Kubeconfig file (env KUBECONFIG).', helpGroup: 'KUBE'}),
    'request-timeout': Flags.integer({min: 1, default: 30, description: 'Seconds one request to the API server or the cluster may take.'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Diff)
    const config = this.loadSettings({
      AMBIENT_API_SERVER_URL: flags.server,
      AMBIENT_API_TOKEN: flags.token,
      AMBIENT_API_BASE_PATH: flags['base-path'],
      LOG_LEVEL: flags['log-level'],
      KUBECONFIG: flags.kubeconfig,
      MODE: flags.mode,
    }).config
    const mode = config.MODE
    if (mode !== 'kube' && mode !== 'local')
      throw new UsageError(`diff compares kube or local mode, MODE is ${JSON.stringify(mode)}: pass --mode kube or --mode local`)
    const resource = args.resource === 'project-settings' ? 'project_settings' : (args.resource as DiffResource | undefined)
    if (mode === 'local' && resource && resource !== 'sessions') throw new UsageError(`local mode compares sessions only, not ${resource}`)
    const timeoutMs = flags['request-timeout'] * 1000
    const rest = restClientFromConfig(config, {token: flags.token, timeoutMs})
    const entries =
      mode === 'kube' ? await this.kubeDiff(config, resource, flags.project, timeoutMs, rest) : await this.localDiff(config, flags.project, rest)

    const render = await import('../lib/diff/render.js')
    if (flags.json) {
      await write(process.stdout, render.renderNdjson(entries))
    } else {
      const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR
      await write(process.stdout, render.renderText(entries, {color}))
      // The summary goes to stderr, so a piped diff is only the diff.
      process.stderr.write(`${render.summarize(entries)}\n`)
    }
    if (entries.length > 0) process.exitCode = ExitCode.failure
  }

  private async kubeDiff(
    config: Config,
    resource: DiffResource | undefined,
    project: string | undefined,
    timeoutMs: number,
    rest: ReturnType<typeof restClientFromConfig>,
  ): Promise<DiffEntry[]> {
    const [{loadKubeConfig, InstrumentedKubeConfig}, {KubeClient}, {computeKubeDiff}, {DIFF_RESOURCES}] = await Promise.all([
      import('../lib/kube/config.js'),
      import('../lib/kube/client.js'),
      import('../lib/diff/compute.js'),
      import('../lib/diff/types.js'),
    ])
    const kubeConfig = InstrumentedKubeConfig.from(loadKubeConfig({kubeconfig: config.KUBECONFIG}), {requestTimeoutMs: timeoutMs})
    const kube = new KubeClient({kubeConfig})
    try {
      return await computeKubeDiff({rest, kube, resources: resource ? [resource] : DIFF_RESOURCES, project})
    } finally {
      kube.close()
    }
  }

  private async localDiff(config: Config, project: string | undefined, rest: ReturnType<typeof restClientFromConfig>): Promise<DiffEntry[]> {
    const [{RunnerRegistry, runnerRegistryDir}, {StopRequests, stopRequestsDir}, {computeLocalDiff}] = await Promise.all([
      import('../lib/process/registry.js'),
      import('../lib/reconcilers/local/stop-requests.js'),
      import('../lib/diff/compute.js'),
    ])
    return computeLocalDiff({
      rest,
      registry: new RunnerRegistry({dir: runnerRegistryDir(config.AMBIENT_STATE_DIR)}),
      stopRequests: new StopRequests({dir: stopRequestsDir(config.AMBIENT_STATE_DIR)}),
      project,
    })
  }

  /** Every failure is exit 2 (1 means "drift found"), with the message naming what failed. */
  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof Errors.CLIError) return super.catch(err)
    const message = err instanceof AmbientError ? err.message : `diff failed: ${errorMessage(err)}`
    return super.catch(new Errors.CLIError(message, {exit: EXIT_ERROR}))
  }
}

class UsageError extends AmbientError {
  override readonly exitCode = EXIT_ERROR

  constructor(message: string) {
    super(message, 'ERR_USAGE')
  }
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  if (text === '') return Promise.resolve()
  return new Promise((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())))
}
