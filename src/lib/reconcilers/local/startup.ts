// A runner exists: the session must say Creating (ProcessSpawned), then its background health
// check decides: healthy -> Running + start_time (HealthCheckPassed, RunnerStarted); no 200
// within the timeout -> Failed (HealthCheckTimeout) and the runner is stopped.
import type {Session, SessionStatusPatch} from '../../api/types.js'
import type {ManagedRunner} from '../../process/index.js'
import {HEALTH_CHECK_PASSED, PROCESS_SPAWNED, REASONS, RUNNER_STARTED, mergeConditions} from './conditions.js'
import {WAITING_REQUEUE_MS, rfc3339, type LocalContext, type StepResult} from './context.js'
import {healthTimeoutOutcome} from './outcome.js'
import type {SessionRun} from './session-run.js'
import {writeTerminal} from './verdicts.js'

export async function advanceCreating(
  ctx: LocalContext,
  run: SessionRun,
  session: Session,
  runner: ManagedRunner,
  signal: AbortSignal,
  depth: number,
): StepResult {
  let current = session
  if ((session.phase ?? '') !== 'Creating') {
    const written = await ctx.writes.write(session, creatingPatch(ctx, session, runner), signal, true)
    if (written.superseded) return ctx.step(written.session, signal, depth + 1)
    current = written.session
  }

  const result = run.healthCheck(runner).result
  if (!result) return {requeueAfterMs: WAITING_REQUEUE_MS}
  switch (result.kind) {
    case 'healthy': {
      const at = rfc3339(result.at)
      const patch: SessionStatusPatch = {
        phase: 'Running',
        start_time: at,
        conditions: mergeConditions(
          current.conditions,
          [
            {type: HEALTH_CHECK_PASSED, status: 'True', reason: REASONS.healthy, message: 'GET /health answered 200'},
            {type: RUNNER_STARTED, status: 'True', reason: REASONS.started, message: `AG-UI server on 127.0.0.1:${runner.port}`},
          ],
          at,
        ),
      }
      const written = await ctx.writes.write(current, patch, signal, true)
      if (written.superseded) return ctx.step(written.session, signal, depth + 1)
      run.cancelHealthCheck()
      ctx.logger.info({session: session.id, pid: runner.pid, port: runner.port}, 'session running')
      return
    }
    case 'timeout': {
      const cached = run.outcome
      const outcome = cached?.reason === REASONS.healthCheckTimeout ? cached : healthTimeoutOutcome(result.message, rfc3339(ctx.now()))
      run.outcome = outcome
      ctx.logger.warn({session: session.id, pid: runner.pid}, result.message)
      run.stopRunner()
      return writeTerminal(ctx, current, outcome, signal)
    }
    case 'ended':
      // The runner is going away; its exit enqueues the next pass.
      run.cancelHealthCheck()
      return {requeueAfterMs: WAITING_REQUEUE_MS}
    case 'error':
      run.cancelHealthCheck()
      throw new Error(`health check of session ${session.id} failed: ${result.message}`)
  }
}

function creatingPatch(ctx: LocalContext, session: Session, runner: ManagedRunner): SessionStatusPatch {
  return {
    phase: 'Creating',
    conditions: mergeConditions(
      session.conditions,
      [
        {type: PROCESS_SPAWNED, status: 'True', reason: REASONS.spawned, message: `pid ${runner.pid}, port ${runner.port}`},
        {
          type: HEALTH_CHECK_PASSED,
          status: 'Unknown',
          reason: REASONS.checking,
          message: `waiting for GET /health to answer 200 (up to ${ctx.healthTimeoutMs / 1000} s)`,
        },
        {type: RUNNER_STARTED, status: 'Unknown', reason: REASONS.waitingForHealth},
      ],
      rfc3339(ctx.now()),
    ),
  }
}
