import {Flags} from '@oclif/core'
import type {Project, ProjectSpec} from '../../lib/api/types.js'
import {ApiCommand} from '../../lib/cli/client.js'

export default class ProjectsCreate extends ApiCommand {
  static override summary = 'Create a project (its name becomes a Kubernetes namespace).'
  static override examples = [
    '<%= config.bin %> projects create --name team-a',
    '<%= config.bin %> projects create --name team-a --display-name "Team A" --description "Frontend agents" --json',
  ]
  static override flags = {
    name: Flags.string({
      char: 'n',
      required: true,
      description: 'Project name, also its id: 2-63 lower-case letters, digits and -, starting with a letter and ending with a letter or digit.',
    }),
    'display-name': Flags.string({description: 'Human-readable name.'}),
    description: Flags.string({description: 'Description.'}),
  }

  async run(): Promise<Project> {
    const {flags} = await this.parse(ProjectsCreate)
    const spec: ProjectSpec = {name: flags.name}
    if (flags['display-name'] !== undefined) spec.display_name = flags['display-name']
    if (flags.description !== undefined) spec.description = flags.description
    const project = await this.restClient(flags).create('projects', spec)
    this.log(`project ${project.id} created (${project.name})`)
    return project
  }
}
