// Files that hold user data (the API server's database and WAL, runner logs, the runner
// registry with its tokens, stop requests, our own log file) are readable by their owner
// only: 0600 files in 0700 folders. Modes are set with chmod after creation, because the
// mode given to open()/mkdir() is filtered by the umask (a umask of 0 would leave 0666, one of
// 0277 an unwritable 0400). A file or folder that already exists with looser bits (an earlier
// version wrote 0644) is tightened rather than refused: it is ours, refusing would strand
// every existing installation, and tightening closes the hole from now on. One that another
// user owns is refused: it is not ours to change, and a file planted in a shared folder
// (/tmp) by someone else is exactly what must not receive our data.
import fs, {type Stats} from 'node:fs'
import {open, type FileHandle} from 'node:fs/promises'
import path from 'node:path'
import {AmbientError} from './errors.js'

export const PRIVATE_FILE_MODE = 0o600
export const PRIVATE_DIR_MODE = 0o700

/** A data file or folder that cannot be made private (another owner, not a regular file...). */
export class InsecureFileError extends AmbientError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`, 'ERR_INSECURE_FILE')
  }
}

const effectiveUid = (): number | undefined => process.geteuid?.()

/** Throws unless `stats` is ours and of the expected kind; true when its mode needs tightening. */
function needsChmod(file: string, stats: Stats, kind: 'file' | 'dir', mode: number): boolean {
  if (kind === 'file' && !stats.isFile()) throw new InsecureFileError(file, 'is not a regular file')
  if (kind === 'dir' && !stats.isDirectory()) throw new InsecureFileError(file, 'is not a directory')
  const uid = effectiveUid()
  if (uid !== undefined && stats.uid !== uid) {
    throw new InsecureFileError(file, `belongs to uid ${stats.uid}, not to this user (uid ${uid}); refusing to keep data in it`)
  }
  return (stats.mode & 0o777) !== mode
}

function statOrUndefined(target: string): Stats | undefined {
  try {
    return fs.statSync(target)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Creates the missing folders above `target` (not `target` itself), each 0700; existing ones are left alone. */
function createMissingParents(target: string): void {
  const missing: string[] = []
  for (let dir = path.dirname(path.resolve(target)); !statOrUndefined(dir); dir = path.dirname(dir)) {
    missing.push(dir)
    if (path.dirname(dir) === dir) break
  }
  for (const dir of missing.reverse()) makeDir(dir)
}

function makeDir(dir: string): void {
  try {
    fs.mkdirSync(dir, {mode: PRIVATE_DIR_MODE})
  } catch (err) {
    // Another process made it meanwhile: then it is checked like any existing folder.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  fs.chmodSync(dir, PRIVATE_DIR_MODE)
}

/**
 * A folder of ours (the registry, a workspace, the logs folder): created 0700 with any missing
 * parents (also 0700), or, when it exists, checked to be ours and tightened to 0700.
 */
export function ensurePrivateDir(dir: string): void {
  createMissingParents(dir)
  const stats = statOrUndefined(dir)
  if (!stats) {
    makeDir(dir)
    return
  }
  if (needsChmod(dir, stats, 'dir', PRIVATE_DIR_MODE)) fs.chmodSync(dir, PRIVATE_DIR_MODE)
}

export interface PrivateFileOptions {
  /** Create it empty (0600) when missing; default false (a missing file is fine). */
  create?: boolean
}

/**
 * A data file, possibly at a place the user chose (`--db`): its folder is not touched (the
 * cwd or /tmp is not ours to lock down, and a missing one stays an error); the file itself is
 * created or tightened to 0600, or refused when another user owns it.
 */
export function securePrivateFile(file: string, options: PrivateFileOptions = {}): void {
  if (options.create) {
    try {
      fs.closeSync(fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, PRIVATE_FILE_MODE))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  const stats = statOrUndefined(file)
  if (stats && needsChmod(file, stats, 'file', PRIVATE_FILE_MODE)) fs.chmodSync(file, PRIVATE_FILE_MODE)
}

/** The same check for a file already open (no window between check and use): ours, regular, 0600. */
export async function securePrivateHandle(file: string, handle: FileHandle): Promise<void> {
  if (needsChmod(file, await handle.stat(), 'file', PRIVATE_FILE_MODE)) await handle.chmod(PRIVATE_FILE_MODE)
}

/**
 * Opens `file` for appending, created 0600 when missing, never through a symlink, and made
 * private if it existed with looser bits. For files inside our own 0700 folders (runner logs).
 */
export async function openPrivateAppend(file: string): Promise<FileHandle> {
  const {O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK} = fs.constants
  // O_NONBLOCK: a FIFO put where a log belongs fails at once (ENXIO) instead of hanging the open.
  const handle = await open(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, PRIVATE_FILE_MODE)
  try {
    await securePrivateHandle(file, handle)
  } catch (err) {
    await handle.close()
    throw err
  }
  return handle
}
