import {Args} from '@oclif/core'
import type {ProjectSettings} from '../../lib/api/types.js'
import {ApiCommand, formatDetails} from '../../lib/cli/client.js'

export default class ProjectSettingsGet extends ApiCommand {
  static override summary = 'Show one project settings object.'
  static override examples = [
    '<%= config.bin %> project-settings get 2mFqX8d0kGzvJ3bH',
    '<%= config.bin %> project-settings get 2mFqX8d0kGzvJ3bH --json',
  ]
  static override args = {id: Args.string({required: true, description: 'Project settings id'})}

  async run(): Promise<ProjectSettings> {
    const {args, flags} = await this.parse(ProjectSettingsGet)
    const settings = await this.restClient(flags).get('project_settings', args.id)
    this.log(formatDetails(settings))
    return settings
  }
}
