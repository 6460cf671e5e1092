// The bearer token, from AMBIENT_API_TOKEN or from AMBIENT_API_TOKEN_FILE. A file is re-read
// when it changes: Kubernetes rotates mounted secrets by swapping a symlink, which fs.watch
// misses, so the file is stat'ed (at most once per checkIntervalMs) on use instead.
import fs from 'node:fs'
import {ConfigError} from '../errors.js'
import type {Config} from './settings.js'

const HOW_TO_GET_ONE =
  'set AMBIENT_API_TOKEN or AMBIENT_API_TOKEN_FILE, or start a local server with `ambient api-server` (it stores its token for the other commands)'

export interface TokenSourceOptions {
  token?: string
  file?: string
  checkIntervalMs?: number
  now?: () => number
}

export class TokenSource {
  private cached?: string
  private signature = ''
  private checkedAt = Number.NEGATIVE_INFINITY
  private readonly checkIntervalMs: number
  private readonly now: () => number

  constructor(private readonly options: TokenSourceOptions) {
    this.checkIntervalMs = options.checkIntervalMs ?? 1000
    this.now = options.now ?? Date.now
    if (!options.token && !options.file) throw new ConfigError('AMBIENT_API_TOKEN', `AMBIENT_API_TOKEN: missing: ${HOW_TO_GET_ONE}`)
    // Fail at start-up, not on the first request.
    this.get()
  }

  static fromConfig(config: Pick<Config, 'AMBIENT_API_TOKEN' | 'AMBIENT_API_TOKEN_FILE'>): TokenSource {
    // An explicit file wins: it is how rotating credentials are mounted.
    if (config.AMBIENT_API_TOKEN_FILE) return new TokenSource({file: config.AMBIENT_API_TOKEN_FILE})
    return new TokenSource({token: config.AMBIENT_API_TOKEN})
  }

  get(): string {
    const {file} = this.options
    if (!file) return this.options.token as string
    const now = this.now()
    if (this.cached !== undefined && now - this.checkedAt < this.checkIntervalMs) return this.cached
    this.checkedAt = now
    let stat: fs.Stats
    try {
      stat = fs.statSync(file)
    } catch (err) {
      if (this.cached !== undefined) return this.cached // keep the last good token through a swap
      throw new ConfigError('AMBIENT_API_TOKEN_FILE', `AMBIENT_API_TOKEN_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`)
    }
    const signature = `${stat.ino}:${stat.size}:${stat.mtimeMs}`
    if (signature !== this.signature || this.cached === undefined) {
      const token = fs.readFileSync(file, 'utf8').trim()
      if (!token) throw new ConfigError('AMBIENT_API_TOKEN_FILE', `AMBIENT_API_TOKEN_FILE: ${file} is empty`)
      this.cached = token
      this.signature = signature
    }
    return this.cached
  }
}
