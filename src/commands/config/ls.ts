import {AmbientCommand} from '../../lib/cli/base.js'
import {formatTable} from '../../lib/cli/table.js'
import {SETTING_NAMES, SETTINGS} from '../../lib/config/index.js'
import {describeSetting, type ConfigValue} from './get.js'

export default class ConfigLs extends AmbientCommand {
  static override summary = 'List every setting: effective value, source (flag, env, file, default) and meaning.'
  static override description = 'Precedence: flags > environment > settings file (`ambient config set`) > defaults. Secrets are shown as [redacted].'
  static override examples = ['<%= config.bin %> config ls', '<%= config.bin %> config ls --json']

  async run(): Promise<ConfigValue[]> {
    await this.parse(ConfigLs)
    const resolved = this.loadSettings()
    const rows = SETTING_NAMES.map((name) => describeSetting(name, resolved))
    if (!this.jsonEnabled()) {
      this.log(
        formatTable(rows, [
          {header: 'name', get: (r) => r.name},
          {header: 'value', get: (r) => r.value},
          {header: 'source', get: (r) => r.source},
          {header: 'description', get: (r) => SETTINGS[r.name].description},
        ]),
      )
    }
    return rows
  }
}
