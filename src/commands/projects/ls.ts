import {Flags} from '@oclif/core'
import type {ListResponse, Project} from '../../lib/api/types.js'
import {ApiCommand} from '../../lib/cli/client.js'
import {formatAge, formatTable} from '../../lib/cli/table.js'

export default class ProjectsLs extends ApiCommand {
  static override summary = 'List projects (every page unless --page or --size is given).'
  static override description = 'Under --json: the array of projects; with --page/--size, the page as the server returns it.'
  static override examples = ['<%= config.bin %> projects ls', `<%= config.bin %> projects ls --search "name like 'team-%'" --json`]
  static override flags = {
    search: Flags.string({description: 'Server-side filter, e.g. "name like \'foo%\'".'}),
    'order-by': Flags.string({description: 'Sort order, e.g. "name asc".'}),
    all: Flags.boolean({description: 'Fetch every page (the default).', default: true, allowNo: true}),
    page: Flags.integer({min: 1, description: 'Fetch only this page (1-based).'}),
    size: Flags.integer({min: 1, description: 'Page size.'}),
  }

  async run(): Promise<Project[] | ListResponse<Project>> {
    const {flags} = await this.parse(ProjectsLs)
    const client = this.restClient(flags)
    const filter = {search: flags.search, orderBy: flags['order-by']}
    if (flags.page !== undefined || flags.size !== undefined || !flags.all) {
      const page = await client.list('projects', {...filter, page: flags.page ?? 1, size: flags.size})
      this.log(projectTable(page.items))
      this.log(`page ${page.page}, ${page.items.length} of ${page.total}`)
      return page
    }
    const projects = await client.listAll('projects', filter)
    this.log(projectTable(projects))
    return projects
  }
}

function projectTable(projects: readonly Project[]): string {
  return formatTable(projects, [
    {header: 'id', get: (p) => p.id},
    {header: 'name', get: (p) => p.name},
    {header: 'display name', get: (p) => p.display_name},
    {header: 'status', get: (p) => p.status},
    {header: 'age', get: (p) => formatAge(p.created_at)},
  ])
}
