// The mounted views end to end: Ink drawing into a fixed-size stream, keys from a stream that
// does (or does not) support raw mode, unmounting on abort or on a quit key.
import {describe, expect, it} from 'vitest'
import type {RunSnapshot} from '../../src/lib/tui/model.js'
import {renderRunView} from '../../src/lib/tui/run-view.js'
import {renderWatchView, WatchModel} from '../../src/lib/tui/watch-view.js'
import {TestKeyboard, TestScreen, until} from './terminal.js'

function snapshotSource() {
  const state = {calls: 0, cacheSize: 1, stopping: false}
  const getSnapshot = (): RunSnapshot => {
    state.calls++
    return {
      mode: 'test',
      startedAt: 0,
      apiServer: 'http://127.0.0.1:8000',
      stopping: state.stopping,
      resources: [
        {
          resource: 'sessions',
          added: 0,
          modified: 0,
          deleted: 0,
          eventsPerSecond: 0,
          queueDepth: 0,
          inFlight: 0,
          cacheSize: state.cacheSize,
          connection: 'watching',
          synced: true,
          reconnects: 0,
        },
      ],
    }
  }
  /** Resolves once the view has read the snapshot `n` more times. */
  const reads = (n: number) => {
    const target = state.calls + n
    return until(() => state.calls >= target, `${n} more snapshot reads`)
  }
  return {state, getSnapshot, reads}
}

function settled(promise: Promise<void>) {
  const flag = {done: false}
  void promise.then(() => (flag.done = true))
  return flag
}

describe('renderRunView', () => {
  it('re-reads the snapshot on an interval and unmounts when the signal aborts', async () => {
    const screen = new TestScreen({columns: 100, rows: 40})
    const abort = new AbortController()
    const source = snapshotSource()
    const view = renderRunView({
      getSnapshot: source.getSnapshot,
      refreshMs: 20,
      signal: abort.signal,
      stdout: screen,
      stdin: new TestKeyboard({raw: false}),
      now: () => 65_000,
    })
    await source.reads(2)
    source.state.cacheSize = 4242
    source.state.stopping = true
    await source.reads(2)
    abort.abort()
    await view
    const text = screen.text()
    expect(text).toContain('mode test  up 1m05s')
    expect(text).toMatch(/CACHE[\s\S]*4242/)
    expect(text).toContain('stopping…')
    // Keys are not read from a pipe, so no key hint.
    expect(text).not.toContain('q quit')
  })

  it('redraws in place while mounted on a terminal', async () => {
    const screen = new TestScreen({columns: 100, rows: 40, tty: true})
    const abort = new AbortController()
    const source = snapshotSource()
    // Interactive forced: Ink would otherwise draw only the last frame when CI is set.
    const view = renderRunView({
      getSnapshot: source.getSnapshot,
      refreshMs: 20,
      signal: abort.signal,
      stdout: screen,
      stdin: new TestKeyboard({raw: false}),
      interactive: true,
    })
    await until(() => screen.text().includes('sessions'), 'the first frame')
    source.state.cacheSize = 4242
    await until(() => screen.text().includes('4242'), 'a redraw with the new snapshot')
    abort.abort()
    await view
  })

  it('resolves at once for an already aborted signal', async () => {
    const source = snapshotSource()
    await renderRunView({
      getSnapshot: source.getSnapshot,
      signal: AbortSignal.abort(),
      stdout: new TestScreen(),
      stdin: new TestKeyboard({raw: false}),
    })
    expect(source.state.calls).toBeGreaterThanOrEqual(1)
  })

  it('calls onQuit and unmounts on q when raw mode is supported', async () => {
    const keyboard = new TestKeyboard({raw: true})
    const screen = new TestScreen()
    const source = snapshotSource()
    let quits = 0
    const view = renderRunView({
      getSnapshot: source.getSnapshot,
      refreshMs: 20,
      signal: new AbortController().signal,
      onQuit: () => quits++,
      stdout: screen,
      stdin: keyboard,
    })
    await until(() => keyboard.rawMode, 'raw mode on')
    keyboard.press('q')
    await view
    expect(quits).toBe(1)
    expect(keyboard.rawMode).toBe(false)
    expect(screen.text()).toContain('q quit')
  })

  it('treats Ctrl-C as a quit key in raw mode', async () => {
    const keyboard = new TestKeyboard({raw: true})
    const source = snapshotSource()
    let quits = 0
    const view = renderRunView({
      getSnapshot: source.getSnapshot,
      refreshMs: 20,
      signal: new AbortController().signal,
      onQuit: () => quits++,
      stdout: new TestScreen(),
      stdin: keyboard,
    })
    await until(() => keyboard.rawMode, 'raw mode on')
    keyboard.press('\u0003')
    await view
    expect(quits).toBe(1)
  })

  it('with keepOpenOnQuit, keeps drawing after q until the signal aborts', async () => {
    const keyboard = new TestKeyboard({raw: true})
    const screen = new TestScreen()
    const abort = new AbortController()
    const source = snapshotSource()
    let quits = 0
    const view = renderRunView({
      getSnapshot: source.getSnapshot,
      refreshMs: 20,
      signal: abort.signal,
      keepOpenOnQuit: true,
      onQuit: () => {
        quits++
        source.state.stopping = true
      },
      stdout: screen,
      stdin: keyboard,
    })
    const state = settled(view)
    await until(() => keyboard.rawMode, 'raw mode on')
    keyboard.press('q')
    await until(() => quits === 1, 'onQuit')
    await source.reads(3)
    expect(state.done).toBe(false)
    abort.abort()
    await view
    expect(screen.text()).toContain('stopping…')
  })

  it('ignores keys when stdin is not a raw-mode terminal', async () => {
    const keyboard = new TestKeyboard({raw: false})
    const abort = new AbortController()
    const source = snapshotSource()
    let quits = 0
    const view = renderRunView({
      getSnapshot: source.getSnapshot,
      refreshMs: 20,
      signal: abort.signal,
      onQuit: () => quits++,
      stdout: new TestScreen(),
      stdin: keyboard,
    })
    const state = settled(view)
    keyboard.press('q')
    await source.reads(3)
    expect(quits).toBe(0)
    expect(state.done).toBe(false)
    abort.abort()
    await view
  })

  it('keeps showing the last snapshot when the getter throws', async () => {
    const screen = new TestScreen()
    const abort = new AbortController()
    const source = snapshotSource()
    let failing = false
    const getSnapshot = () => {
      const snapshot = source.getSnapshot()
      if (failing) throw new Error('informer gone')
      return snapshot
    }
    const view = renderRunView({getSnapshot, refreshMs: 20, signal: abort.signal, stdout: screen, stdin: new TestKeyboard({raw: false})})
    await source.reads(1)
    failing = true
    await source.reads(2)
    abort.abort()
    await view
    expect(screen.text()).toContain('snapshot failed: informer gone')
    expect(screen.text()).toContain('sessions')
  })
})

describe('renderWatchView', () => {
  it('draws the model, follows its changes and unmounts on abort', async () => {
    const screen = new TestScreen({columns: 100, rows: 30})
    const abort = new AbortController()
    const model = new WatchModel()
    model.apply({type: 'ADDED', object: {id: 's1', name: 'alpha', phase: 'Pending'}}, {initial: true})
    const view = renderWatchView({model, title: 'sessions', tickMs: 20, signal: abort.signal, stdout: screen, stdin: new TestKeyboard({raw: false})})
    model.apply({type: 'MODIFIED', object: {id: 's1', name: 'alpha', phase: 'Running'}})
    model.setConnection('watching')
    abort.abort()
    await view
    const text = screen.text()
    expect(text).toMatch(/sessions\s+watching\s+1 shown\s+Running 1/)
    expect(text).toMatch(/~\s+s1\s+alpha\s+Running/)
    expect(text).toMatch(/MODIFIED\s+s1\s+alpha\s+phase Pending → Running/)
  })

  it('calls onQuit and unmounts on q', async () => {
    const keyboard = new TestKeyboard({raw: true})
    const screen = new TestScreen()
    let quits = 0
    const view = renderWatchView({
      model: new WatchModel(),
      title: 'projects',
      signal: new AbortController().signal,
      onQuit: () => quits++,
      stdout: screen,
      stdin: keyboard,
    })
    await until(() => keyboard.rawMode, 'raw mode on')
    keyboard.press('q')
    await view
    expect(quits).toBe(1)
    expect(screen.text()).toContain('projects')
    expect(screen.text()).toContain('q quit')
  })
})
