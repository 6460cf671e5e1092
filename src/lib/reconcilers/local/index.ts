// Local mode: sessions become runner processes on this machine (contract 4).
export {createLocalMode, type LocalMode, type LocalModeConfig, type LocalModeOptions} from './mode.js'
export {LocalSessionReconciler, rfc3339, type LocalSessionReconcilerOptions, type SessionApi, type SessionsView} from './reconciler.js'
export {HEALTH_CHECK_PASSED, PROCESS_SPAWNED, REASONS, RUNNER_STARTED, findCondition, mergeConditions, type ConditionUpdate} from './conditions.js'
export {describeExit, outcomeFromExit, lostOutcome, type RecordedExit, type TerminalOutcome, type TerminalPhase} from './outcome.js'
export {StopRequests, runnerRegistryDir, stopRequestsDir, type StopRequest} from './stop-requests.js'
export {describeLocalRunners, killLocalRunner, type KilledRunner, type KillLocalRunnerOptions, type LocalRunnerStatus} from './runners.js'
export {reposProblem, sessionProblem, type SessionProblem} from './validate.js'
export {echoRunnerCommand, packageRoot} from './echo-command.js'
