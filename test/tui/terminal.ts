// A fixed-size terminal for mounting the views in tests: a real Writable that records what
// Ink writes, and a real stream for keys that claims raw-mode support (or not).
import {PassThrough, Writable} from 'node:stream'
import {stripVTControlCharacters} from 'node:util'

export class TestScreen extends Writable {
  readonly columns: number
  readonly rows: number
  /** false: Ink writes the last frame at unmount only; true: it redraws in place as it goes. */
  readonly isTTY: boolean
  private readonly chunks: string[] = []

  constructor(size: {columns?: number; rows?: number; tty?: boolean} = {}) {
    super()
    this.isTTY = size.tty ?? false
    this.columns = size.columns ?? 100
    this.rows = size.rows ?? 40
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(String(chunk))
    callback()
  }

  /** Everything written so far, exactly as written (escape sequences and all). */
  raw(): string {
    return this.chunks.join('')
  }

  /** Everything written so far, ANSI stripped. */
  text(): string {
    return stripVTControlCharacters(this.chunks.join(''))
  }
}

export class TestKeyboard extends PassThrough {
  readonly isTTY: boolean
  rawMode = false

  /** `raw: false` is a pipe: Ink reports raw mode as unsupported and reads no keys. */
  constructor(options: {raw: boolean}) {
    super()
    this.isTTY = options.raw
  }

  setRawMode(enabled: boolean): this {
    this.rawMode = enabled
    return this
  }

  press(keys: string): void {
    this.write(keys)
  }
}

export function strip(frame: string | undefined): string {
  return stripVTControlCharacters(frame ?? '')
}

/** Polls `check` until it returns true; the machine is shared, so the deadline is generous. */
export {waitFor as until} from '../helpers/wait.js'
