// Resolves configuration once: flags > environment > settings file > defaults, each value
// validated by the table in settings.ts. An invalid value is a ConfigError naming the
// variable and what it accepts; nothing falls back silently to a default.
import {ConfigError} from '../errors.js'
import type {z} from 'zod'
import {SETTINGS, SETTING_NAMES, type Config, type SettingDef, type SettingName} from './settings.js'
import {openSettingsStore, type SettingsStore} from './store.js'

export * from './settings.js'
export {openSettingsStore, emptySettingsStore, type SettingsChanges, type SettingsStore} from './store.js'
export {ensureDir} from './dirs.js'
export {TokenSource} from './token.js'

export type Overrides = Partial<Record<SettingName, string | number | boolean | undefined>>

export type SettingSource = 'flag' | 'env' | 'file' | 'default' | 'unset'

export interface LoadConfigOptions {
  /** Values from command-line flags (highest precedence). */
  overrides?: Overrides
  env?: NodeJS.ProcessEnv
  store?: SettingsStore
}

export interface ResolvedConfig {
  config: Config
  sources: Record<SettingName, SettingSource>
}

export function parseSetting<N extends SettingName>(name: N, raw: string): Config[N] {
  const setting = SETTINGS[name]
  const result = setting.schema.safeParse(raw)
  if (!result.success) {
    const issue = result.error.issues[0]?.message ?? 'invalid'
    const acceptedValues: readonly string[] | undefined = 'accepted' in setting ? setting.accepted : undefined
    const accepted = acceptedValues ? ` (accepted: ${acceptedValues.join(', ')})` : ''
    const shown = 'secret' in setting && setting.secret ? '[redacted]' : JSON.stringify(raw)
    throw new ConfigError(name, `${name}: invalid value ${shown}: ${issue}${accepted}`)
  }
  return result.data as Config[N]
}

export function loadConfig(options: LoadConfigOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env
  const store = options.store ?? openSettingsStore(env)
  const stored = store.all()
  const config: Partial<Record<SettingName, unknown>> = {}
  const sources = {} as Record<SettingName, SettingSource>
  for (const name of SETTING_NAMES) {
    const flag = options.overrides?.[name]
    let raw: string | undefined
    let source: SettingSource = 'unset'
    if (flag !== undefined) {
      raw = String(flag)
      source = 'flag'
    } else if (env[name] !== undefined) {
      raw = env[name]
      source = 'env'
    } else if (stored[name] !== undefined) {
      raw = stored[name]
      source = 'file'
    } else {
      const setting: SettingDef<z.ZodType> = SETTINGS[name]
      if (setting.default !== undefined) {
        raw = setting.default
        source = 'default'
      }
    }
    sources[name] = source
    config[name] = raw === undefined ? undefined : parseSetting(name, raw)
  }
  return {config: config as Config, sources}
}

/**
 * The same resolved configuration with some values replaced, each validated like any other
 * (a command that starts the embedded server points itself at it this way): nothing is
 * re-read from the environment or the settings file.
 */
export function withOverrides(resolved: ResolvedConfig, overrides: Overrides): ResolvedConfig {
  const config: Record<string, unknown> = {...resolved.config}
  const sources = {...resolved.sources}
  for (const name of SETTING_NAMES) {
    if (!Object.hasOwn(overrides, name)) continue
    const value = overrides[name]
    config[name] = value === undefined ? undefined : parseSetting(name, String(value))
    sources[name] = value === undefined ? 'unset' : 'flag'
  }
  return {config: config as Config, sources}
}
