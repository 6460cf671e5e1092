import {Args} from '@oclif/core'
import {ApiCommand, deleteAll} from '../../lib/cli/client.js'

export default class ProjectsRm extends ApiCommand {
  static override summary = 'Delete projects (their Kubernetes namespaces are kept).'
  static override examples = ['<%= config.bin %> projects rm 2mFqX8d0kGzvJ3bH', '<%= config.bin %> projects rm id1 id2 --json']
  static override strict = false
  static override args = {id: Args.string({required: true, description: 'Project id (several may be given)'})}

  async run(): Promise<{deleted: string[]}> {
    const {argv, flags} = await this.parse(ProjectsRm)
    return deleteAll(this.restClient(flags), 'projects', argv.map(String), (line) => this.log(line))
  }
}
