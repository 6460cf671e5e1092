import os from 'node:os'
import {Args, Flags} from '@oclif/core'
import {AmbientCommand} from '../../lib/cli/base.js'
import {FlagError} from '../../lib/cli/client.js'
import {formatTable} from '../../lib/cli/table.js'
import {AmbientError, errorMessage} from '../../lib/errors.js'
import type {KilledRunner} from '../../lib/reconcilers/local/index.js'

export default class RunnersKill extends AmbientCommand {
  static override summary = "Stop local runners: the signal to the runner's process group, SIGKILL after the grace period."
  static override description =
    `Works whether or not the \`ambient run\` that started the runner is still running. If it is, it sees the runner end and sets the session to Stopped; if not, this command removes the runner's registry record and the next \`ambient run\` sets the session to Stopped. Either way the session never stays Running.

Processes that left the runner's process group (setsid) are not reached.`
  static override examples = [
    '<%= config.bin %> runners kill 2mFqX8d0kGzvJ3bH',
    '<%= config.bin %> runners kill --all --grace 2',
    '<%= config.bin %> runners kill 2mFqX8d0kGzvJ3bH --signal SIGINT --json',
  ]
  static override strict = false
  static override args = {session: Args.string({description: 'Session id(s) whose runner to stop.'})}
  static override flags = {
    all: Flags.boolean({description: 'Every runner in the registry.'}),
    signal: Flags.string({default: 'SIGTERM', description: 'First signal sent to the process group.'}),
    grace: Flags.integer({default: 10, min: 0, description: 'Seconds to wait before SIGKILL.'}),
  }

  async run(): Promise<KilledRunner[]> {
    const {argv, flags} = await this.parse(RunnersKill)
    const ids = argv.map(String)
    if (flags.all === ids.length > 0) throw new FlagError('all', 'name session ids or pass --all (not both)')
    const signal = flags.signal.toUpperCase()
    if (!isSignal(signal)) throw new FlagError('signal', `unknown signal ${JSON.stringify(flags.signal)} (e.g. SIGTERM, SIGINT, SIGKILL)`)
    const {config} = this.loadSettings({LOG_LEVEL: flags['log-level']})
    const [{RunnerRegistry, runnerRegistryDir}, local] = await Promise.all([
      import('../../lib/process/index.js'),
      import('../../lib/reconcilers/local/index.js'),
    ])
    const registry = new RunnerRegistry({dir: runnerRegistryDir(config.AMBIENT_STATE_DIR)})
    const stopRequests = new local.StopRequests({dir: local.stopRequestsDir(config.AMBIENT_STATE_DIR)})
    const targets = flags.all ? (await registry.list()).map((r) => r.sessionId) : ids
    const results = await Promise.allSettled(
      targets.map((sessionId) => local.killLocalRunner({registry, stopRequests, sessionId, signal, graceMs: flags.grace * 1000})),
    )
    const killed: KilledRunner[] = []
    const failures: string[] = []
    for (const [i, result] of results.entries()) {
      if (result.status === 'fulfilled') killed.push(result.value)
      else failures.push(`${targets[i]}: ${errorMessage(result.reason)}`)
    }
    if (!this.jsonEnabled()) {
      if (killed.length > 0) this.log(killTable(killed, signal))
      else if (failures.length === 0) this.log('no local runners')
    }
    const only = results[0]
    if (targets.length === 1 && only?.status === 'rejected') throw only.reason
    if (failures.length > 0) {
      // One runner that cannot be stopped does not keep the others running; the exit code says so.
      throw new AmbientError(`stopped ${killed.length} of ${targets.length}; ${failures.join('; ')}`, 'ERR_RUNNERS_KILL')
    }
    return killed
  }
}

function isSignal(name: string): name is NodeJS.Signals {
  return Object.hasOwn(os.constants.signals, name)
}

function killTable(killed: readonly KilledRunner[], signal: string): string {
  return formatTable(killed, [
    {header: 'session', get: (k) => k.sessionId},
    {header: 'pid', get: (k) => k.pid},
    {header: 'result', get: (k) => (!k.wasAlive ? 'already gone' : k.escalated ? `${signal}, then SIGKILL` : signal)},
    {header: 'phase written by', get: (k) => (k.supervised ? 'ambient run' : 'next ambient run')},
  ])
}
