// The machine-local settings file (`ambient config set`, and what `ambient api-server` leaves
// behind so other commands find it): JSON kept by `conf`, AMBIENT_CONFIG_DIR moves it.
// Reading never creates anything, so a start with a read-only or missing home is a start
// without a settings file. Only a write creates the folder (0700; the file may hold a token,
// 0600), and one that cannot be created is a ConfigError naming AMBIENT_CONFIG_DIR.
// (conf stays imported at start-up: importing it later would hook SIGTERM after
// shutdownSignal() took the signals over, see signals.ts.)
import fs from 'node:fs'
import path from 'node:path'
import Conf from 'conf'
import {ConfigError} from '../errors.js'
import {defaultSettingsDir, describeFsError, ensureDir} from './dirs.js'
import {isSettingName, type SettingName} from './settings.js'

export type StoredSettings = Partial<Record<SettingName, string>>

/** Values to store; `undefined` removes the setting. */
export type SettingsChanges = Partial<Record<SettingName, string | undefined>>

export interface SettingsStore {
  get(name: SettingName): string | undefined
  set(name: SettingName, value: string): void
  delete(name: SettingName): void
  /** Several changes in one write. */
  update(changes: SettingsChanges): void
  all(): StoredSettings
  readonly path: string
}

const VARIABLE = 'AMBIENT_CONFIG_DIR'

export function settingsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.AMBIENT_CONFIG_DIR || defaultSettingsDir(env)
}

/** The settings in `file`; none when it does not exist. Unreadable or corrupt: ConfigError. */
export function readSettingsFile(file: string): StoredSettings {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return {}
    throw new ConfigError(VARIABLE, `cannot read the settings file ${file} (${describeFsError(err)})`)
  }
  let json: unknown
  try {
    json = text.trim() === '' ? {} : JSON.parse(text)
  } catch (err) {
    throw new ConfigError(VARIABLE, `the settings file ${file} is not valid JSON (${(err as Error).message}): fix it or remove it`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError(VARIABLE, `the settings file ${file} does not hold a JSON object: fix it or remove it`)
  }
  const out: StoredSettings = {}
  for (const [k, v] of Object.entries(json)) if (isSettingName(k) && typeof v === 'string') out[k] = v
  return out
}

export function openSettingsStore(env: NodeJS.ProcessEnv = process.env): SettingsStore {
  const dir = settingsDir(env)
  const file = path.join(dir, 'config.json')
  let cached: StoredSettings | undefined
  const all = (): StoredSettings => (cached ??= readSettingsFile(file))

  function update(changes: SettingsChanges): void {
    const current = all()
    const entries = Object.entries(changes) as [SettingName, string | undefined][]
    // Nothing to change (e.g. unset of a setting that is not stored): no folder, no file.
    if (entries.every(([name, value]) => current[name] === value)) return
    ensureDir({dir, variable: VARIABLE, purpose: 'the settings file'})
    cached = undefined
    try {
      // cwd named explicitly: the folder read above is by construction the one written here.
      const conf = new Conf<StoredSettings>({projectName: 'ambient', projectSuffix: '', cwd: dir, configFileMode: 0o600})
      const set: StoredSettings = {}
      for (const [name, value] of entries) {
        if (value === undefined) conf.delete(name)
        else set[name] = value
      }
      if (Object.keys(set).length > 0) conf.set(set)
    } catch (err) {
      if (typeof (err as NodeJS.ErrnoException).code !== 'string') throw err
      throw new ConfigError(VARIABLE, `cannot write the settings file ${file} (${describeFsError(err)}); set ${VARIABLE} to a writable folder`)
    }
  }

  return {
    get: (name) => all()[name],
    set: (name, value) => update({[name]: value}),
    delete: (name) => update({[name]: undefined}),
    update,
    all: () => ({...all()}),
    path: file,
  }
}

/** A store that holds nothing, for callers that must not read the user's file. */
export function emptySettingsStore(): SettingsStore {
  const values: StoredSettings = {}
  const update = (changes: SettingsChanges): void => {
    for (const [name, value] of Object.entries(changes) as [SettingName, string | undefined][]) {
      if (value === undefined) delete values[name]
      else values[name] = value
    }
  }
  return {
    get: (name) => values[name],
    set: (name, value) => update({[name]: value}),
    delete: (name) => update({[name]: undefined}),
    update,
    all: () => ({...values}),
    path: '(memory)',
  }
}
