// Runs the built CLI (bin/run.js over dist/, after `npm run build`) as a real process against
// an embedded API server, with its own settings directory so the user's file is never read.
import {execFile} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export const root = path.resolve(import.meta.dirname, '../..')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Fails early, with the fix, when the CLI has not been built with these commands. */
export function assertBuilt(commands: readonly string[]): void {
  const manifestPath = path.join(root, 'oclif.manifest.json')
  const manifest = fs.existsSync(manifestPath)
    ? (JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as {commands: Record<string, unknown>})
    : undefined
  for (const id of commands) {
    const file = path.join(root, 'dist/commands', `${id.replaceAll(':', '/')}.js`)
    if (!fs.existsSync(file) || (manifest && !(id in manifest.commands))) {
      throw new Error(`the CLI is not built with \`${id}\`: run \`npm run build\` (tsc + oclif manifest) first`)
    }
  }
}

export function tempConfigDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-cli-test-'))
}

/** The environment without any AMBIENT_* setting of the person running the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('AMBIENT_') || k === 'LOG_LEVEL' || k === 'MODE') continue
    env[k] = v
  }
  return env
}

export function runCli(args: readonly string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'bin/run.js'), ...args],
      {cwd: root, env: {...cleanEnv(), NO_COLOR: '1', ...env}, timeout: 60_000},
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
        resolve({code, stdout, stderr})
      },
    )
  })
}

/** stdout of a `--json` run, parsed. */
export function json(result: CliResult): unknown {
  try {
    return JSON.parse(result.stdout) as unknown
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
  }
}

export function record(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not an object: ${JSON.stringify(value)}`)
  return value as Record<string, unknown>
}
