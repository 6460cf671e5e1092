import {Args} from '@oclif/core'
import {AmbientCommand} from '../../lib/cli/base.js'
import {isSettingName, openSettingsStore, parseSetting} from '../../lib/config/index.js'
import {ConfigError} from '../../lib/errors.js'

export default class ConfigSet extends AmbientCommand {
  static override summary = 'Store a setting in the settings file (below flags and environment in precedence).'
  static override examples = [
    '<%= config.bin %> config set AMBIENT_API_SERVER_URL http://ambient.example:8000',
    '<%= config.bin %> config set MODE local',
  ]
  static override args = {
    name: Args.string({required: true, description: 'Setting name'}),
    value: Args.string({required: true, description: 'Value, as you would put it in the environment'}),
  }

  async run(): Promise<{name: string; path: string}> {
    const {args} = await this.parse(ConfigSet)
    if (!isSettingName(args.name)) throw new ConfigError(args.name, `unknown setting ${args.name}: see \`ambient config ls\``)
    parseSetting(args.name, args.value) // refuse to store what would fail at every later start
    const store = openSettingsStore()
    store.set(args.name, args.value)
    this.log(`${args.name} stored in ${store.path}`)
    return {name: args.name, path: store.path}
  }
}
