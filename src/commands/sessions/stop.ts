import {Args} from '@oclif/core'
import type {Session} from '../../lib/api/types.js'
import {ApiCommand} from '../../lib/cli/client.js'

export default class SessionsStop extends ApiCommand {
  static override summary = 'Stop a session (phase Running, Creating or Pending -> Stopping).'
  static override examples = ['<%= config.bin %> sessions stop 2mFqX8d0kGzvJ3bH']
  static override args = {id: Args.string({required: true, description: 'Session id'})}

  async run(): Promise<Session> {
    const {args, flags} = await this.parse(SessionsStop)
    const session = await this.restClient(flags).stop(args.id)
    this.log(`session ${session.id}: ${session.phase ?? '<none>'}`)
    return session
  }
}
