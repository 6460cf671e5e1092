// Live runners on disk, one JSON file each, so a restarted `ambient` can adopt its runners,
// `ambient runners ls|kill` can see them, and the standalone `ambient proxy` can route to them.
// Files hold the runner's token, so they are written 0600 in a 0700 directory: the proxy runs
// in another process and must present that token; anyone who can read the files is already
// the same user.
import {open, readFile, readdir, rename, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {randomBytes} from 'node:crypto'
import {z} from 'zod'
import type {Logger} from '../log.js'
import {silentLogger} from '../log.js'
import {errorMessage} from '../errors.js'
import {PRIVATE_FILE_MODE, ensurePrivateDir} from '../private-files.js'
import {RunnerRegistryError} from './errors.js'
import {assertSafeSessionId, isSafeSessionId} from './session-id.js'
import {isPidAlive} from './procfs.js'
import {RunnerSchema} from './runner.js'

/** A runner as persisted: the runner and what adoption and `runners ls|kill` need besides. */
const RunnerRecordSchema = RunnerSchema.extend({
  /** Field 22 of /proc/<pid>/stat at spawn: tells our process from a recycled pid. */
  processStartTicks: z.number().int().nonnegative().optional(),
  /** The ambient process that spawned (or last adopted) the runner. */
  ownerPid: z.number().int(),
  /** Size of stderr.log before this spawn: the failure tail is read from here on. */
  stderrOffset: z.number().int().nonnegative().default(0),
  /** Inode of the stderr.log that offset is in (stderr.log is rotated: it may be stderr.log.1 by now). */
  stderrIno: z.number().int().nonnegative().optional(),
  /** The runner's stdout and stderr pipes, drained by whoever supervises it. */
  stdoutPipe: z.string().optional(),
  stderrPipe: z.string().optional(),
})

export type RunnerRecord = z.infer<typeof RunnerRecordSchema>

/** `<AMBIENT_STATE_DIR>/runners`: the runner registry of local mode. */
export function runnerRegistryDir(stateDir: string): string {
  return path.join(stateDir, 'runners')
}

export function defaultRunnerStateDir(home: string = os.homedir()): string {
  return runnerRegistryDir(path.join(home, '.ambient', 'state'))
}

export interface RunnerRegistryOptions {
  /** Default `~/.ambient/state/runners`. */
  dir?: string
  logger?: Logger
}

export class RunnerRegistry {
  readonly dir: string
  readonly #logger: Logger

  constructor(options: RunnerRegistryOptions = {}) {
    this.dir = path.resolve(options.dir ?? defaultRunnerStateDir())
    this.#logger = options.logger ?? silentLogger
  }

  #file(sessionId: string): string {
    assertSafeSessionId(sessionId)
    return path.join(this.dir, `${sessionId}.json`)
  }

  /** The record's file, to name it in messages. */
  fileFor(sessionId: string): string {
    return this.#file(sessionId)
  }

  /** Atomic: readers see the old file or the new one, never half of one (temp file + fsync + rename). */
  async write(record: RunnerRecord): Promise<void> {
    const target = this.#file(record.sessionId)
    const temp = path.join(this.dir, `.${record.sessionId}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
    try {
      ensurePrivateDir(this.dir)
      const handle = await open(temp, 'wx', PRIVATE_FILE_MODE)
      try {
        // The umask filtered the mode open() was given.
        await handle.chmod(PRIVATE_FILE_MODE)
        await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`)
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(temp, target)
    } catch (err) {
      await rm(temp, {force: true}).catch(() => {})
      throw new RunnerRegistryError(`cannot write runner record ${target}: ${errorMessage(err)}`, {cause: err})
    }
  }

  async read(sessionId: string): Promise<RunnerRecord | undefined> {
    const file = this.#file(sessionId)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new RunnerRegistryError(`cannot read runner record ${file}: ${errorMessage(err)}`, {cause: err})
    }
    return this.#parse(file, text)
  }

  #parse(file: string, text: string): RunnerRecord {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (err) {
      throw new RunnerRegistryError(`runner record ${file} is not JSON: ${errorMessage(err)}`, {cause: err})
    }
    const parsed = RunnerRecordSchema.safeParse(json)
    if (!parsed.success) throw new RunnerRegistryError(`runner record ${file} is invalid: ${parsed.error.message}`)
    return parsed.data
  }

  /** Every readable record; unreadable files are logged and skipped, not fatal. */
  /** Every readable record; `skip` leaves out sessions the caller already knows (no file read). */
  async list(options: {skip?: (sessionId: string) => boolean} = {}): Promise<RunnerRecord[]> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw new RunnerRegistryError(`cannot list ${this.dir}: ${errorMessage(err)}`, {cause: err})
    }
    const records: RunnerRecord[] = []
    for (const name of names.sort()) {
      if (!name.endsWith('.json') || !isSafeSessionId(name.slice(0, -5)) || options.skip?.(name.slice(0, -5))) continue
      try {
        const record = await this.read(name.slice(0, -5))
        if (record) records.push(record)
      } catch (err) {
        this.#logger.warn({err, file: name}, 'skipping unreadable runner record')
      }
    }
    return records
  }

  async remove(sessionId: string): Promise<void> {
    await rm(this.#file(sessionId), {force: true})
  }

  /** The runner's main process runs, is not a zombie, and is the same process (start ticks). */
  isAlive(record: RunnerRecord): Promise<boolean> {
    return isPidAlive(record.pid, record.processStartTicks)
  }
}

/**
 * A proxy `resolve` backed by the registry (for the standalone `ambient proxy`): the record's
 * port and token, if its runner is alive.
 */
export function registryResolver(registry: RunnerRegistry): (sessionId: string) => Promise<{port: number; token: string} | undefined> {
  return async (sessionId) => {
    const record = await registry.read(sessionId).catch(() => undefined)
    if (!record || !(await registry.isAlive(record))) return undefined
    return {port: record.port, token: record.token}
  }
}
