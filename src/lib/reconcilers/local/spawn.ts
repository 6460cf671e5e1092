// ''/Pending with no runner -> spawn (then startup.ts takes it to Creating). A session that
// cannot get a runner fails on its own (bad data, command not found); one that finds no free
// slot or port stays Pending with a condition saying why, and is tried again when a runner ends.
import type {Session, SessionStatusPatch} from '../../api/types.js'
import {
  NoFreePortError,
  RunnerCapacityError,
  RunnerExistsError,
  RunnerSpawnError,
  UnsafeSessionIdError,
  type ManagedRunner,
} from '../../process/index.js'
import {PROCESS_SPAWNED, REASONS, mergeConditions} from './conditions.js'
import {rfc3339, type LocalContext, type StepResult} from './context.js'
import {notSpawnedOutcome} from './outcome.js'
import type {SessionRun} from './session-run.js'
import {advanceCreating} from './startup.js'
import {sessionProblem} from './validate.js'
import {writeTerminal} from './verdicts.js'

export async function spawnRunner(ctx: LocalContext, run: SessionRun, session: Session, signal: AbortSignal, depth: number): StepResult {
  const id = session.id
  // Whatever is remembered of an earlier run does not describe the one about to start.
  ctx.forgetRun(id)
  const problem = sessionProblem(session)
  if (problem) {
    ctx.logger.warn({session: id, field: problem.field}, problem.message)
    return writeTerminal(ctx, session, notSpawnedOutcome(REASONS.invalidSession, problem.message, rfc3339(ctx.now())), signal)
  }
  let runner: ManagedRunner
  try {
    runner = await ctx.manager.spawn(session)
  } catch (err) {
    if (ctx.closed()) return
    if (err instanceof RunnerCapacityError || err instanceof NoFreePortError) return waitForCapacity(ctx, run, session, err, signal, depth)
    if (err instanceof RunnerSpawnError || err instanceof UnsafeSessionIdError) {
      ctx.logger.warn({session: id, err}, 'cannot start runner')
      return writeTerminal(ctx, session, notSpawnedOutcome(REASONS.spawnFailed, err.message, rfc3339(ctx.now())), signal)
    }
    if (err instanceof RunnerExistsError) return {requeueAfterMs: 500}
    throw err
  }
  run.waitingForCapacity = false
  run.startHealthCheck(runner)
  return advanceCreating(ctx, run, session, runner, signal, depth)
}

async function waitForCapacity(
  ctx: LocalContext,
  run: SessionRun,
  session: Session,
  err: RunnerCapacityError | NoFreePortError,
  signal: AbortSignal,
  depth: number,
): StepResult {
  run.waitingForCapacity = true
  const reason = err instanceof NoFreePortError ? REASONS.noFreePort : REASONS.capacityFull
  const patch: SessionStatusPatch = {
    phase: 'Pending',
    conditions: mergeConditions(
      session.conditions,
      [{type: PROCESS_SPAWNED, status: 'False', reason, message: `${err.message}; the session starts when a runner ends`}],
      rfc3339(ctx.now()),
    ),
  }
  const written = await ctx.writes.write(session, patch, signal, true)
  if (written.superseded) return ctx.step(written.session, signal, depth + 1)
  return {requeueAfterMs: ctx.capacityRetryMs}
}
