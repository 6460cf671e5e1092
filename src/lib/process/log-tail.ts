// The failure reason of a runner is the end of its stderr. The runner writes stderr.log
// directly (no pipe through us, so it survives our restart), and we read back only the tail
// written since this spawn: bounded memory whatever the runner printed.
import {open} from 'node:fs/promises'

export const STDERR_TAIL_LINES = 50
const MAX_TAIL_BYTES = 64 * 1024

export interface LogTailOptions {
  /** Ignore what was written before this byte offset (the file is appended across restarts). */
  fromOffset?: number
  maxLines?: number
  maxBytes?: number
}

export async function readLogTail(file: string, options: LogTailOptions = {}): Promise<string[]> {
  const maxLines = options.maxLines ?? STDERR_TAIL_LINES
  let handle
  try {
    handle = await open(file, 'r')
  } catch {
    return []
  }
  try {
    const {size} = await handle.stat()
    const from = Math.max(options.fromOffset ?? 0, size - (options.maxBytes ?? MAX_TAIL_BYTES))
    if (size <= from) return []
    const buffer = Buffer.alloc(size - from)
    const {bytesRead} = await handle.read(buffer, 0, buffer.length, from)
    let text = buffer.subarray(0, bytesRead).toString('utf8')
    // A cut in the middle of a line (or of a UTF-8 sequence) is dropped, unless it is all we have.
    if (from > (options.fromOffset ?? 0)) {
      const firstNewline = text.indexOf('\n')
      if (firstNewline >= 0) text = text.slice(firstNewline + 1)
    }
    const lines = text.split('\n')
    if (lines.at(-1) === '') lines.pop()
    return lines.slice(-maxLines)
  } finally {
    await handle.close()
  }
}
