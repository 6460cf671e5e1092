import {Flags} from '@oclif/core'
import type {ListResponse, ProjectSettings} from '../../lib/api/types.js'
import {ApiCommand} from '../../lib/cli/client.js'
import {formatAge, formatTable} from '../../lib/cli/table.js'

export default class ProjectSettingsLs extends ApiCommand {
  static override summary = 'List project settings (every page unless --page or --size is given).'
  static override description = 'Under --json: the array of project settings; with --page/--size, the page as the server returns it.'
  static override examples = [
    '<%= config.bin %> project-settings ls',
    `<%= config.bin %> project-settings ls --search "project_id = 'team-a'" --json`,
  ]
  static override flags = {
    search: Flags.string({description: 'Server-side filter, e.g. "project_id = \'team-a\'".'}),
    'order-by': Flags.string({description: 'Sort order, e.g. "created_at desc".'}),
    all: Flags.boolean({description: 'Fetch every page (the default).', default: true, allowNo: true}),
    page: Flags.integer({min: 1, description: 'Fetch only this page (1-based).'}),
    size: Flags.integer({min: 1, description: 'Page size.'}),
  }

  async run(): Promise<ProjectSettings[] | ListResponse<ProjectSettings>> {
    const {flags} = await this.parse(ProjectSettingsLs)
    const client = this.restClient(flags)
    const filter = {search: flags.search, orderBy: flags['order-by']}
    if (flags.page !== undefined || flags.size !== undefined || !flags.all) {
      const page = await client.list('project_settings', {...filter, page: flags.page ?? 1, size: flags.size})
      this.log(settingsTable(page.items))
      this.log(`page ${page.page}, ${page.items.length} of ${page.total}`)
      return page
    }
    const settings = await client.listAll('project_settings', filter)
    this.log(settingsTable(settings))
    return settings
  }
}

function settingsTable(settings: readonly ProjectSettings[]): string {
  return formatTable(settings, [
    {header: 'id', get: (s) => s.id},
    {header: 'project', get: (s) => s.project_id},
    {header: 'groups', get: (s) => countEntries(s.group_access)},
    {header: 'repositories', get: (s) => countEntries(s.repositories)},
    {header: 'age', get: (s) => formatAge(s.created_at)},
  ])
}

/** Entries of a JSON array document; "?" when the stored document is malformed. */
function countEntries(json: string | undefined): string | undefined {
  if (json === undefined || json === '') return undefined
  try {
    const value = JSON.parse(json) as unknown
    return Array.isArray(value) ? String(value.length) : '?'
  } catch {
    return '?'
  }
}
