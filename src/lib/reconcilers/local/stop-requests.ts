// A stop asked for from outside the reconciler (`ambient runners kill` in another shell)
// looks to the process that owns the runner like any other exit: a runner that handles
// SIGTERM exits 0, which would read as Completed. The killer therefore leaves a small note
// next to the runner registry first; the reconciler reads it when the runner is gone and
// reports Stopped, also when the kill happened while `ambient run` was not running.
import {open, readFile, rename, rm} from 'node:fs/promises'
import path from 'node:path'
import {randomBytes} from 'node:crypto'
import {PRIVATE_FILE_MODE, ensurePrivateDir} from '../../private-files.js'
import {isSafeSessionId} from '../../process/session-id.js'

export interface StopRequest {
  sessionId: string
  /** The runner the request was meant for: a later run of the session is not affected. */
  pid: number
  signal: string
  /** Who asked, for the condition message (e.g. "`ambient runners kill` (pid 4242)"). */
  requestedBy: string
  requestedAt: string
}

/** `<AMBIENT_STATE_DIR>/stop-requests`. */
export function stopRequestsDir(stateDir: string): string {
  return path.join(stateDir, 'stop-requests')
}

function isStopRequest(value: unknown): value is StopRequest {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v.sessionId === 'string' &&
    typeof v.pid === 'number' &&
    typeof v.signal === 'string' &&
    typeof v.requestedBy === 'string' &&
    typeof v.requestedAt === 'string'
  )
}

export class StopRequests {
  readonly dir: string

  constructor(options: {dir: string}) {
    this.dir = path.resolve(options.dir)
  }

  #file(sessionId: string): string | undefined {
    return isSafeSessionId(sessionId) ? path.join(this.dir, `${sessionId}.json`) : undefined
  }

  /** Atomic (temp file + rename), so a reader never sees half a note. */
  async write(request: StopRequest): Promise<void> {
    const file = this.#file(request.sessionId)
    if (!file) return
    ensurePrivateDir(this.dir)
    const temp = path.join(this.dir, `.${request.sessionId}.${randomBytes(4).toString('hex')}.tmp`)
    const handle = await open(temp, 'wx', PRIVATE_FILE_MODE)
    try {
      // The umask filtered the mode open() was given.
      await handle.chmod(PRIVATE_FILE_MODE)
      await handle.writeFile(`${JSON.stringify(request)}\n`)
    } finally {
      await handle.close()
    }
    await rename(temp, file)
  }

  /** The request for `sessionId`; a missing, unreadable or malformed note counts as none. */
  async read(sessionId: string): Promise<StopRequest | undefined> {
    const file = this.#file(sessionId)
    if (!file) return undefined
    try {
      const parsed: unknown = JSON.parse(await readFile(file, 'utf8'))
      return isStopRequest(parsed) && parsed.sessionId === sessionId ? parsed : undefined
    } catch {
      return undefined
    }
  }

  async remove(sessionId: string): Promise<void> {
    const file = this.#file(sessionId)
    if (file) await rm(file, {force: true})
  }
}
