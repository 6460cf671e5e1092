import {Args} from '@oclif/core'
import {AmbientCommand} from '../../lib/cli/base.js'
import {SETTINGS, isSettingName, type SettingName, type SettingSource} from '../../lib/config/index.js'
import {ConfigError} from '../../lib/errors.js'

export interface ConfigValue {
  name: SettingName
  value: string | undefined
  source: SettingSource
}

export default class ConfigGet extends AmbientCommand {
  static override summary = 'Print the effective value of one setting and where it comes from.'
  static override examples = ['<%= config.bin %> config get AMBIENT_API_SERVER_URL', '<%= config.bin %> config get MODE --json']
  static override args = {name: Args.string({required: true, description: 'Setting name, e.g. AMBIENT_API_SERVER_URL'})}

  async run(): Promise<ConfigValue> {
    const {args} = await this.parse(ConfigGet)
    if (!isSettingName(args.name)) throw new ConfigError(args.name, `unknown setting ${args.name}: see \`ambient config ls\``)
    const result = describeSetting(args.name, this.loadSettings())
    this.log(result.value ?? '')
    return result
  }
}

export function describeSetting(
  name: SettingName,
  resolved: {config: Record<SettingName, unknown>; sources: Record<SettingName, SettingSource>},
): ConfigValue {
  const raw = resolved.config[name]
  const setting = SETTINGS[name]
  let value: string | undefined
  if (raw === undefined) value = undefined
  else if ('secret' in setting && setting.secret) value = '[redacted]'
  else if (typeof raw === 'object' && raw && 'from' in raw && 'to' in raw) value = `${raw.from}-${raw.to}`
  else if (typeof raw === 'object' && raw && 'port' in raw && 'host' in raw) value = `${raw.host}:${raw.port}`
  else value = String(raw)
  return {name, value, source: resolved.sources[name]}
}
