// An early SIGTERM is never lost: `ambient run --mode test --embedded` as a real process gets
// SIGTERM at each named point of its start-up (the AMBIENT_TEST_PAUSE_AT hook blocks there, so
// the signal waits in the event loop as it would during real synchronous start-up work) and at
// a spread of delays after spawning; every run ends, long before the deadline, with the
// documented outcome: exit 0 after draining, or, before `run` has installed its handler at all,
// the signal's default action. Without --once the process would otherwise run on for ever.
import fs from 'node:fs'
import path from 'node:path'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import {STARTUP_POINTS} from '../../src/lib/cli/startup-pause.js'
import {waitFor} from '../helpers/wait.js'
import {assertBuilt, ensureDead, startCli, tempDir, type CliProcess} from './cli.js'

/** Far above a normal start-up and drain (~1 s), far below "runs on until SIGKILL". */
const DEADLINE_MS = 30_000
const cleanups: (() => Promise<void> | void)[] = []

beforeAll(() => assertBuilt())
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Starts `ambient run`; with `pauseAt`, start-up blocks at that point until resume() is called. */
function startRun(pauseAt?: string): {cli: CliProcess; resume(): void} {
  const tmp = tempDir('signals')
  const resumeFile = path.join(tmp.dir, 'resume')
  const args = ['run', '--mode', 'test', '--embedded', '--api-port', '0', '--grpc-port', '0', '--json', '--metrics-addr', '0', '--probe-addr', '0']
  const env: Record<string, string> = {AMBIENT_CONFIG_DIR: path.join(tmp.dir, 'config'), AMBIENT_STATE_DIR: path.join(tmp.dir, 'state')}
  if (pauseAt) Object.assign(env, {AMBIENT_TEST_PAUSE_AT: pauseAt, AMBIENT_TEST_RESUME_FILE: resumeFile})
  const cli = startCli(args, env)
  cleanups.push(() => tmp.remove())
  cleanups.push(() => ensureDead(cli))
  return {cli, resume: () => fs.writeFileSync(resumeFile, '')}
}

/** The exit, or a failure naming what the process printed if it is still running at the deadline. */
async function exitWithin(cli: CliProcess, ms: number): Promise<{code: number | null; signal: NodeJS.Signals | null}> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, ms, 'late')))
  const outcome = await Promise.race([cli.exited, late])
  clearTimeout(timer)
  if (outcome === 'late') throw new Error(`still running ${ms} ms after SIGTERM; stderr:\n${cli.stderr().slice(-2000)}`)
  return {code: outcome.code, signal: outcome.signal}
}

describe('ambient run: SIGTERM during start-up', () => {
  it.each(STARTUP_POINTS.map((point) => [point]))('at %s: exits 0 after draining', {timeout: 90_000}, async (point) => {
    const {cli, resume} = startRun(point)
    await waitFor(() => cli.stderr().includes(`ambient: paused at ${point}`) || cli.child.exitCode !== null, `the pause at ${point}`, DEADLINE_MS)
    expect(cli.child.exitCode, cli.stderr()).toBeNull()
    cli.child.kill('SIGTERM')
    resume()
    const exit = await exitWithin(cli, DEADLINE_MS)
    expect(exit, cli.stderr().slice(-2000)).toEqual({code: 0, signal: null})
    // Drained like any stop: the TALLY lines are the last thing on stdout.
    expect(cli.lines.filter((l) => l.includes('"TALLY"'))).toHaveLength(3)
  })

  it('at any moment after spawning: ends with exit 0, or by the signal before run has a handler; never runs on', {timeout: 120_000}, async () => {
    const outcomes: string[] = []
    for (const delayMs of [0, 40, 80, 120, 160, 200, 240, 280, 320, 400, 600, 900]) {
      const {cli} = startRun()
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      cli.child.kill('SIGTERM')
      const exit = await exitWithin(cli, DEADLINE_MS)
      outcomes.push(`${delayMs} ms: ${exit.code ?? exit.signal}`)
      expect(
        [
          {code: 0, signal: null},
          {code: null, signal: 'SIGTERM'},
        ],
        `${delayMs} ms: ${cli.stderr().slice(-1000)}`,
      ).toContainEqual(exit)
    }
    // Not a timing assertion: just what happened, for the log of a failing run.
    expect(outcomes).toHaveLength(12)
  })
})
