// What bin/run.js runs: oclif's `run` with what its `execute` lacks here. Fatal errors end
// through fatal.ts (a JSON log line when stderr is not a terminal), uncaught ones included,
// and start-up works for a uid without a passwd entry (Kubernetes' runAsUser).
import {flush, run} from '@oclif/core'
import {endWithError} from './fatal.js'
import {hideShellDetection} from './shell.js'

const asError = (value: unknown): Error => (value instanceof Error ? value : new Error(String(value)))

export async function main(options: {root: string; argv?: string[]}): Promise<void> {
  const fail = (value: unknown) => endWithError(asError(value))
  process.on('uncaughtException', fail)
  process.on('unhandledRejection', fail)
  hideShellDetection()
  try {
    // No user plugins (no plugin-plugins here): oclif would read ~/.local/share/ambient/package.json on every start.
    await run(options.argv ?? process.argv.slice(2), {root: options.root, userPlugins: false})
    await flush()
  } catch (err) {
    await fail(err)
  }
}
