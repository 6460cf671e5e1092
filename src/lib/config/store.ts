// The machine-local settings file (`ambient config set`, and what `ambient api-server` leaves
// behind so other commands find it). Backed by `conf`; AMBIENT_CONFIG_DIR moves it (tests,
// containers with a read-only home).
import Conf from 'conf'
import {isSettingName, type SettingName} from './settings.js'

export type StoredSettings = Partial<Record<SettingName, string>>

export interface SettingsStore {
  get(name: SettingName): string | undefined
  set(name: SettingName, value: string): void
  delete(name: SettingName): void
  all(): StoredSettings
  readonly path: string
}

export function openSettingsStore(env: NodeJS.ProcessEnv = process.env): SettingsStore {
  const conf = new Conf<StoredSettings>({
    projectName: 'ambient',
    projectSuffix: '',
    cwd: env.AMBIENT_CONFIG_DIR || undefined,
    // It can hold a token.
    configFileMode: 0o600,
  })
  return {
    get: (name) => {
      const v = conf.get(name)
      return typeof v === 'string' ? v : undefined
    },
    set: (name, value) => conf.set(name, value),
    delete: (name) => conf.delete(name),
    all: () => {
      const out: StoredSettings = {}
      for (const [k, v] of Object.entries(conf.store)) if (isSettingName(k) && typeof v === 'string') out[k] = v
      return out
    },
    path: conf.path,
  }
}

/** A store that holds nothing, for callers that must not read the user's file. */
export function emptySettingsStore(): SettingsStore {
  const values: StoredSettings = {}
  return {
    get: (name) => values[name],
    set: (name, value) => {
      values[name] = value
    },
    delete: (name) => {
      delete values[name]
    },
    all: () => ({...values}),
    path: '(memory)',
  }
}
