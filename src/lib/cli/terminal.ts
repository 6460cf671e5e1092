// Whether a command draws a live Ink view or writes NDJSON: a live view needs a person at a
// terminal, so not with --json, not into a pipe, and not in CI (where a TTY may exist but
// nobody watches, and Ink itself would only print the last frame).
import isInCi from 'is-in-ci'

export function wantsLiveView(json: boolean, stdout: NodeJS.WriteStream = process.stdout): boolean {
  return !json && Boolean(stdout.isTTY) && !isInCi
}
