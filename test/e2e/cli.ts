// The built CLI (`bin/run.js` over dist/) as a real child process, with its own settings and
// state directories, its stdout split into lines as they arrive.
import {spawn, type ChildProcess} from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export const root = path.resolve(import.meta.dirname, '../..')

/** Node 24 from the project (the system node may be older); the test runner's otherwise. */
export const nodeBin = fs.existsSync(path.join(root, 'node_modules/.bin/node')) ? path.join(root, 'node_modules/.bin/node') : process.execPath

/** Fails early, with the fix, when the CLI has not been built (dist/ is what bin/run.js runs). */
export function assertBuilt(): void {
  if (!fs.existsSync(path.join(root, 'dist/commands/run.js'))) {
    throw new Error('the CLI is not built: run `npx tsc -p tsconfig.json` (or `npm run build`) first')
  }
}

export function tempDir(prefix: string): {dir: string; remove(): void} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ambient-e2e-${prefix}-`))
  return {dir, remove: () => fs.rmSync(dir, {recursive: true, force: true})}
}

/** The environment without the AMBIENT_* settings of whoever runs the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('AMBIENT_') || k === 'LOG_LEVEL' || k === 'MODE' || k === 'METRICS_ADDR' || k === 'PROBE_ADDR') continue
    env[k] = v
  }
  return env
}

export interface CliProcess {
  child: ChildProcess
  /** stdout lines received so far (complete lines only). */
  lines: string[]
  stderr(): string
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null; at: number}>
  /** Resolves at the first complete stdout line, with the time it arrived. */
  firstLine: Promise<number>
}

export function startCli(args: readonly string[], env: Record<string, string>): CliProcess {
  const child = spawn(nodeBin, [path.join(root, 'bin/run.js'), ...args], {
    cwd: root,
    env: {...cleanEnv(), NO_COLOR: '1', ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let partial = ''
  let err = ''
  let gotFirst: (at: number) => void = () => {}
  const firstLine = new Promise<number>((resolve) => (gotFirst = resolve))
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (chunk: string) => {
    partial += chunk
    const parts = partial.split('\n')
    partial = parts.pop() ?? ''
    if (parts.length > 0) {
      lines.push(...parts)
      gotFirst(performance.now())
    }
  })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => (err += chunk))
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null; at: number}>((resolve) => {
    child.once('close', (code, signal) => {
      if (partial) lines.push(partial)
      resolve({code, signal, at: performance.now()})
    })
  })
  return {child, lines, stderr: () => err, exited, firstLine}
}

/** Kills the process if it is still running (used in cleanups). */
export async function ensureDead(cli: CliProcess): Promise<void> {
  if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL')
  await cli.exited
}

/** A port nobody listens on right now (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface NdjsonLine {
  type: string
  resource: string
  id?: string
  updated_at?: string
  added?: number
  modified?: number
  deleted?: number
}

/** Every stdout line as JSON; throws naming the first line that is not. */
export function parseNdjson(lines: readonly string[]): NdjsonLine[] {
  return lines.map((line, i) => {
    try {
      const value = JSON.parse(line) as unknown
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
      return value as NdjsonLine
    } catch (err) {
      throw new Error(`stdout line ${i + 1} is not a JSON object (${String(err)}): ${line.slice(0, 200)}`)
    }
  })
}
