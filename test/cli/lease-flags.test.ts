// The lease timing flags of `ambient run`: Kubernetes-style durations, and client-go's rules
// between them, refused with exit 2 naming the flag before anything starts.
import {describe, expect, it} from 'vitest'
import {FlagError} from '../../src/lib/cli/client.js'
import {parseDurationFlag} from '../../src/lib/cli/duration.js'
import {leaderTimingProblem} from '../../src/lib/controller/leader-timing.js'
import {runCli, tempConfigDir} from '../commands/helpers.js'

describe('parseDurationFlag', () => {
  it('reads 15s, 500ms, 1m, 1.5s and bare seconds', () => {
    expect(parseDurationFlag('f', '15s')).toBe(15_000)
    expect(parseDurationFlag('f', '500ms')).toBe(500)
    expect(parseDurationFlag('f', '1m')).toBe(60_000)
    expect(parseDurationFlag('f', '1.5s')).toBe(1500)
    expect(parseDurationFlag('f', '3')).toBe(3000)
    expect(parseDurationFlag('f', undefined)).toBeUndefined()
  })

  it('refuses anything else, naming the flag and the value', () => {
    for (const bad of ['', '0s', '-1s', '1h', 's', '1e3', '10 s s', '1.s']) {
      expect(() => parseDurationFlag('leader-elect-retry-period', bad), bad).toThrow(FlagError)
    }
    expect(() => parseDurationFlag('leader-elect-retry-period', '1h')).toThrow(/--leader-elect-retry-period: .*"1h"/)
  })
})

describe('leaderTimingProblem', () => {
  it('holds the defaults and a short valid timing, and names what is wrong otherwise', () => {
    expect(leaderTimingProblem({})).toBeUndefined()
    expect(leaderTimingProblem({leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 400})).toBeUndefined()
    expect(leaderTimingProblem({renewDeadlineMs: 20_000})).toMatch(/lease duration .* greater than the renew deadline/)
    expect(leaderTimingProblem({renewDeadlineMs: 2000, retryPeriodMs: 2000})).toMatch(/1.2 x the retry period/)
  })
})

describe('ambient run --leader-elect-*', () => {
  it('exits 2 on a renew deadline longer than the lease, before starting anything', {timeout: 60_000}, async () => {
    const dir = tempConfigDir()
    const result = await runCli(['run', '--mode', 'test', '--leader-elect-renew-deadline', '20s'], {AMBIENT_CONFIG_DIR: dir, AMBIENT_STATE_DIR: dir})
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toMatch(/leader-elect-renew-deadline/)
  })
})
