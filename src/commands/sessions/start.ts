import {Args} from '@oclif/core'
import type {Session} from '../../lib/api/types.js'
import {ApiCommand} from '../../lib/cli/client.js'

export default class SessionsStart extends ApiCommand {
  static override summary = 'Start a session (phase empty, Stopped, Failed or Completed -> Pending).'
  static override examples = ['<%= config.bin %> sessions start 2mFqX8d0kGzvJ3bH']
  static override args = {id: Args.string({required: true, description: 'Session id'})}

  async run(): Promise<Session> {
    const {args, flags} = await this.parse(SessionsStart)
    const session = await this.restClient(flags).start(args.id)
    this.log(`session ${session.id}: ${session.phase ?? '<none>'}`)
    return session
  }
}
