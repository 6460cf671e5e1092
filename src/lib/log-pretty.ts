// Logs for a person at a terminal: pino-pretty, fed records whose strings (and keys) went
// through the sanitizer first, so a server's text in a message or a field cannot drive the
// terminal while pino-pretty's own colours stay. It runs in this thread, not as pino's worker
// transport, because the sanitizing step is a function and a worker cannot be handed one;
// logs on a terminal are few. pino-pretty (~35 ms to load) is only loaded when asked for.
import {createRequire} from 'node:module'
import type {DestinationStream} from 'pino'
import {isRecord} from './util/is-record.js'
import {sanitize, sanitizeJsonValue, sanitizeLines} from './util/sanitize.js'

export interface PrettyLogOptions {
  /** Where the lines go; default process.stderr. */
  out?: NodeJS.WritableStream
  colorize?: boolean
}

export function prettyLogStream(options: PrettyLogOptions = {}): DestinationStream {
  const require = createRequire(import.meta.url)
  const {prettyFactory} = require('pino-pretty') as typeof import('pino-pretty')
  const prettify = prettyFactory({colorize: options.colorize ?? true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname'})
  const out = options.out ?? process.stderr
  return {
    write(line: string) {
      let record: unknown
      try {
        record = JSON.parse(line)
      } catch {
        out.write(`${sanitizeLines(line.replace(/\n$/, ''))}\n`)
        return
      }
      out.write(prettify(sanitizeRecord(record)))
    },
  }
}

/** Every string sanitized; a stack trace keeps its lines (each one sanitized). */
function sanitizeRecord(record: unknown): unknown {
  const clean = sanitizeJsonValue(record)
  restoreStacks(record, clean, 0)
  return clean
}

function restoreStacks(raw: unknown, clean: unknown, depth: number): void {
  if (depth > 4 || !isRecord(raw) || !isRecord(clean)) return
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'stack' && typeof value === 'string') clean[sanitize(key)] = sanitizeLines(value)
    else restoreStacks(value, clean[sanitize(key)], depth + 1)
  }
}
