import {Args} from '@oclif/core'
import {ApiCommand, deleteAll} from '../../lib/cli/client.js'

export default class ProjectsRm extends ApiCommand {
  static override summary = 'Delete projects (their Kubernetes namespaces are kept).'
  static override examples = ['<%= config.bin %> projects rm team-a', '<%= config.bin %> projects rm team-a team-b --json']
  static override strict = false
  static override args = {id: Args.string({required: true, description: 'Project id, the name it was created with (several may be given)'})}

  async run(): Promise<{deleted: string[]}> {
    const {argv, flags} = await this.parse(ProjectsRm)
    return deleteAll(this.restClient(flags), 'projects', argv.map(String), (line) => this.log(line))
  }
}
