import path from 'node:path'
import {Args, Flags} from '@oclif/core'
import {RESOURCE_NAMES, type ObjectMeta, type ResourceName} from '../../lib/api/types.js'
import type {Informer} from '../../lib/informer/index.js'
import {ApiCommand} from '../../lib/cli/client.js'
import {connectApi} from '../../lib/connection/index.js'
import {eventLine, NdjsonWriter} from '../../lib/cli/ndjson.js'
import {withShutdownSignal} from '../../lib/cli/signals.js'
import {waitForAbort} from '../../lib/util/abort.js'
import {wantsLiveView} from '../../lib/cli/terminal.js'

/** What the view and the filters read; the three resources and older ones all fit. */
type Watched = ObjectMeta & {name?: string; phase?: string; project_id?: string}

export default class Watch extends ApiCommand {
  static override summary = 'Follow a watch stream live: a table that updates in place, or NDJSON when piped.'
  static override description =
    `Lists every page over REST, then follows the gRPC watch stream, relisting after every reconnect so that no change is missed (the server replays nothing). On a terminal: a live table (ID, NAME, PHASE, PROJECT, AGE, LAST CHANGE; changed rows highlighted) above a scrolling event log; q quits. With --json, or when stdout is not a terminal: one JSON object per event, {"type":"ADDED|MODIFIED|DELETED","resource","id","updated_at",...}.`
  static override examples = [
    '<%= config.bin %> watch sessions',
    '<%= config.bin %> watch sessions --project demo --phase Running,Pending',
    '<%= config.bin %> watch projects --json | jq .id',
    '<%= config.bin %> watch workflows --base-path /api/ambient-api-server/v1 --watch poll',
  ]
  static override enableJsonFlag = false
  static override args = {
    resource: Args.string({
      required: true,
      description: `Resource to watch: ${RESOURCE_NAMES.join(', ')}; any other REST resource (e.g. workflows, tasks of the older /api/ambient-api-server/v1 generation) is polled.`,
    }),
  }
  static override flags = {
    json: Flags.boolean({description: 'NDJSON on stdout, one line per event (the default when stdout is not a terminal).'}),
    project: Flags.string({description: 'Only objects of this project id.'}),
    phase: Flags.string({description: 'Only these phases (comma-separated).'}),
    name: Flags.string({description: 'Only names containing this text, or matching this glob (*, ?).'}),
    watch: Flags.option({
      options: ['stream', 'poll'] as const,
      default: 'stream',
      description: 'Follow the gRPC stream, or poll the REST list (older servers).',
    })(),
  }

  async run(): Promise<void> {
    // First, so that no SIGINT/SIGTERM during start-up is lost (see signals.ts).
    await withShutdownSignal((stop) => this.follow(stop))
  }

  private async follow(stop: AbortSignal): Promise<void> {
    const {args, flags} = await this.parse(Watch)
    const config = this.apiSettings(flags)
    const interactive = wantsLiveView(flags.json)
    const logFile = interactive ? path.join(config.AMBIENT_STATE_DIR, 'logs', 'watch.log') : undefined
    if (logFile) process.stderr.write(`logs: ${logFile}\n`)
    const logger = this.createLogger(config.LOG_LEVEL, 'watch', logFile)
    const api = await connectApi(config, {watch: flags.watch, logger})
    const resource = args.resource
    const known = (RESOURCE_NAMES as readonly string[]).includes(resource)
    const informer: Informer<Watched> = known ? await api.informer(resource as ResourceName) : await api.pollingInformer<Watched>(resource)
    const {WatchModel} = await import('../../lib/tui/watch-model.js')
    const model = new WatchModel({filters: {project: flags.project, phase: flags.phase, name: flags.name}})
    try {
      if (!interactive) {
        const out = new NdjsonWriter()
        informer.on((event) => {
          const o = event.object
          if (model.matches({name: o.name ?? '', phase: o.phase, project: o.project_id})) out.write(eventLine(event))
        })
        await informer.start(stop)
        await waitForAbort(stop)
        await informer.done
        await out.flush()
        return
      }
      informer.on((event) => model.apply(event, {initial: !informer.hasSynced()}))
      informer.onStatus((status) => model.setConnection(status.connection, status.lastError))
      const {renderWatchView} = await import('../../lib/tui/watch-view.js')
      const quit = new AbortController()
      const signal = AbortSignal.any([stop, quit.signal])
      await informer.start(signal)
      await renderWatchView({model, title: `watch ${resource} (${config.AMBIENT_API_SERVER_URL})`, signal, onQuit: () => quit.abort()})
      await informer.stop()
    } finally {
      api.close()
    }
  }
}
