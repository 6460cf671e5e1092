// Structured logs: JSON lines on stderr (stdout belongs to command output and NDJSON), a
// human format when stderr is a terminal. Secrets are redacted wherever they appear by name.
import path from 'node:path'
import pino, {type DestinationStream, type Logger, type LevelWithSilent} from 'pino'
import {ensurePrivateDir, securePrivateFile} from './private-files.js'
import {terminalSafeJson} from './util/sanitize.js'
import {prettyLogStream} from './log-pretty.js'

export type {Logger} from 'pino'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const satisfies readonly LevelWithSilent[]
export type LogLevel = (typeof LOG_LEVELS)[number]

const REDACT = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'AMBIENT_API_TOKEN',
  '*.AMBIENT_API_TOKEN',
  'AGUI_TOKEN',
  '*.AGUI_TOKEN',
]

export interface LoggerOptions {
  level?: LogLevel
  /** Human-readable output; defaults to whether stderr is a terminal. */
  pretty?: boolean
  name?: string
  /**
   * Write JSON lines to this file instead of stderr: while an Ink view owns the terminal,
   * anything on stderr would tear its frame (k9s does the same).
   */
  file?: string
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info'
  const base = {name: options.name ?? 'ambient', level, redact: {paths: REDACT, censor: '[redacted]'}}
  if (options.file) {
    // Our log names sessions and carries their errors: 0600 in a 0700 folder, like all our data.
    ensurePrivateDir(path.dirname(options.file))
    securePrivateFile(options.file, {create: true})
    return pino(base, terminalSafeLines(pino.destination({dest: options.file, sync: false})))
  }
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY)
  // Server and runner text in a record is shown escaped, never emitted (util/sanitize.ts).
  if (pretty) return pino(base, prettyLogStream())
  return pino(base, terminalSafeLines(pino.destination({fd: 2, sync: false})))
}

type SonicBoom = ReturnType<typeof pino.destination>

/**
 * JSON log lines are read on terminals too (`kubectl logs`, `tail -f`): JSON.stringify leaves
 * DEL, C1 and bidi characters raw, so each line is rewritten with those as \u escapes, the
 * same JSON to any parser (util/sanitize.ts). Flushing still reaches the destination.
 */
function terminalSafeLines(dest: SonicBoom): DestinationStream & Pick<SonicBoom, 'flush' | 'flushSync' | 'end'> {
  return {
    write: (line: string) => dest.write(terminalSafeJson(line)),
    flush: (cb?: (err?: Error) => void) => dest.flush(cb),
    flushSync: () => dest.flushSync(),
    end: () => dest.end(),
  }
}

/** A logger that drops everything, for tests and library callers that pass none. */
export const silentLogger: Logger = pino({level: 'silent'})

export interface FatalError {
  /** The error's class, e.g. ConfigError. */
  type: string
  message: string
  code?: string
  /** Only for errors nobody expected (a bug): typed errors say all there is in their message. */
  stack?: string
}

/**
 * The last line of a failed command when stderr is not a terminal: one JSON log line at level
 * fatal, shaped like every other line (name, redaction), written synchronously because the
 * process exits right after.
 */
export function logFatal(error: FatalError, fields: {exitCode: number}, fd = 2): void {
  // `err` as given: pino's error serializer would rebuild it from an Error (type "Object", empty stack).
  const serializers = {err: (value: FatalError) => value}
  const logger = pino(
    {name: 'ambient', level: 'fatal', serializers, redact: {paths: REDACT, censor: '[redacted]'}},
    terminalSafeLines(pino.destination({fd, sync: true})),
  )
  logger.fatal({err: error, exitCode: fields.exitCode}, error.message)
}
