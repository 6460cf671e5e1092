// What bin/run.js runs: oclif's `run` with what its `execute` lacks here. Fatal errors end
// through fatal.ts (a JSON log line when stderr is not a terminal), uncaught ones included,
// and start-up works for a uid without a passwd entry (Kubernetes' runAsUser).
import {flush, run} from '@oclif/core'
import {endWithError} from './fatal.js'

let shellHidden = false

/**
 * Without SHELL, oclif's start-up asks os.userInfo() for the login shell, which throws
 * (uv_os_get_passwd ENOENT) for a uid without a passwd entry. An empty SHELL gives oclif's
 * own "unknown" answer without that call; the init hook (src/hooks/init.ts) removes it again
 * before any command runs, so children never inherit it.
 */
export function hideShellDetection(env: NodeJS.ProcessEnv = process.env): void {
  if (env.SHELL !== undefined) return
  env.SHELL = ''
  shellHidden = true
}

export function restoreShell(env: NodeJS.ProcessEnv = process.env): void {
  if (!shellHidden) return
  if (env.SHELL === '') delete env.SHELL
  shellHidden = false
}

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
  } finally {
    restoreShell()
  }
}
