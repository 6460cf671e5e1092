// The failure reason of a runner is the end of its stderr. stderr.log is appended across runs
// and rotated (stderr.log.1, .2 ... are older), so a run's output starts at a known offset of a
// known file (by inode) and may continue through several files: the tail is read newest file
// first, back to that start at most. Bounded memory whatever the runner printed.
import {open} from 'node:fs/promises'

export const STDERR_TAIL_LINES = 50
const MAX_TAIL_BYTES = 64 * 1024
/** Rotated files looked at, at most (LOCAL_RUNNER_LOG_FILES is far below). */
const MAX_ROTATED_FILES = 100

export interface LogTailOptions {
  /** Ignore what was written before this byte offset (of the file `fromIno`, when given). */
  fromOffset?: number
  /**
   * Inode of the file the run started in. Given, rotated files (`<file>.1` ...) are read back
   * to that one; not given, only `file` itself is read.
   */
  fromIno?: number
  maxLines?: number
  maxBytes?: number
}

interface TailPart {
  lines: string[]
  ino: number
  bytes: number
}

/** The last lines of one file, from `fromOffset` on, within `maxBytes`; undefined when it does not exist. */
async function readPart(file: string, fromOffset: number | ((ino: number) => number), maxBytes: number): Promise<TailPart | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(file, 'r')
  } catch {
    return undefined
  }
  try {
    const {size, ino} = await handle.stat()
    const start = typeof fromOffset === 'function' ? fromOffset(ino) : fromOffset
    const from = Math.max(start, size - maxBytes)
    if (size <= from) return {lines: [], ino, bytes: 0}
    const buffer = Buffer.alloc(size - from)
    const {bytesRead} = await handle.read(buffer, 0, buffer.length, from)
    let text = buffer.subarray(0, bytesRead).toString('utf8')
    // A cut in the middle of a line (or of a UTF-8 sequence) is dropped, unless it is all we have.
    if (from > start) {
      const firstNewline = text.indexOf('\n')
      if (firstNewline >= 0) text = text.slice(firstNewline + 1)
    }
    const lines = text.split('\n')
    if (lines.at(-1) === '') lines.pop()
    return {lines, ino, bytes: bytesRead}
  } finally {
    await handle.close()
  }
}

export async function readLogTail(file: string, options: LogTailOptions = {}): Promise<string[]> {
  const maxLines = options.maxLines ?? STDERR_TAIL_LINES
  const fromOffset = options.fromOffset ?? 0
  let budget = options.maxBytes ?? MAX_TAIL_BYTES
  const lines: string[] = []
  for (let i = 0; i <= MAX_ROTATED_FILES && budget > 0 && lines.length < maxLines; i++) {
    const startIno = options.fromIno
    const part = await readPart(
      i === 0 ? file : `${file}.${i}`,
      startIno === undefined ? fromOffset : (ino) => (ino === startIno ? fromOffset : 0),
      budget,
    )
    if (!part) break
    lines.unshift(...part.lines)
    budget -= part.bytes
    if (startIno === undefined || part.ino === startIno) break
  }
  return lines.slice(-maxLines)
}
