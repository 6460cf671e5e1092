// Host tools (podman, apt-get, git, mmdebstrap, npm) as the smoke test runs them: every call
// has a deadline, so a stuck tool fails the run instead of hanging CI, and a failure shows the
// command with the tail of its output.
import {execa} from 'execa'

export class CommandError extends Error {
  readonly code = 'ERR_COMMAND'

  constructor(
    message: string,
    readonly result: CommandResult,
  ) {
    super(message)
    this.name = 'CommandError'
  }
}

export interface CommandResult {
  command: string
  exitCode: number | undefined
  stdout: string
  stderr: string
  ms: number
  timedOut: boolean
}

export interface CommandOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  input?: string
  /** Default 120 s. */
  timeoutMs?: number
  /** Return a failed result instead of throwing. */
  allowFailure?: boolean
  /** Also stream the output to this process's stderr (long builds, SMOKE_VERBOSE=1). */
  stream?: boolean
}

const tail = (text: string, lines = 30) => text.trimEnd().split('\n').slice(-lines).join('\n')

export async function run(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const started = performance.now()
  const stream = options.stream ?? process.env.SMOKE_VERBOSE === '1'
  const child = await execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
    killSignal: 'SIGKILL',
    reject: false,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    stdout: stream ? ['pipe', 'inherit'] : 'pipe',
    stderr: stream ? ['pipe', 'inherit'] : 'pipe',
    stripFinalNewline: false,
    maxBuffer: 256 * 2 ** 20,
  })
  const result: CommandResult = {
    command: [file, ...args].join(' '),
    exitCode: child.exitCode,
    stdout: String(child.stdout ?? ''),
    stderr: String(child.stderr ?? ''),
    ms: performance.now() - started,
    timedOut: Boolean(child.timedOut),
  }
  if (result.exitCode !== 0 && !options.allowFailure) {
    const why = result.timedOut ? `timed out after ${Math.round(result.ms / 1000)} s` : `exited ${result.exitCode ?? child.signal}`
    throw new CommandError(`${result.command}: ${why}\n${tail(`${result.stdout}\n${result.stderr}`)}`, result)
  }
  return result
}

export async function commandExists(name: string): Promise<boolean> {
  const r = await run('sh', ['-c', 'command -v "$1"', 'sh', name], {allowFailure: true, timeoutMs: 10_000})
  return r.exitCode === 0
}
