// A deterministic hook for tests of `ambient run`'s start-up: with AMBIENT_TEST_PAUSE_AT set to
// a point's name, start-up stops there, says so on stderr ("ambient: paused at <point>") and
// blocks until the file AMBIENT_TEST_RESUME_FILE exists. It blocks the thread rather than
// awaiting: a signal that arrives meanwhile waits in the event loop exactly as one does that
// arrives during synchronous start-up work, which is where signals used to get lost.
import fs from 'node:fs'

/** The named points, in start-up order. */
export const STARTUP_POINTS = ['start', 'parsed', 'configured', 'embedded', 'connect', 'control-plane', 'running'] as const
export type StartupPoint = (typeof STARTUP_POINTS)[number]

/** Never blocks longer than this, whatever the test does. */
const MAX_PAUSE_MS = 60_000

export function startupPause(point: StartupPoint, env: NodeJS.ProcessEnv = process.env): void {
  if (env.AMBIENT_TEST_PAUSE_AT !== point) return
  fs.writeSync(2, `ambient: paused at ${point}\n`)
  const resume = env.AMBIENT_TEST_RESUME_FILE
  if (!resume) return
  const deadline = Date.now() + MAX_PAUSE_MS
  const cell = new Int32Array(new SharedArrayBuffer(4))
  while (!fs.existsSync(resume) && Date.now() < deadline) Atomics.wait(cell, 0, 0, 10)
}
