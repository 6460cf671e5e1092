// What this machine needs before it can build and run an image: podman (and runc, the runtime
// that works here), mmdebstrap when a base image has to be made, and a containers.conf for
// this machine's quirks (../shared/notes/container.md), written only where none exists.
import fs from 'node:fs'
import path from 'node:path'
import {commandExists, run} from './proc.js'

export type Log = (line: string) => void

/** runc (crun fails on this cgroup hybrid mode), cgroupfs (no systemd), file events, ulimits
 * podman can set here (its defaults cannot be raised). */
export const CONTAINERS_CONF = `# Written by ambient's container smoke test (test/container/) because none existed.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`

export const CONTAINERS_CONF_PATH = '/etc/containers/containers.conf'

let aptUpdated = false

/** Installs Debian packages for the commands that are missing; needs root. */
export async function ensureCommands(commands: Record<string, string>, log: Log): Promise<string[]> {
  const missing: string[] = []
  for (const [command, pkg] of Object.entries(commands)) if (!(await commandExists(command))) missing.push(pkg)
  if (missing.length === 0) return []
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(', ')}: install them (apt-get install ${missing.join(' ')}) or run as root`)
  const env = {DEBIAN_FRONTEND: 'noninteractive'}
  log(`installing ${missing.join(' ')} (apt)`)
  if (!aptUpdated) await run('apt-get', ['update', '-qq'], {env, timeoutMs: 300_000})
  aptUpdated = true
  await run('apt-get', ['install', '-y', '-qq', ...missing], {env, timeoutMs: 600_000})
  return missing
}

export async function ensurePodman(log: Log): Promise<string[]> {
  const installed = await ensureCommands({podman: 'podman', runc: 'runc'}, log)
  ensureContainersConf(log)
  return installed
}

/** Never touches an existing file: another setup may depend on it. */
export function ensureContainersConf(log: Log, file = CONTAINERS_CONF_PATH): 'written' | 'kept' {
  if (fs.existsSync(file)) return 'kept'
  fs.mkdirSync(path.dirname(file), {recursive: true})
  // 'wx': if another process wrote one in the meantime, theirs stays.
  try {
    fs.writeFileSync(file, CONTAINERS_CONF, {flag: 'wx', mode: 0o644})
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'kept'
    throw err
  }
  log(`wrote ${file}`)
  return 'written'
}
