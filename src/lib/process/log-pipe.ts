// The runner's stdout and stderr are named pipes (FIFOs) that ambient drains into rotated log
// files (log-drain.ts, log-rotate.ts). Named, not anonymous, so a restarted ambient can open
// them again and go on draining the runners it adopts, like Docker's daemon reopens its
// containers' FIFOs after a live restore. The runner gets its end opened read-write: it then
// counts as a reader too, so it never sees EPIPE while no ambient is reading; the cost is that
// it blocks once the pipe's buffer (64 KiB on Linux) is full until an ambient reads again.
// Ambient reads through a non-blocking descriptor in the event loop (a net.Socket), never a
// thread-pool read that a silent pipe would hold for ever.
import {close, constants, fstat, open} from 'node:fs'
import {lstat, rm} from 'node:fs/promises'
import net from 'node:net'
import {promisify} from 'node:util'
import {execa} from 'execa'
import {errorMessage} from '../errors.js'
import {PRIVATE_FILE_MODE} from '../private-files.js'
import {RunnerLogPipeError} from './errors.js'

const openFd = promisify(open)
const closeFd = promisify(close)
const fstatFd = promisify(fstat)

/** Creates fresh FIFOs at `paths` (0600, replacing leftovers of an earlier run). */
export async function createLogPipes(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((file) => rm(file, {force: true})))
  try {
    // Node has no mkfifo(); the coreutils tool is on every system with process groups.
    await execa('mkfifo', ['-m', PRIVATE_FILE_MODE.toString(8), ...paths], {stdin: 'ignore', timeout: 10_000})
  } catch (err) {
    throw new RunnerLogPipeError(`cannot create log pipes ${paths.join(', ')}: ${errorMessage(err)}`, {cause: err})
  }
}

/** The runner's end: read-write and blocking (the runner's writes must wait, not fail, when the pipe is full). */
export async function openPipeForRunner(file: string): Promise<number> {
  const fd = await openFd(file, constants.O_RDWR | constants.O_NOFOLLOW)
  try {
    await assertFifo(file, fd)
  } catch (err) {
    await closeFd(fd)
    throw err
  }
  return fd
}

export function closePipeEnd(fd: number): Promise<void> {
  return closeFd(fd)
}

/** Our end: read-only, non-blocking, read by the event loop. Ends when every writer has closed it. */
export async function openPipeReader(file: string): Promise<net.Socket> {
  const fd = await openFd(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW)
  try {
    await assertFifo(file, fd)
  } catch (err) {
    await closeFd(fd)
    throw err
  }
  return new net.Socket({fd, readable: true, writable: false})
}

export async function removeLogPipes(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((file) => rm(file, {force: true})))
}

/** Whether `file` is one of our pipes (a FIFO, not a file or link someone put there). */
export async function isLogPipe(file: string): Promise<boolean> {
  try {
    return (await lstat(file)).isFIFO()
  } catch {
    return false
  }
}

async function assertFifo(file: string, fd: number): Promise<void> {
  const stats = await fstatFd(fd)
  if (!stats.isFIFO()) throw new RunnerLogPipeError(`${file} is not a named pipe`)
  const uid = process.geteuid?.()
  if (uid !== undefined && stats.uid !== uid) throw new RunnerLogPipeError(`${file} belongs to uid ${stats.uid}, not to this user (uid ${uid})`)
}
