import {Args} from '@oclif/core'
import {AmbientCommand} from '../../lib/cli/base.js'
import {isSettingName, openSettingsStore} from '../../lib/config/index.js'
import {ConfigError} from '../../lib/errors.js'

export default class ConfigUnset extends AmbientCommand {
  static override summary = 'Remove a setting from the settings file.'
  static override examples = ['<%= config.bin %> config unset AMBIENT_API_TOKEN']
  static override args = {name: Args.string({required: true, description: 'Setting name'})}

  async run(): Promise<{name: string; path: string}> {
    const {args} = await this.parse(ConfigUnset)
    if (!isSettingName(args.name)) throw new ConfigError(args.name, `unknown setting ${args.name}: see \`ambient config ls\``)
    const store = openSettingsStore()
    store.delete(args.name)
    this.log(`${args.name} removed from ${store.path}`)
    return {name: args.name, path: store.path}
  }
}
