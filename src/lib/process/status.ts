// What `ambient runners ls` shows, from any shell: the on-disk registry is the shared truth
// about runners, whether or not the `ambient run` that started them is still alive.
import {probeHealth} from './health.js'
import {isPidAlive} from './procfs.js'
import type {RunnerRegistry} from './registry.js'
import {runnerView, type RunnerStatus} from './runner.js'

export interface DescribeRunnersOptions {
  /** Per-runner /health timeout, default 1000 ms. */
  probeTimeoutMs?: number
  now?: () => number
}

/** Every registry record with liveness, health and owner; never the runner's token. */
export async function describeRunners(
  registry: Pick<RunnerRegistry, 'list' | 'isAlive'>,
  options: DescribeRunnersOptions = {},
): Promise<RunnerStatus[]> {
  const now = (options.now ?? Date.now)()
  const records = await registry.list()
  return Promise.all(
    records.map(async (record): Promise<RunnerStatus> => {
      const alive = await registry.isAlive(record)
      const healthy = alive ? (await probeHealth({port: record.port, token: record.token, timeoutMs: options.probeTimeoutMs ?? 1000})).ok : undefined
      const started = Date.parse(record.startTime)
      return {
        ...runnerView(record),
        uptimeSeconds: Number.isFinite(started) ? Math.max(0, Math.floor((now - started) / 1000)) : undefined,
        alive,
        healthy,
        ownerPid: record.ownerPid,
        ownerAlive: record.ownerPid !== process.pid && (await isPidAlive(record.ownerPid)),
      }
    }),
  )
}
