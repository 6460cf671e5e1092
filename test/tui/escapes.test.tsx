// Terminal escape injection through the views drawn in-process: the Ink dashboards of `run`
// and `watch`, the coloured text of `diff`, and pretty logs (pino-pretty, as on a terminal).
// Server and runner strings carry an OSC title, a screen clear, an OSC 52 clipboard write,
// C1/DEL bytes and a bidi override; only the programs' own colours may reach the terminal.
import {execFile} from 'node:child_process'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {renderText} from '../../src/lib/diff/render.js'
import type {DiffEntry} from '../../src/lib/diff/types.js'
import type {RunSnapshot} from '../../src/lib/tui/model.js'
import {renderRunView} from '../../src/lib/tui/run-view.js'
import {renderWatchView, WatchModel} from '../../src/lib/tui/watch-view.js'
import {expectNoRawControls, HOSTILE, HOSTILE_SHOWN} from '../helpers/hostile.js'
import {TestKeyboard, TestScreen} from './terminal.js'

const root = path.resolve(import.meta.dirname, '../..')

describe('Ink views', () => {
  it('the run dashboard shows hostile runner names, phases and errors escaped', async () => {
    const snapshot: RunSnapshot = {
      mode: 'local',
      startedAt: 0,
      apiServer: `http://127.0.0.1:8000/${HOSTILE}`,
      proxyUrl: `http://127.0.0.1:8002/${HOSTILE}`,
      stopping: true,
      stoppingDetail: HOSTILE,
      resources: [
        {
          resource: 'sessions',
          added: 1,
          modified: 0,
          deleted: 0,
          eventsPerSecond: 0,
          queueDepth: 0,
          inFlight: 0,
          cacheSize: 1,
          connection: 'watching',
          synced: true,
          reconnects: 0,
          lastError: HOSTILE,
        },
      ],
      runners: [{sessionId: HOSTILE, name: HOSTILE, phase: HOSTILE, pid: 1, port: 2, startTime: HOSTILE}],
    }
    const screen = new TestScreen({columns: 400, rows: 60})
    await renderRunView({getSnapshot: () => snapshot, signal: AbortSignal.abort(), stdout: screen, stdin: new TestKeyboard({raw: false})})
    expectNoRawControls(screen.raw(), 'run view', {allowSgr: true})
    expect(screen.text()).toContain(HOSTILE_SHOWN)
  })

  it('the watch table and its event log show hostile names, phases and projects escaped', async () => {
    const model = new WatchModel({now: () => 1000})
    const object = {id: HOSTILE, name: HOSTILE, phase: HOSTILE, project_id: HOSTILE, created_at: HOSTILE, updated_at: HOSTILE}
    model.apply({type: 'ADDED', object: {...object, id: 'a'}})
    model.apply({type: 'MODIFIED', object: {...object, id: 'a', phase: `${HOSTILE}2`}})
    model.apply({type: 'ADDED', object})
    model.setConnection('backoff', HOSTILE)
    const screen = new TestScreen({columns: 600, rows: 60})
    await renderWatchView({
      model,
      title: `watch ${HOSTILE}`,
      signal: AbortSignal.abort(),
      stdout: screen,
      stdin: new TestKeyboard({raw: false}),
      now: () => 1000,
    })
    expectNoRawControls(screen.raw(), 'watch view', {allowSgr: true})
    expect(screen.text()).toContain(HOSTILE_SHOWN)
  })
})

describe('diff text', () => {
  it('escapes names, reasons, messages and field values, colours and all', () => {
    const entries: DiffEntry[] = [
      {
        action: 'invalid',
        resource: 'sessions',
        id: HOSTILE,
        kind: 'AgenticSession',
        namespace: HOSTILE,
        name: HOSTILE,
        fields: [],
        reason: HOSTILE,
        message: HOSTILE,
      },
      {
        action: 'update',
        resource: 'sessions',
        id: 's1',
        kind: 'AgenticSession',
        namespace: 'ns',
        name: HOSTILE,
        fields: [{path: 'spec.displayName', segments: ['spec', 'displayName'], desired: HOSTILE, actual: `${HOSTILE}!`}],
        message: HOSTILE,
      },
    ]
    const text = renderText(entries, {color: true})
    expectNoRawControls(text, 'diff text', {allowSgr: true})
    expect(text).toContain('\\x1b]0;pwned\\x07')
  })
})

describe('pretty logs', () => {
  it('pino-pretty output (as on a terminal) shows hostile messages and fields escaped', async () => {
    const script = `
      import {createLogger} from './dist/lib/log.js'
      const hostile = ${JSON.stringify(HOSTILE)}
      const logger = createLogger({pretty: true, level: 'info'})
      logger.info({name: hostile, nested: {[hostile]: [hostile]}, err: new Error(hostile)}, hostile)
      logger.warn(hostile)
      logger.flush()
      setTimeout(() => {}, 200)
    `
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], {cwd: root, timeout: 30_000}, (err, _stdout, stderrText) =>
        err ? reject(err) : resolve(stderrText),
      )
    })
    expect(stderr).toContain('INFO')
    expectNoRawControls(stderr, 'pretty logs', {allowSgr: true})
    expect(stderr).toContain(HOSTILE_SHOWN)
  })
})
