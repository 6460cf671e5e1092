// Issue 10, case 8: one runner filled 1 GiB of stdout.log. Runner logs are rotated at
// LOCAL_RUNNER_LOG_MAX_BYTES into at most LOCAL_RUNNER_LOG_FILES files per stream
// (stdout.log, stdout.log.1 newer than stdout.log.2 ...), and the runner is never held up by
// it: it writes into a pipe that ambient drains at once, dropping (and saying so in the log)
// what a slow disk cannot take rather than letting the pipe fill.
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {spawn} from 'node:child_process'
import {readFile, readdir, stat} from 'node:fs/promises'
import path from 'node:path'
import {emptySettingsStore, loadConfig} from '../../src/lib/config/index.js'
import {LogDrain, type LogSink} from '../../src/lib/process/log-drain.js'
import {RunnerManager, RunnerRegistry, type RunnerExit} from '../../src/lib/process/index.js'
import {StopRequests, killLocalRunner} from '../../src/lib/reconcilers/local/index.js'
import {FIXTURE, fixtureCommand, getJson, makeSession, randomPortRange, tempDir, waitFor} from '../process/helpers.js'

const KiB = 1024
const MiB = 1024 * KiB
let root: {dir: string; cleanup: () => Promise<void>}

beforeEach(async () => {
  root = await tempDir('logs')
})

afterEach(async () => {
  await root.cleanup()
})

const MARKER = /^\[ambient\] dropped \d+ bytes/

/** Sequence numbers of the `<prefix> NNNNNNNNN` lines of a file; every line is whole. */
function sequence(text: string, prefix: string): {seqs: number[]; markers: number} {
  const seqs: number[] = []
  let markers = 0
  const lines = text.split('\n')
  expect(lines.pop()).toBe('')
  for (const line of lines) {
    if (MARKER.test(line)) {
      markers += 1
      continue
    }
    const match = new RegExp(`^${prefix} (\\d{9})$`).exec(line)
    if (match) seqs.push(Number(match[1]))
    else if (prefix === 'err' && /^line \d+$/.test(line)) continue
    else throw new Error(`not a whole ${prefix} line: ${JSON.stringify(line.slice(0, 80))}`)
  }
  return {seqs, markers}
}

/** Checks one stream's files: names, sizes, and that .2 is older than .1 is older than the live file. */
async function checkRotated(workspace: string, stream: 'stdout' | 'stderr', prefix: string, cap: number): Promise<number[]> {
  const names = (await readdir(workspace)).filter((n) => n.startsWith(`${stream}.log`)).sort()
  expect(names).toEqual([`${stream}.log`, `${stream}.log.1`, `${stream}.log.2`])
  const ordered = [`${stream}.log.2`, `${stream}.log.1`, `${stream}.log`]
  const all: number[] = []
  let markers = 0
  for (const name of ordered) {
    const file = path.join(workspace, name)
    const info = await stat(file)
    expect(info.size, name).toBeLessThanOrEqual(cap)
    expect(info.mode & 0o777, name).toBe(0o600)
    const parsed = sequence(await readFile(file, 'utf8'), prefix)
    markers += parsed.markers
    all.push(...parsed.seqs)
  }
  // Oldest first, strictly increasing across the three files; gaps only where a marker says so.
  for (let i = 1; i < all.length; i++) expect(all[i], `order at ${i}`).toBeGreaterThan(all[i - 1])
  if (markers === 0) for (let i = 1; i < all.length; i++) expect(all[i], `contiguous at ${i}`).toBe(all[i - 1] + 1)
  return all
}

describe('runner logs are rotated without holding the runner up', () => {
  it('a runner writing 64 times the cap fast: three files per stream, each within the cap, in order, and the stderr tail intact', async () => {
    const cap = 256 * KiB
    const total = 16 * MiB
    const manager = new RunnerManager({
      workspaceRoot: path.join(root.dir, 'workspaces'),
      command: fixtureCommand(`flood:${total}`),
      portRange: randomPortRange(),
      hostEnv: {PATH: process.env.PATH},
      logMaxBytes: cap,
      logFiles: 3,
    })
    const session = makeSession()
    const exited = new Promise<RunnerExit>((resolve) => manager.once('exited', resolve))
    const started = Date.now()
    const info = await manager.spawn(session)
    // Bounded time with generous slack for a loaded machine: a runner held up by a full pipe never finishes.
    const exit = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the runner did not finish in 60 s')), 60_000)),
    ])
    const elapsedMs = Date.now() - started
    expect(exit).toMatchObject({exitCode: 3})
    expect(exit.stderrTail).toHaveLength(50)
    expect(exit.stderrTail[0]).toBe('line 11')
    expect(exit.stderrTail.at(-1)).toBe('line 60')

    const flood = JSON.parse(await readFile(path.join(info.workspace, 'flood.json'), 'utf8')) as {lastOut: number; bytes: number; ms: number}
    expect(flood.bytes).toBeGreaterThanOrEqual(total)
    const out = await checkRotated(info.workspace, 'stdout', 'out', cap)
    // The newest lines are kept: the last one written is the last one in stdout.log (unless a marker says some were dropped).
    const live = await readFile(path.join(info.workspace, 'stdout.log'), 'utf8')
    expect(out.at(-1) === flood.lastOut || MARKER.test(live.trimEnd().split('\n').at(-1) ?? '')).toBe(true)
    await checkRotated(info.workspace, 'stderr', 'err', cap)
    const stderrLive = await readFile(path.join(info.workspace, 'stderr.log'), 'utf8')
    expect(stderrLive.endsWith('line 59\nline 60\n')).toBe(true)
    console.info(`flood: ${flood.bytes} bytes written by the runner in ${flood.ms} ms; exit seen after ${elapsedMs} ms`)
  })

  it('a disk that never completes a write does not hold the runner up: the drain reads on and counts what it drops', async () => {
    const stuck: LogSink = {
      open: () => Promise.resolve({ino: 0, size: 0}),
      write: () => new Promise<void>(() => {}),
      close: () => Promise.resolve(),
    }
    const child = spawn(process.execPath, [FIXTURE, `flood:${8 * MiB}`], {cwd: root.dir, stdio: ['ignore', 'pipe', 'ignore']})
    const drain = new LogDrain({source: child.stdout, sink: stuck, maxQueuedBytes: MiB})
    const code = await Promise.race([
      new Promise<number | null>((resolve) => child.once('exit', resolve)),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the writer was held up: it did not finish in 30 s')), 30_000)),
    ])
    expect(code).toBe(3)
    await waitFor(() => drain.stats().ended, 'the drain to see the end of the pipe')
    const stats = drain.stats()
    expect(stats.bytesIn).toBeGreaterThanOrEqual(8 * MiB)
    expect(stats.peakQueuedBytes).toBeLessThanOrEqual(MiB)
    expect(stats.bytesDropped).toBeGreaterThan(6 * MiB)
    drain.close()
  })

  it('a slow disk loses only what exceeds the queue, and the log says where', async () => {
    const written: Buffer[] = []
    const slow: LogSink = {
      open: () => Promise.resolve({ino: 0, size: 0}),
      write: async (chunk) => {
        written.push(Buffer.from(chunk))
        await new Promise((resolve) => setTimeout(resolve, 20))
      },
      close: () => Promise.resolve(),
    }
    const child = spawn(process.execPath, [FIXTURE, `flood:${4 * MiB}`], {cwd: root.dir, stdio: ['ignore', 'pipe', 'ignore']})
    const drain = new LogDrain({source: child.stdout, sink: slow, maxQueuedBytes: 256 * KiB})
    await drain.done
    const text = Buffer.concat(written).toString('utf8')
    const {seqs, markers} = sequence(text.endsWith('\n') ? text : `${text}\n`, 'out')
    expect(markers).toBeGreaterThan(0)
    expect(drain.stats().bytesDropped).toBeGreaterThan(0)
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1])
  })
})

describe('runner logs across a restart of ambient', () => {
  it('a runner outlives its manager: its output waits in the pipe, and the manager that adopts it drains and rotates it', async () => {
    const registry = new RunnerRegistry({dir: path.join(root.dir, 'state', 'runners')})
    const options = {
      workspaceRoot: path.join(root.dir, 'workspaces'),
      command: fixtureCommand('serve'),
      portRange: randomPortRange(),
      hostEnv: {PATH: process.env.PATH},
      registry,
      logMaxBytes: 64 * KiB,
      logFiles: 2,
      adoptHealthTimeoutMs: 5000,
    }
    const first = new RunnerManager(options)
    const second = new RunnerManager(options)
    try {
      const info = await first.spawn(makeSession())
      await first.waitHealthy(info)
      // The crash: nobody reads the pipes any more.
      first.detach()
      // 20 000 lines (400 KB): far more than a pipe holds, so the runner waits for a reader...
      const printing = getJson(info.port, '/print?lines=20000', {'x-ambient-session-token': info.token})
      let printed = false
      void printing.then(() => (printed = true))
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(printed).toBe(false)
      // ...which the restarted manager is.
      expect((await second.adopt()).adopted.map((r) => r.sessionId)).toEqual([info.sessionId])
      expect((await printing).status).toBe(200)
      const last = `printed ${String(19_999).padStart(9, '0')}`
      // Read between a rotation's rename and the new file's creation, stdout.log is briefly absent.
      const live = () => readFile(path.join(info.workspace, 'stdout.log'), 'utf8').catch(() => '')
      await waitFor(async () => (await live()).endsWith(`${last}\n`), 'the last line in stdout.log')
      const names = (await readdir(info.workspace)).filter((n) => n.startsWith('stdout.log')).sort()
      expect(names).toEqual(['stdout.log', 'stdout.log.1'])
      for (const name of names) expect((await stat(path.join(info.workspace, name))).size).toBeLessThanOrEqual(64 * KiB)
      const exit = await second.stop(info.sessionId, {graceMs: 2000})
      expect(exit).toMatchObject({adopted: true, stopRequested: true})
      // The pipes go with the runner.
      expect(await readdir(path.join(registry.dir, 'pipes'))).toEqual([])
    } finally {
      await second.stopAll({graceMs: 200})
    }
  })

  it('`ambient runners kill` of a runner nobody supervises removes its pipes too', async () => {
    const registry = new RunnerRegistry({dir: path.join(root.dir, 'state', 'runners')})
    const manager = new RunnerManager({
      workspaceRoot: path.join(root.dir, 'workspaces'),
      command: fixtureCommand('serve'),
      portRange: randomPortRange(),
      hostEnv: {PATH: process.env.PATH},
      registry,
    })
    const info = await manager.spawn(makeSession())
    await manager.waitHealthy(info)
    expect((await readdir(path.join(registry.dir, 'pipes'))).sort()).toEqual([`${info.sessionId}.stderr`, `${info.sessionId}.stdout`])
    manager.detach()
    const stopRequests = new StopRequests({dir: path.join(root.dir, 'state', 'stop-requests')})
    await expect(killLocalRunner({registry, stopRequests, sessionId: info.sessionId, graceMs: 2000})).resolves.toMatchObject({wasAlive: true})
    expect(await readdir(path.join(registry.dir, 'pipes'))).toEqual([])
  })
})

describe('LOCAL_RUNNER_LOG_MAX_BYTES and LOCAL_RUNNER_LOG_FILES', () => {
  const load = (env: Record<string, string>) => loadConfig({env, store: emptySettingsStore()}).config

  it('default to 10 MiB and 3 files', () => {
    const config = load({})
    expect(config.LOCAL_RUNNER_LOG_MAX_BYTES).toBe(10 * MiB)
    expect(config.LOCAL_RUNNER_LOG_FILES).toBe(3)
    expect(load({LOCAL_RUNNER_LOG_MAX_BYTES: '1048576', LOCAL_RUNNER_LOG_FILES: '1'})).toMatchObject({
      LOCAL_RUNNER_LOG_MAX_BYTES: MiB,
      LOCAL_RUNNER_LOG_FILES: 1,
    })
  })

  it.each([
    ['LOCAL_RUNNER_LOG_MAX_BYTES', '0'],
    ['LOCAL_RUNNER_LOG_MAX_BYTES', '10MB'],
    ['LOCAL_RUNNER_LOG_MAX_BYTES', '100'],
    ['LOCAL_RUNNER_LOG_FILES', '0'],
    ['LOCAL_RUNNER_LOG_FILES', '1000'],
    ['LOCAL_RUNNER_LOG_FILES', 'three'],
  ])('%s=%j is refused, naming the variable', (name, value) => {
    expect(() => load({[name]: value})).toThrow(new RegExp(name))
  })
})
