import path from 'node:path'
import {Flags} from '@oclif/core'
import type {ObjectMeta} from '../lib/api/types.js'
import {ApiCommand, FlagError} from '../lib/cli/client.js'
import {startEmbeddedServer, type EmbeddedServer} from '../lib/cli/embedded.js'
import {connectApi} from '../lib/connection/index.js'
import {eventLine, NdjsonWriter} from '../lib/cli/ndjson.js'
import {parseDurationFlag} from '../lib/cli/duration.js'
import {withShutdownSignal} from '../lib/cli/signals.js'
import {startupPause} from '../lib/cli/startup-pause.js'
import {withOverrides, type Config} from '../lib/config/index.js'
import {leaderTimingProblem} from '../lib/controller/leader-timing.js'
import type {ResourceEvent} from '../lib/informer/index.js'
import type {Logger} from '../lib/log.js'
import type {LeaderElectionFlags} from '../lib/run/control-plane.js'
import {wantsLiveView} from '../lib/cli/terminal.js'

export default class Run extends ApiCommand {
  static override summary = 'Run the control plane: list-sync the API server, follow its watch streams, reconcile.'
  static override description = `Modes:
  kube   sessions -> AgenticSession custom resources, projects -> Namespaces, project settings -> RoleBindings; CR status is copied back to the API server.
  local  sessions -> runner processes on this machine, with the AG-UI reverse proxy on LOCAL_PROXY_ADDR.
  test   no side effects: events are counted.

On a terminal (outside CI) a live view shows each resource's connection, cache, event counts and queue; logs then go to <AMBIENT_STATE_DIR>/logs/run.log. With --json, when stdout is not a terminal, or in CI, stdout carries one JSON object per event and, at exit, one TALLY line per resource; logs go to stderr.

SIGINT/SIGTERM stop watching, drain in-flight reconciles and exit 0. Exit 2: invalid configuration (the message names the variable).`
  static override examples = [
    '<%= config.bin %> run --mode local --embedded',
    '<%= config.bin %> run --mode test --embedded --once --json',
    'MODE=kube AMBIENT_API_TOKEN_FILE=/var/run/secrets/ambient/token <%= config.bin %> run --leader-elect',
  ]
  static override enableJsonFlag = false
  static override flags = {
    mode: Flags.option({options: ['kube', 'local', 'test'] as const, description: 'Reconciler mode (env MODE, default kube).'})(),
    json: Flags.boolean({description: 'NDJSON on stdout (the default when stdout is not a terminal).'}),
    once: Flags.boolean({description: 'Exit 0 after the initial sync (with the tallies), instead of following the watches.'}),
    embedded: Flags.boolean({description: 'Start an Ambient API server in this process first, and use it.'}),
    'api-port': Flags.integer({default: 8000, min: 0, max: 65_535, description: 'REST port of the embedded server.', helpGroup: 'EMBEDDED'}),
    'grpc-port': Flags.integer({default: 8001, min: 0, max: 65_535, description: 'gRPC port of the embedded server.', helpGroup: 'EMBEDDED'}),
    db: Flags.string({description: 'SQLite file for the embedded server.', helpGroup: 'EMBEDDED'}),
    watch: Flags.option({
      options: ['stream', 'poll'] as const,
      default: 'stream',
      description: 'Follow the gRPC streams, or poll the REST lists every POLL_INTERVAL_SECONDS (older servers).',
    })(),
    workers: Flags.integer({min: 1, description: 'Reconcile workers per resource (env WORKER_COUNT).'}),
    'metrics-addr': Flags.string({description: 'Prometheus listener, e.g. :8080; 0 turns it off (env METRICS_ADDR).', helpGroup: 'OPERATIONS'}),
    'probe-addr': Flags.string({description: 'Probe listener (/healthz, /readyz); 0 turns it off (env PROBE_ADDR).', helpGroup: 'OPERATIONS'}),
    'leader-elect': Flags.boolean({description: 'kube mode: reconcile only while holding the Lease.', helpGroup: 'KUBE'}),
    'lease-name': Flags.string({default: 'ambient-control-plane', description: 'Name of the leader-election Lease.', helpGroup: 'KUBE'}),
    'leader-identity': Flags.string({
      env: 'POD_NAME',
      description: "This replica's name in the Lease (default: env POD_NAME, else <hostname>_<uuid>).",
      helpGroup: 'KUBE',
    }),
    'lease-namespace': Flags.string({description: 'Namespace of the Lease (default NAMESPACE).', helpGroup: 'KUBE'}),
    'leader-elect-lease-duration': Flags.string({
      env: 'LEADER_ELECT_LEASE_DURATION',
      description: 'How long a Lease holds without renewal before another replica may take it, e.g. 15s (default).',
      helpGroup: 'KUBE',
    }),
    'leader-elect-renew-deadline': Flags.string({
      env: 'LEADER_ELECT_RENEW_DEADLINE',
      description: 'How long the leader keeps trying to renew before it stops leading, e.g. 10s (default); less than the lease duration.',
      helpGroup: 'KUBE',
    }),
    'leader-elect-retry-period': Flags.string({
      env: 'LEADER_ELECT_RETRY_PERIOD',
      description: 'How often candidates try to acquire and the leader renews, e.g. 2s (default).',
      helpGroup: 'KUBE',
    }),
    kubeconfig: Flags.string({description: 'Kubeconfig file (env KUBECONFIG).', helpGroup: 'KUBE'}),
    'kube-qps': Flags.string({description: 'Client-side Kubernetes rate limit (env KUBE_QPS, default 50).', helpGroup: 'KUBE'}),
    'kube-burst': Flags.integer({description: 'Burst of that rate limit (env KUBE_BURST, default 100).', helpGroup: 'KUBE'}),
    'runner-command': Flags.string({
      description: 'local mode: the runner command (env LOCAL_RUNNER_COMMAND; with --embedded the built-in echo runner).',
      helpGroup: 'LOCAL',
    }),
  }

  async run(): Promise<void> {
    startupPause('start')
    // The first thing `run` does: from here on a SIGINT/SIGTERM is never lost (signals.ts). The
    // start-up below goes on regardless; the control plane sees the aborted signal and drains
    // at once. A signal before this line, while Node and the CLI load, ends the process by its
    // default action.
    await withShutdownSignal((shutdown) => this.start(shutdown))
  }

  private async start(shutdown: AbortSignal): Promise<void> {
    const {flags} = await this.parse(Run)
    startupPause('parsed')
    const leaseTiming = leaseTimingFlags(flags)
    // The configuration is resolved here, once; everything below reads what is passed down.
    let resolved = this.loadSettings({
      MODE: flags.mode,
      WORKER_COUNT: flags.workers,
      METRICS_ADDR: flags['metrics-addr'],
      PROBE_ADDR: flags['probe-addr'],
      KUBECONFIG: flags.kubeconfig,
      KUBE_QPS: flags['kube-qps'],
      KUBE_BURST: flags['kube-burst'],
      LOCAL_RUNNER_COMMAND: flags['runner-command'],
      AMBIENT_API_SERVER_URL: flags.server,
      AMBIENT_API_TOKEN: flags.token,
      AMBIENT_API_BASE_PATH: flags['base-path'],
      LOG_LEVEL: flags['log-level'],
    })
    const interactive = wantsLiveView(flags.json)
    const logFile = interactive ? path.join(resolved.config.AMBIENT_STATE_DIR, 'logs', 'run.log') : undefined
    const logger = this.createLogger(resolved.config.LOG_LEVEL, 'ambient', logFile)
    startupPause('configured')
    let embedded: EmbeddedServer | undefined
    let runnerCommand: string[] | undefined
    try {
      if (flags.embedded) {
        startupPause('embedded')
        embedded = await startEmbeddedServer({
          port: flags['api-port'],
          grpcPort: flags['grpc-port'],
          dbPath: flags.db,
          basePath: resolved.config.AMBIENT_API_BASE_PATH,
          logger: logger.child({component: 'api-server'}),
        })
        // With nothing else installed, the embedded loop runs the built-in echo runner, unless
        // a runner command was given by flag, environment or settings file.
        if (resolved.config.MODE === 'local' && resolved.sources.LOCAL_RUNNER_COMMAND === 'default') {
          const {echoRunnerCommand} = await import('../lib/reconcilers/local/index.js')
          runnerCommand = echoRunnerCommand()
        }
        // Pointed at the embedded server, with its own token: a mounted AMBIENT_API_TOKEN_FILE
        // (the Deployment sets one) would otherwise win and every call would get 401.
        resolved = withOverrides(resolved, {...embedded.overrides, AMBIENT_API_TOKEN_FILE: undefined})
        logger.info({url: embedded.server.url, grpc: embedded.server.grpcAddress}, 'embedded API server started')
      }
      if (logFile) process.stderr.write(`ambient run --mode ${resolved.config.MODE}: logs in ${logFile}\n`)
      const leaderElection: LeaderElectionFlags | undefined = flags['leader-elect']
        ? {
            identity: flags['leader-identity'],
            leaseName: flags['lease-name'],
            leaseNamespace: flags['lease-namespace'] ?? resolved.config.NAMESPACE,
            ...leaseTiming,
          }
        : undefined
      await this.runControlPlane({
        config: resolved.config,
        once: flags.once,
        watch: flags.watch,
        leaderElection,
        logger,
        interactive,
        runnerCommand,
        signal: shutdown,
      })
    } finally {
      await embedded?.close()
      logger.flush()
    }
  }

  private async runControlPlane(options: {
    config: Config
    once: boolean
    watch: 'stream' | 'poll'
    leaderElection?: LeaderElectionFlags
    logger: Logger
    interactive: boolean
    runnerCommand?: string[]
    signal: AbortSignal
  }): Promise<void> {
    const {config, logger, interactive} = options
    startupPause('connect')
    const api = await connectApi(config, {watch: options.watch, logger})
    const out = interactive ? undefined : new NdjsonWriter()
    const {createControlPlane} = await import('../lib/run/control-plane.js')
    startupPause('control-plane')
    const plane = await createControlPlane({
      config,
      api,
      logger,
      leaderElection: options.leaderElection,
      runnerCommand: options.runnerCommand,
      apiServerLabel: `${config.AMBIENT_API_SERVER_URL}${config.AMBIENT_API_BASE_PATH}`,
      onEvent: out ? <T extends ObjectMeta>(e: ResourceEvent<T>) => out.write(eventLine(e)) : undefined,
    })
    // --once stops after the initial sync; the view's quit key stops like SIGINT.
    const stop = new AbortController()
    const signal = AbortSignal.any([options.signal, stop.signal])
    if (options.once) void plane.synced.then(() => stop.abort())
    const running = plane.run(signal)
    startupPause('running')
    let view: Promise<void> | undefined
    if (interactive) {
      const {renderRunView} = await import('../lib/tui/run-view.js')
      view = renderRunView({getSnapshot: () => plane.snapshot(), signal, onQuit: () => stop.abort(), keepOpenOnQuit: true})
    }
    try {
      await running
    } finally {
      await view
      api.close()
      if (out) {
        for (const tally of Object.values(plane.tallies)) out.write(tally.line())
        await out.flush()
      } else {
        for (const tally of Object.values(plane.tallies))
          this.log(`${tally.resource}: ${tally.added} added, ${tally.modified} modified, ${tally.deleted} deleted`)
      }
    }
  }
}

interface LeaseTiming {
  leaseDurationMs?: number
  renewDeadlineMs?: number
  retryPeriodMs?: number
}

function leaseTimingFlags(flags: {
  'leader-elect-lease-duration'?: string
  'leader-elect-renew-deadline'?: string
  'leader-elect-retry-period'?: string
}): LeaseTiming {
  const timing = {
    leaseDurationMs: parseDurationFlag('leader-elect-lease-duration', flags['leader-elect-lease-duration']),
    renewDeadlineMs: parseDurationFlag('leader-elect-renew-deadline', flags['leader-elect-renew-deadline']),
    retryPeriodMs: parseDurationFlag('leader-elect-retry-period', flags['leader-elect-retry-period']),
  }
  const problem = leaderTimingProblem(timing)
  if (problem) throw new FlagError('leader-elect-renew-deadline', problem)
  return timing
}
