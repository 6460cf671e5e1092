import {describe, expect, it} from 'vitest'
import {keepPendingRequest, pendingPhaseRequest} from '../../src/lib/api/phase-requests.js'
import type {SessionStatusPatch} from '../../src/lib/api/types.js'

// The rule the kube reconciler and `ambient diff` share: a stop or start the user asked for on
// the Ambient API stands until the run (the CR's status) has taken it up.

const ENDED = '2026-03-01T10:00:00Z'
const AFTER = '2026-03-01T10:00:01.000001Z'

describe('pendingPhaseRequest', () => {
  it('a stop is pending while the run is neither stopping nor over', () => {
    for (const phase of [undefined, '', 'Pending', 'Creating', 'Running']) {
      expect(pendingPhaseRequest({phase: 'Stopping'}, {phase}), String(phase)).toBe('stop')
    }
  })

  it('a stop is taken up once the run says Stopping, or ended anyway', () => {
    for (const phase of ['Stopping', 'Stopped', 'Completed', 'Failed']) {
      expect(pendingPhaseRequest({phase: 'Stopping'}, {phase, completionTime: ENDED}), phase).toBeUndefined()
    }
  })

  it('a restart is pending when Pending was set after the run completed', () => {
    for (const phase of ['Stopped', 'Completed', 'Failed']) {
      expect(pendingPhaseRequest({phase: 'Pending', updated_at: AFTER}, {phase, completionTime: ENDED}), phase).toBe('restart')
    }
    // Equal instants in other spellings are not "after".
    expect(
      pendingPhaseRequest({phase: 'Pending', updated_at: '2026-03-01T10:00:00.000000Z'}, {phase: 'Failed', completionTime: ENDED}),
    ).toBeUndefined()
  })

  it('no restart while the run has not ended, or without a time to compare', () => {
    expect(pendingPhaseRequest({phase: 'Pending', updated_at: AFTER}, {phase: 'Running', completionTime: ENDED})).toBeUndefined()
    expect(pendingPhaseRequest({phase: 'Pending', updated_at: AFTER}, {phase: 'Stopped'})).toBeUndefined()
    expect(pendingPhaseRequest({phase: 'Pending', updated_at: '2026-03-01T09:59:59Z'}, {phase: 'Stopped', completionTime: ENDED})).toBeUndefined()
    expect(pendingPhaseRequest({phase: 'Pending'}, {phase: 'Stopped', completionTime: ENDED})).toBeUndefined()
  })

  it('an unreadable timestamp means no restart, never a throw', () => {
    expect(pendingPhaseRequest({phase: 'Pending', updated_at: 'yesterday'}, {phase: 'Stopped', completionTime: ENDED})).toBeUndefined()
    expect(pendingPhaseRequest({phase: 'Pending', updated_at: AFTER}, {phase: 'Stopped', completionTime: 'soon'})).toBeUndefined()
  })

  it('other phases hold no request', () => {
    for (const phase of [undefined, '', 'Creating', 'Running', 'Stopped', 'Completed', 'Failed']) {
      expect(pendingPhaseRequest({phase, updated_at: AFTER}, {phase: 'Failed', completionTime: ENDED}), String(phase)).toBeUndefined()
    }
  })
})

describe('keepPendingRequest', () => {
  const copied: SessionStatusPatch = {phase: 'Running', start_time: ENDED, completion_time: ENDED, conditions: '[]', sdk_session_id: 'sdk-1'}

  it('drops phase and completion time, and only those, while a stop is pending', () => {
    const kept = keepPendingRequest({phase: 'Stopping'}, copied, {phase: 'Running'})
    expect(kept).toEqual({start_time: ENDED, conditions: '[]', sdk_session_id: 'sdk-1'})
    // The caller's patch is left as it was.
    expect(copied.phase).toBe('Running')
  })

  it('drops them while a restart is pending', () => {
    const kept = keepPendingRequest(
      {phase: 'Pending', updated_at: AFTER},
      {...copied, phase: 'Completed'},
      {phase: 'Completed', completionTime: ENDED},
    )
    expect(kept).toEqual({start_time: ENDED, conditions: '[]', sdk_session_id: 'sdk-1'})
  })

  it('copies everything once the run has taken the request up, or when none is pending', () => {
    expect(keepPendingRequest({phase: 'Stopping'}, {...copied, phase: 'Stopped'}, {phase: 'Stopped', completionTime: ENDED})).toEqual({
      ...copied,
      phase: 'Stopped',
    })
    expect(keepPendingRequest({phase: 'Running'}, copied, {phase: 'Running'})).toEqual(copied)
  })

  it('a patch without a phase overwrites nothing: it is kept whole', () => {
    const noPhase: SessionStatusPatch = {completion_time: ENDED, conditions: '[]'}
    expect(keepPendingRequest({phase: 'Stopping'}, noPhase, {phase: ''})).toEqual(noPhase)
  })
})
