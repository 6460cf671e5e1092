// A log file that never grows past `maxBytes`: when the next write would, the file becomes
// `<file>.1` (`.1` becomes `.2` ..., the oldest beyond `files` is deleted) and a new one is
// started. Cuts fall after a newline whenever one fits, so lines stay whole; only a line
// longer than a whole file is split. Files are created 0600 (private-files.ts).
import {rename, rm, type FileHandle} from 'node:fs/promises'
import {openPrivateAppend} from '../private-files.js'

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024
export const DEFAULT_LOG_FILES = 3

/** Where output appended from now on starts: the file (by inode) and the offset in it. */
export interface LogPosition {
  ino: number
  size: number
}

/** Where a drain writes (RotatingLog, or a test's stand-in). */
export interface LogSink {
  /** Opens (creating) the file; returns where the next byte will go. */
  open(): Promise<LogPosition>
  write(chunk: Buffer): Promise<void>
  close(): Promise<void>
}

export interface RotatingLogOptions {
  file: string
  /** Largest size of each file, default 10 MiB. */
  maxBytes?: number
  /** Files kept, the live one included, default 3 (1: the live file starts over when full). */
  files?: number
}

const NEWLINE = 0x0a

export class RotatingLog implements LogSink {
  readonly file: string
  readonly maxBytes: number
  readonly files: number
  #handle?: FileHandle
  #size = 0

  constructor(options: RotatingLogOptions) {
    this.file = options.file
    this.maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_BYTES
    this.files = options.files ?? DEFAULT_LOG_FILES
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 1)
      throw new TypeError(`\`maxBytes\` must be a positive integer: got ${String(options.maxBytes)}`)
    if (!Number.isSafeInteger(this.files) || this.files < 1) throw new TypeError(`\`files\` must be a positive integer: got ${String(options.files)}`)
  }

  async open(): Promise<LogPosition> {
    let handle = await this.#ensureOpen()
    if (this.#size >= this.maxBytes) {
      await this.#rotate()
      handle = await this.#ensureOpen()
    }
    return {ino: (await handle.stat()).ino, size: this.#size}
  }

  async write(chunk: Buffer): Promise<void> {
    let rest = chunk
    try {
      while (rest.length > 0) {
        const handle = await this.#ensureOpen()
        const room = this.maxBytes - this.#size
        if (rest.length <= room) {
          await writeAll(handle, rest)
          this.#size += rest.length
          return
        }
        // The last whole line that fits; none: a fresh file takes a hard cut, a used one is rotated first.
        let cut = room > 0 ? rest.lastIndexOf(NEWLINE, room - 1) + 1 : 0
        if (cut === 0 && this.#size === 0) cut = room
        if (cut > 0) {
          await writeAll(handle, rest.subarray(0, cut))
          this.#size += cut
          rest = rest.subarray(cut)
        }
        await this.#rotate()
      }
    } catch (err) {
      // Reopened on the next write: the disk may recover, the file may have been replaced.
      await this.close().catch(() => {})
      throw err
    }
  }

  async close(): Promise<void> {
    const handle = this.#handle
    this.#handle = undefined
    await handle?.close()
  }

  async #ensureOpen(): Promise<FileHandle> {
    if (!this.#handle) {
      const handle = await openPrivateAppend(this.file)
      this.#size = (await handle.stat()).size
      this.#handle = handle
    }
    return this.#handle
  }

  async #rotate(): Promise<void> {
    await this.close()
    if (this.files === 1) {
      await rm(this.file, {force: true})
    } else {
      // Oldest first, so each rename overwrites the file that is to go.
      for (let i = this.files - 1; i >= 1; i--) await renameIfPresent(i === 1 ? this.file : `${this.file}.${i - 1}`, `${this.file}.${i}`)
    }
    this.#size = 0
  }
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  for (let offset = 0; offset < data.length; ) {
    const {bytesWritten} = await handle.write(data, offset, data.length - offset)
    offset += bytesWritten
  }
}
