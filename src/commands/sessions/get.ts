import {Args} from '@oclif/core'
import type {Session} from '../../lib/api/types.js'
import {ApiCommand, formatDetails} from '../../lib/cli/client.js'

export default class SessionsGet extends ApiCommand {
  static override summary = 'Show one session, every field.'
  static override examples = ['<%= config.bin %> sessions get 2mFqX8d0kGzvJ3bH', '<%= config.bin %> sessions get 2mFqX8d0kGzvJ3bH --json']
  static override args = {id: Args.string({required: true, description: 'Session id'})}

  async run(): Promise<Session> {
    const {args, flags} = await this.parse(SessionsGet)
    const session = await this.restClient(flags).get('sessions', args.id)
    this.log(formatDetails(session))
    return session
  }
}
