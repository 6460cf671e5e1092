// Folders the CLI writes into are created by the command that needs them, never at start-up:
// in a container only the mounted volumes are writable and HOME may be `/`. A folder that
// cannot be created is a ConfigError (exit 2) naming the variable that moves it.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {ConfigError} from '../errors.js'

export interface EnsureDirOptions {
  dir: string
  /** The variable that moves the folder, named in the error. */
  variable: string
  /** What the folder is for, e.g. "the runner registry of local mode". */
  purpose: string
}

/** Creates `dir` (0700, with its parents) unless it exists; returns it. */
export function ensureDir(options: EnsureDirOptions): string {
  try {
    fs.mkdirSync(options.dir, {recursive: true, mode: 0o700})
  } catch (err) {
    throw new ConfigError(
      options.variable,
      `${options.variable}: cannot create ${options.dir} for ${options.purpose} (${describeFsError(err)}); set ${options.variable} to a writable folder`,
    )
  }
  return options.dir
}

/** "EACCES: permission denied": node's message without the syscall and path it appends. */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (typeof e?.code !== 'string') return String(err)
  const head = typeof e.message === 'string' ? (e.message.split(', ')[0] ?? '') : ''
  return head.startsWith(`${e.code}:`) ? head : e.code
}

/**
 * The settings folder conf would pick for project "ambient" (env-paths' config folder), found
 * without importing conf: `$XDG_CONFIG_HOME/ambient`, else `~/.config/ambient` (Linux),
 * `~/Library/Preferences/ambient` (macOS), `%APPDATA%\ambient\Config` (Windows).
 */
export function defaultSettingsDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = os.homedir()
  if (platform === 'darwin') return path.join(home, 'Library', 'Preferences', 'ambient')
  if (platform === 'win32') return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'ambient', 'Config')
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'ambient')
}
