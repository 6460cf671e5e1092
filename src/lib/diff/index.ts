// `ambient diff`: what the reconcilers would change, computed from the same desired-state
// functions they use. Pure comparisons (diffKube, diffLocal) over lists, plus the reads.
export {computeKubeDiff, computeLocalDiff, type KubeDiffOptions, type LocalDiffOptions} from './compute.js'
export {apiServerError, DiffSourceError, kubernetesError, type DiffSource} from './errors.js'
export {DIFF_PAGE_SIZE, readDesired, readKubeActual, readLocalRunners, readStopRequests} from './fetch.js'
export {displayPath, leafFields} from './fields.js'
export {diffKube, projectScope, type KubeActualState, type KubeDesiredState, type KubeDiffInput} from './kube.js'
export {diffLocal, type LocalDiffInput, type LocalRunnerState} from './local.js'
export {diffProjectSettings} from './project-settings.js'
export {diffProjects} from './projects.js'
export {renderEntry, renderNdjson, renderText, summarize, type RenderOptions} from './render.js'
export {diffSessions} from './sessions.js'
export {
  compareEntries,
  DIFF_RESOURCES,
  toDiffLine,
  type DiffAction,
  type DiffEntry,
  type DiffField,
  type DiffKind,
  type DiffLine,
  type DiffResource,
} from './types.js'
