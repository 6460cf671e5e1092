// Runs the echo runner the way the process manager runs any runner: port and token from the
// environment (AGUI_PORT, AGUI_TOKEN, INITIAL_PROMPT), serving until SIGTERM or SIGINT, then
// exit code 0. `ambient echo-runner` calls runEchoMain(); `node dist/lib/runner/echo-main.js`
// runs it directly.
import {realpathSync} from 'node:fs'
import {pathToFileURL} from 'node:url'
import {ConfigError} from '../errors.js'
import type {Logger} from '../log.js'
import {silentLogger} from '../log.js'
import {startEchoRunner} from './echo.js'

/** Something that delivers process signals: `process`, or an EventEmitter in tests. */
export interface SignalSource {
  once(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown
  off(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown
}

export interface EchoMainOptions {
  env?: NodeJS.ProcessEnv
  logger?: Logger
  signals?: SignalSource
  host?: string
  /** Called once listening, with the runner's URL. */
  onListening?: (url: string) => void
}

export function parseAguiPort(value: string | undefined): number {
  const port = Number(value)
  if (value === undefined || !/^\d+$/.test(value) || port > 65535) {
    throw new ConfigError('AGUI_PORT', `AGUI_PORT must be a port number (0-65535): got ${JSON.stringify(value)}`)
  }
  return port
}

/** Serves until SIGTERM/SIGINT; resolves with the process exit code (0). */
export async function runEchoMain(options: EchoMainOptions = {}): Promise<number> {
  const env = options.env ?? process.env
  const signals = options.signals ?? process
  const logger = options.logger ?? silentLogger
  const runner = await startEchoRunner({
    port: parseAguiPort(env.AGUI_PORT),
    host: options.host,
    token: env.AGUI_TOKEN || undefined,
    prompt: env.INITIAL_PROMPT,
    logger,
  })
  options.onListening?.(runner.url)
  const signal = await new Promise<string>((resolve) => {
    const onTerm = () => done('SIGTERM')
    const onInt = () => done('SIGINT')
    const done = (name: string) => {
      signals.off('SIGTERM', onTerm)
      signals.off('SIGINT', onInt)
      resolve(name)
    }
    signals.once('SIGTERM', onTerm)
    signals.once('SIGINT', onInt)
  })
  logger.info({signal}, 'echo runner stopping')
  await runner.close()
  return 0
}

function isEntryPoint(): boolean {
  const entry = process.argv[1]
  if (!entry) return false
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href
  } catch {
    return false
  }
}

if (isEntryPoint()) {
  runEchoMain().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`echo runner: ${err instanceof Error ? err.message : String(err)}\n`)
      process.exit(err instanceof ConfigError ? 2 : 1)
    },
  )
}
