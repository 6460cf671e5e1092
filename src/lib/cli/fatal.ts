// How a failed command ends: with the exit code oclif gives it (README "Exit codes") and, on
// stderr, oclif's readable text at a terminal or else one JSON log line, so that a container's
// log collector (or a script reading stderr) sees the failure as a log line like the others.
// bin/run.js (through main.ts) is the only place that reports; the base command hands its
// errors on to it.
import {Errors, handle} from '@oclif/core'
import {AmbientError} from '../errors.js'
import type {FatalError} from '../log.js'

/** Typed errors behind the CLIErrors the base command turns them into, for the log line. */
const originals = new WeakMap<Error, Error>()
/** Errors already printed as `{"error": ...}` on stdout (--json). */
const shownAsJson = new WeakSet<Error>()

/** oclif's CLIError with this exit code, remembering the typed error it stands for. */
export function toCliError(err: Error, exit: number): Errors.CLIError {
  const cli = new Errors.CLIError(err.message, {exit})
  originals.set(cli, err)
  return cli
}

export function markShownAsJson(err: Error): void {
  shownAsJson.add(err)
}

/** The code oclif's own handler exits with. */
export function exitCodeOf(err: Error): number {
  const exit = (err as {oclif?: {exit?: unknown}}).oclif?.exit
  return typeof exit === 'number' ? exit : 1
}

export function describeFatal(err: Error): FatalError {
  const original = originals.get(err) ?? err
  const code = (original as {code?: unknown}).code
  const expected = original instanceof AmbientError || original instanceof Errors.CLIError
  return {
    type: original.name,
    message: original.message,
    ...(typeof code === 'string' ? {code} : {}),
    ...(expected ? {} : {stack: original.stack}),
  }
}

export interface EndOptions {
  stderr?: {isTTY?: boolean}
  exit?: (code: number) => void
}

/** Reports `err` as described above and ends the process. */
export async function endWithError(err: Error, options: EndOptions = {}): Promise<void> {
  const stderr = options.stderr ?? process.stderr
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const code = exitCodeOf(err)
  // `this.exit(n)` in a command: an exit code, not a failure.
  if (err instanceof Errors.ExitError) return exit(code)
  if (!stderr.isTTY) {
    const {logFatal} = await import('../log.js')
    logFatal(describeFatal(err), {exitCode: code})
    return exit(code)
  }
  if (shownAsJson.has(err)) return exit(code)
  await handle(err)
}
