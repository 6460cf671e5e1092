import {Args} from '@oclif/core'
import {ApiCommand, deleteAll} from '../../lib/cli/client.js'

export default class ProjectSettingsRm extends ApiCommand {
  static override summary = 'Delete project settings (their RoleBindings are kept).'
  static override examples = ['<%= config.bin %> project-settings rm 2mFqX8d0kGzvJ3bH', '<%= config.bin %> project-settings rm id1 id2 --json']
  static override strict = false
  static override args = {id: Args.string({required: true, description: 'Project settings id (several may be given)'})}

  async run(): Promise<{deleted: string[]}> {
    const {argv, flags} = await this.parse(ProjectSettingsRm)
    return deleteAll(this.restClient(flags), 'project_settings', argv.map(String), (line) => this.log(line))
  }
}
