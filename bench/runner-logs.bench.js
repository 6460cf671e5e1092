// Issue 10, case 8: what draining runner output through ambient costs. A runner's stdout goes
// either straight into a file (how runners wrote before) or into its pipe, drained by a
// RunnerManager into rotated logs (10 MiB x 3, the defaults). Two loads: a runner printing
// a lot at a steady 16 MiB/s (it must not be slowed, nothing may be lost), and one printing
// flat out (the pipe and the disk decide; what the disk cannot take is dropped, by design).
// Alternating rounds, medians.
import {spawn} from 'node:child_process'
import {mkdtemp, open, readFile, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import {RunnerManager} from '../dist/lib/process/index.js'
import {fmt, median, report, withPeakRss} from './lib.js'

const MiB = 2 ** 20
const PACED = {bytes: 64 * MiB, rate: 16, rounds: 3}
const FLAT_OUT = {bytes: 256 * MiB, rounds: 5}
const FLOOD = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'log-flood.js')
const root = await mkdtemp(path.join(os.tmpdir(), 'ambient-bench-logs-'))
let runs = 0

async function direct(args) {
  const dir = await mkdtemp(path.join(root, 'direct-'))
  const file = await open(path.join(dir, 'stdout.log'), 'a', 0o600)
  const child = spawn(process.execPath, [FLOOD, ...args.map(String)], {cwd: dir, stdio: ['ignore', file.fd, 'ignore']})
  await file.close()
  await new Promise((resolve) => child.once('exit', resolve))
  const result = JSON.parse(await readFile(path.join(dir, 'flood.json'), 'utf8'))
  await rm(dir, {recursive: true, force: true})
  return result
}

async function drained(args) {
  // The manager logs what its drains dropped once the runner is gone.
  let dropped = 0
  const logger = pino({level: 'warn'}, {write: (line) => (dropped += JSON.parse(line).stdoutDropped ?? 0)})
  const id = `bench${runs++}`
  const manager = new RunnerManager({
    workspaceRoot: path.join(root, id),
    command: [process.execPath, FLOOD, ...args.map(String)],
    portRange: {from: 29_000, to: 29_099},
    hostEnv: {PATH: process.env.PATH},
    logger,
  })
  const cpu = process.cpuUsage()
  const exited = new Promise((resolve) => manager.once('exited', resolve))
  const info = await manager.spawn({id, kind: 'Session', href: '', created_at: '', updated_at: '', name: 'bench'})
  await exited
  const used = process.cpuUsage(cpu)
  const result = JSON.parse(await readFile(path.join(info.workspace, 'flood.json'), 'utf8'))
  await manager.stopAll()
  await rm(info.workspace, {recursive: true, force: true})
  return {...result, cpuMs: (used.user + used.system) / 1000, dropped}
}

async function alternate(rounds, a, b) {
  const as = []
  const bs = []
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      as.push(await a())
      bs.push(await b())
    } else {
      bs.push(await b())
      as.push(await a())
    }
  }
  return [as, bs]
}

const rate = (r) => r.bytes / MiB / (r.ms / 1000)
const droppedShare = (runs) => runs.map((r) => `${((100 * r.dropped) / r.bytes).toFixed(2)} %`).join(', ')
const cpuPerMiB = (runs) => fmt.ms(median(runs.map((r) => r.cpuMs / (r.bytes / MiB))))
const rows = []
const {peakMiB} = await withPeakRss(async () => {
  const paced = [PACED.bytes, PACED.rate]
  const [pd, pp] = await alternate(
    PACED.rounds,
    () => direct(paced),
    () => drained(paced),
  )
  const pacedRatio = median(pp.map(rate)) / median(pd.map(rate))
  rows.push(
    {
      name: `steady runner (${PACED.rate} MiB/s, ${PACED.bytes / MiB} MiB): write rate through ambient / into a file`,
      value: `${pacedRatio.toFixed(3)}× (${median(pp.map(rate)).toFixed(1)} vs ${median(pd.map(rate)).toFixed(1)} MiB/s)`,
      goal: '≥ 0.95×',
      met: pacedRatio >= 0.95,
    },
    {name: 'steady runner: output dropped, per round', value: droppedShare(pp), goal: '0', met: pp.every((r) => r.dropped === 0)},
    {name: 'steady runner: ambient CPU per MiB drained', value: cpuPerMiB(pp)},
  )
  const flat = [FLAT_OUT.bytes]
  const [fd, fp] = await alternate(
    FLAT_OUT.rounds,
    () => direct(flat),
    () => drained(flat),
  )
  rows.push(
    {name: `flat-out runner (${FLAT_OUT.bytes / MiB} MiB): write rate into a file`, value: `${median(fd.map(rate)).toFixed(0)} MiB/s`},
    {name: 'flat-out runner: write rate into its pipe, drained by ambient', value: `${median(fp.map(rate)).toFixed(0)} MiB/s`},
    // The sink alone writes rotated 10 MiB files at ~900 MiB/s here: what is lost is CPU the drain did not get while the runner took a core.
    {name: 'flat-out runner: output dropped (the drain fell behind; by design the runner never waits for it), per round', value: droppedShare(fp)},
    {name: 'flat-out runner: ambient CPU per MiB drained', value: cpuPerMiB(fp)},
  )
})
await rm(root, {recursive: true, force: true})
rows.push({name: 'peak RSS of the process draining', value: fmt.mib(peakMiB)})
report({
  title: 'Runner logs: draining and rotating runner output (issue 10, case 8)',
  description:
    "A runner's stdout straight into a file (as before) or into its pipe, drained by a RunnerManager into rotated 10 MiB x 3 logs; a steady heavy printer and a flat-out one; alternating rounds, medians.",
  rows,
})
