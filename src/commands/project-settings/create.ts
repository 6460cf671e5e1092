import {Flags} from '@oclif/core'
import type {ProjectSettings, ProjectSettingsSpec} from '../../lib/api/types.js'
import {ApiCommand, checkGroupAccess, jsonFlag} from '../../lib/cli/client.js'

export default class ProjectSettingsCreate extends ApiCommand {
  static override summary = 'Create the settings of a project (group access, repositories).'
  static override examples = [
    `<%= config.bin %> project-settings create --project-id team-a --group-access '[{"group":"devs","role":"edit"}]'`,
    `<%= config.bin %> project-settings create --project-id team-a --repositories '[{"url":"https://github.com/acme/web"}]' --json`,
  ]
  static override flags = {
    'project-id': Flags.string({required: true, description: 'Id (name) of the project these settings belong to.'}),
    'group-access': Flags.string({description: 'Group access as JSON: [{"group":...,"role":...}] (each becomes a RoleBinding).'}),
    repositories: Flags.string({description: 'Repositories as JSON.'}),
  }

  async run(): Promise<ProjectSettings> {
    const {flags} = await this.parse(ProjectSettingsCreate)
    const spec: ProjectSettingsSpec = {project_id: flags['project-id']}
    const groupAccess = jsonFlag('group-access', flags['group-access'], checkGroupAccess)
    const repositories = jsonFlag('repositories', flags.repositories)
    if (groupAccess !== undefined) spec.group_access = groupAccess
    if (repositories !== undefined) spec.repositories = repositories
    const settings = await this.restClient(flags).create('project_settings', spec)
    this.log(`project settings ${settings.id} created (project ${settings.project_id})`)
    return settings
  }
}
