// Issue 10, case 8: what draining runner output through ambient costs. A runner printing as
// fast as it can, 256 MiB per run, either straight into a file (how runners wrote before) or
// into its pipe drained by a RunnerManager into rotated logs (10 MiB x 3, the defaults).
// Measured: the runner's own write time (is it held up?), ambient's CPU per MiB, bytes
// dropped on this machine's disk, ambient's peak RSS. Alternating rounds, medians.
import {spawn} from 'node:child_process'
import {mkdtemp, open, readFile, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import {RunnerManager} from '../dist/lib/process/index.js'
import {fmt, median, report, withPeakRss} from './lib.js'

const MiB = 2 ** 20
const BYTES = 256 * MiB
const ROUNDS = 5
const FLOOD = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'log-flood.js')
const root = await mkdtemp(path.join(os.tmpdir(), 'ambient-bench-logs-'))

async function direct(round) {
  const dir = await mkdtemp(path.join(root, `direct-${round}-`))
  const file = await open(path.join(dir, 'stdout.log'), 'a', 0o600)
  const child = spawn(process.execPath, [FLOOD, String(BYTES)], {cwd: dir, stdio: ['ignore', file.fd, 'ignore']})
  await file.close()
  await new Promise((resolve) => child.once('exit', resolve))
  const result = JSON.parse(await readFile(path.join(dir, 'flood.json'), 'utf8'))
  await rm(dir, {recursive: true, force: true})
  return result
}

async function drained(round) {
  // The manager logs what its drains dropped when the runner is gone.
  let dropped = 0
  const logger = pino({level: 'warn'}, {write: (line) => (dropped += JSON.parse(line).stdoutDropped ?? 0)})
  const manager = new RunnerManager({workspaceRoot: path.join(root, `drained-${round}`), command: [process.execPath, FLOOD, String(BYTES)], portRange: {from: 29_000, to: 29_099}, hostEnv: {PATH: process.env.PATH}, logger})
  const cpu = process.cpuUsage()
  const exited = new Promise((resolve) => manager.once('exited', resolve))
  const info = await manager.spawn({id: `bench${round}`, kind: 'Session', href: '', created_at: '', updated_at: '', name: 'bench'})
  await exited
  const used = process.cpuUsage(cpu)
  const result = JSON.parse(await readFile(path.join(info.workspace, 'flood.json'), 'utf8'))
  await manager.stopAll()
  await rm(info.workspace, {recursive: true, force: true})
  return {...result, cpuMs: (used.user + used.system) / 1000, dropped}
}

const rows = []
const d = []
const p = []
const {peakMiB} = await withPeakRss(async () => {
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      d.push(await direct(i))
      p.push(await drained(i))
    } else {
      p.push(await drained(i))
      d.push(await direct(i))
    }
  }
})
await rm(root, {recursive: true, force: true})
const rate = (r) => r.bytes / MiB / (r.ms / 1000)
const ratios = p.map((r, i) => rate(r) / rate(d[i]))
const ratio = median(ratios)
rows.push(
  {name: `runner write rate, straight into a file (${BYTES / MiB} MiB per run)`, value: `${median(d.map(rate)).toFixed(0)} MiB/s`},
  {name: 'runner write rate, into its pipe drained by ambient into rotated logs', value: `${median(p.map(rate)).toFixed(0)} MiB/s`},
  {name: 'runner write rate through ambient / straight into a file', value: `${ratio.toFixed(2)}× (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')})`, goal: '≥ 0.5×', met: ratio >= 0.5},
  {name: 'ambient CPU per MiB drained', value: fmt.ms(median(p.map((r) => r.cpuMs / (r.bytes / MiB))))},
  // By design: the runner never waits for the disk, so what the disk cannot take beyond the 4 MiB queue is dropped (and marked).
  {name: 'output dropped (the disk fell behind a runner printing flat out), per round', value: p.map((r) => `${((100 * r.dropped) / r.bytes).toFixed(2)} %`).join(', ')},
  {name: 'peak RSS of the process draining', value: fmt.mib(peakMiB)},
)
report({title: 'Runner logs: draining and rotating runner output (issue 10, case 8)', description: 'A runner printing 256 MiB as fast as it can, into a file directly (as before) or into its pipe drained by a RunnerManager into rotated 10 MiB x 3 logs; alternating rounds, medians.', rows})
