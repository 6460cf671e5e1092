// The pure parts of local mode: verdicts from exits, session validation, condition merging.
import {describe, expect, it} from 'vitest'
import {
  mergeConditions,
  outcomeFromExit,
  lostOutcome,
  reposProblem,
  sessionProblem,
  type RecordedExit,
} from '../../src/lib/reconcilers/local/index.js'

const at = new Date('2026-01-02T03:04:05.000Z')
const exit = (over: Partial<RecordedExit>): RecordedExit => ({
  sessionId: 's1',
  pid: 10,
  exitCode: 0,
  signal: null,
  stderrTail: [],
  adopted: false,
  stopRequested: false,
  at,
  ...over,
})
const stopRequest = {
  sessionId: 's1',
  pid: 10,
  signal: 'SIGTERM',
  requestedBy: '`ambient runners kill` (pid 7)',
  requestedAt: '2026-01-02T03:04:00.000Z',
}

describe('outcomeFromExit', () => {
  it('maps exit codes, signals and stop requests to phases', () => {
    expect(outcomeFromExit(exit({exitCode: 0}), 'T')).toMatchObject({phase: 'Completed', reason: 'Completed', completionTime: 'T'})
    expect(outcomeFromExit(exit({exitCode: 3, stderrTail: ['boom']}), 'T')).toMatchObject({phase: 'Failed', reason: 'ProcessExited: exit code 3'})
    expect(outcomeFromExit(exit({exitCode: 3, stderrTail: ['boom']}), 'T').message).toBe(
      'ProcessExited: exit code 3\nlast 1 line(s) of stderr:\nboom',
    )
    expect(outcomeFromExit(exit({exitCode: null, signal: 'SIGKILL'}), 'T').reason).toBe('ProcessExited: signal SIGKILL')
    // Asked for: Stopped, whatever the code.
    expect(outcomeFromExit(exit({exitCode: null, signal: 'SIGKILL', stopRequested: true}), 'T').phase).toBe('Stopped')
    expect(outcomeFromExit(exit({exitCode: 0}), 'T', {stopRequest}).phase).toBe('Stopped')
    expect(outcomeFromExit(exit({exitCode: 0}), 'T', {stopRequest}).message).toContain('ambient runners kill')
    expect(outcomeFromExit(exit({stopRequested: true}), 'T', {shutdown: true}).message).toContain('shut down')
    expect(outcomeFromExit(exit({exitCode: null, adopted: true, reaped: 'dead'}), 'T').reason).toBe('RunnerLost')
    expect(outcomeFromExit(exit({exitCode: null, adopted: true, reaped: 'unhealthy'}), 'T').reason).toBe('HealthCheckTimeout')
    expect(outcomeFromExit(exit({exitCode: null, adopted: true}), 'T').reason).toBe('ProcessExited: exit status unknown')
  })

  it('puts the verdict on RunnerStarted', () => {
    const outcome = outcomeFromExit(exit({exitCode: 2}), 'T')
    expect(outcome.conditions).toEqual([
      {type: 'RunnerStarted', status: 'False', reason: 'ProcessExited: exit code 2', message: 'ProcessExited: exit code 2'},
    ])
    expect(lostOutcome('T').phase).toBe('Failed')
    expect(lostOutcome('T', stopRequest).phase).toBe('Stopped')
  })
})

describe('session validation', () => {
  it('accepts absent, empty and well-formed repos', () => {
    for (const repos of [undefined, '', '  ', 'null', '[]', '[{"url": "https://x/y"}]', '[{"url": "u", "branch": "b", "autoPush": true}]']) {
      expect(reposProblem(repos), String(repos)).toBeUndefined()
    }
  })

  it('names the field and the problem for malformed repos', () => {
    expect(reposProblem('[{')?.message).toMatch(/^repos: not valid JSON/)
    expect(reposProblem('{"url": "x"}')?.message).toMatch(/expected a JSON array/)
    expect(reposProblem('[{"branch": "main"}]')?.message).toBe('repos[0]: "url" must be a non-empty string')
    expect(reposProblem('[{"url": "u", "autoPush": "yes"}]')?.message).toBe('repos[0]: "autoPush" must be true or false')
  })

  it('refuses ids that cannot name a workspace', () => {
    for (const id of ['../etc', 'a/b', '.hidden', '', 'x'.repeat(200), 'sp ace']) expect(sessionProblem({id})?.field, id).toBe('id')
    expect(sessionProblem({id: '2mFqX8d0kGzvJ3bH'})).toBeUndefined()
  })
})

describe('mergeConditions', () => {
  it('keeps lastTransitionTime while the status stays, so the same verdict is the same document', () => {
    const first = mergeConditions(undefined, [{type: 'A', status: 'True', reason: 'R'}], 't1')
    const again = mergeConditions(first, [{type: 'A', status: 'True', reason: 'R2', message: 'm'}], 't2')
    expect(JSON.parse(again)).toEqual([{type: 'A', status: 'True', reason: 'R2', message: 'm', lastTransitionTime: 't1'}])
    const flipped = mergeConditions(
      again,
      [
        {type: 'A', status: 'False'},
        {type: 'B', status: 'Unknown'},
      ],
      't3',
    )
    expect(JSON.parse(flipped)).toEqual([
      {type: 'A', status: 'False', lastTransitionTime: 't3'},
      {type: 'B', status: 'Unknown', lastTransitionTime: 't3'},
    ])
  })

  it('treats malformed conditions as none', () => {
    expect(JSON.parse(mergeConditions('{not json', [{type: 'A', status: 'True'}], 't'))).toEqual([
      {type: 'A', status: 'True', lastTransitionTime: 't'},
    ])
  })
})
