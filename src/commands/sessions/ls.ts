import {Flags} from '@oclif/core'
import type {ListResponse, Session} from '../../lib/api/types.js'
import {ApiCommand} from '../../lib/cli/client.js'
import {formatAge, formatTable} from '../../lib/cli/table.js'

export default class SessionsLs extends ApiCommand {
  static override summary = 'List sessions (every page unless --page or --size is given).'
  static override description =
    'Under --json: the array of sessions; with --page/--size, the page as the server returns it ({kind, page, size, total, items}).'
  static override examples = [
    '<%= config.bin %> sessions ls',
    '<%= config.bin %> sessions ls --project my-project --json',
    `<%= config.bin %> sessions ls --search "name like 'fix%'" --order-by "created_at desc"`,
    '<%= config.bin %> sessions ls --page 2 --size 50',
  ]
  static override flags = {
    project: Flags.string({char: 'p', description: 'Only sessions of this project (project_id).'}),
    search: Flags.string({description: 'Server-side filter, e.g. "name like \'foo%\'".'}),
    'order-by': Flags.string({description: 'Sort order, e.g. "created_at desc".'}),
    all: Flags.boolean({description: 'Fetch every page (the default).', default: true, allowNo: true}),
    page: Flags.integer({min: 1, description: 'Fetch only this page (1-based).'}),
    size: Flags.integer({min: 1, description: 'Page size (with --page; alone: the first page of this size).'}),
  }

  async run(): Promise<Session[] | ListResponse<Session>> {
    const {flags} = await this.parse(SessionsLs)
    const client = this.restClient(flags)
    const filter = {project_id: flags.project, search: flags.search, orderBy: flags['order-by']}
    if (flags.page !== undefined || flags.size !== undefined || !flags.all) {
      const page = await client.list('sessions', {...filter, page: flags.page ?? 1, size: flags.size})
      this.log(sessionTable(page.items))
      this.log(`page ${page.page}, ${page.items.length} of ${page.total}`)
      return page
    }
    const sessions = await client.listAll('sessions', filter)
    this.log(sessionTable(sessions))
    return sessions
  }
}

function sessionTable(sessions: readonly Session[]): string {
  return formatTable(sessions, [
    {header: 'id', get: (s) => s.id},
    {header: 'name', get: (s) => s.name},
    {header: 'project', get: (s) => s.project_id},
    {header: 'phase', get: (s) => s.phase},
    {header: 'age', get: (s) => formatAge(s.created_at)},
  ])
}
