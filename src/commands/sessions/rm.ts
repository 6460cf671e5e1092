import {Args} from '@oclif/core'
import {ApiCommand, deleteAll} from '../../lib/cli/client.js'

export default class SessionsRm extends ApiCommand {
  static override summary = 'Delete sessions.'
  static override examples = ['<%= config.bin %> sessions rm 2mFqX8d0kGzvJ3bH', '<%= config.bin %> sessions rm id1 id2 id3 --json']
  static override strict = false
  static override args = {id: Args.string({required: true, description: 'Session id (several may be given)'})}

  async run(): Promise<{deleted: string[]}> {
    const {argv, flags} = await this.parse(SessionsRm)
    return deleteAll(this.restClient(flags), 'sessions', argv.map(String), (line) => this.log(line))
  }
}
