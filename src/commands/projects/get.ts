import {Args} from '@oclif/core'
import type {Project} from '../../lib/api/types.js'
import {ApiCommand, formatDetails} from '../../lib/cli/client.js'

export default class ProjectsGet extends ApiCommand {
  static override summary = 'Show one project.'
  static override examples = ['<%= config.bin %> projects get team-a', '<%= config.bin %> projects get team-a --json']
  static override args = {id: Args.string({required: true, description: 'Project id (the name it was created with)'})}

  async run(): Promise<Project> {
    const {args, flags} = await this.parse(ProjectsGet)
    const project = await this.restClient(flags).get('projects', args.id)
    this.log(formatDetails(project))
    return project
  }
}
