import {AmbientCommand} from '../../lib/cli/base.js'
import {formatTable} from '../../lib/cli/table.js'
import type {RunnerStatus} from '../../lib/process/index.js'

export default class RunnersLs extends AmbientCommand {
  static override summary = 'List local runner processes (from the runner registry).'
  static override description =
    `Reads <AMBIENT_STATE_DIR>/runners, where \`ambient run --mode local\` records every runner it starts, and checks each: STATE is healthy (GET /health answered 200), unhealthy (alive, no 200) or dead; OWNER is the supervising ambient process, or "none" when it is gone (a later \`ambient run\` adopts or reaps the runner). The session's phase is on the API server: \`ambient sessions get <id>\`.

--json prints the list; runner tokens are never shown.`
  static override examples = [
    '<%= config.bin %> runners ls',
    '<%= config.bin %> runners ls --json',
    'AMBIENT_STATE_DIR=/tmp/ambient-state <%= config.bin %> runners ls',
  ]

  async run(): Promise<RunnerStatus[]> {
    await this.parse(RunnersLs)
    const {config} = this.loadSettings()
    const {RunnerRegistry, describeRunners, runnerRegistryDir} = await import('../../lib/process/index.js')
    const runners = await describeRunners(new RunnerRegistry({dir: runnerRegistryDir(config.AMBIENT_STATE_DIR)}))
    if (!this.jsonEnabled()) {
      if (runners.length === 0) this.log('no local runners')
      else this.log(runnerTable(runners))
    }
    return runners
  }
}

function state(runner: RunnerStatus): string {
  if (!runner.alive) return 'dead'
  return runner.healthy ? 'healthy' : 'unhealthy'
}

export function formatUptime(seconds: number | undefined): string | undefined {
  if (seconds === undefined) return undefined
  if (seconds < 120) return `${seconds}s`
  const m = Math.floor(seconds / 60)
  if (m < 120) return `${m}m`
  const h = Math.floor(m / 60)
  return h < 48 ? `${h}h${m % 60 ? `${m % 60}m` : ''}` : `${Math.floor(h / 24)}d`
}

function runnerTable(runners: readonly RunnerStatus[]): string {
  return formatTable(runners, [
    {header: 'session', get: (r) => r.sessionId},
    {header: 'pid', get: (r) => r.pid},
    {header: 'port', get: (r) => r.port},
    {header: 'state', get: state},
    {header: 'owner', get: (r) => (r.ownerAlive ? r.ownerPid : 'none')},
    {header: 'uptime', get: (r) => formatUptime(r.uptimeSeconds)},
    {header: 'workspace', get: (r) => r.workspace},
  ])
}
