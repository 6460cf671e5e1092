// Projects -> Namespaces: create the project's namespace, keep the managed labels on it, and
// adopt an existing unmanaged namespace of that name. A deleted project keeps its namespace
// (contract 3): deleting tenants' data is not the control plane's call.
import type {Project} from '../../api/types.js'
import {silentLogger, type Logger} from '../../log.js'
import type {KubeCache} from '../../kube/cache.js'
import type {KubeClient} from '../../kube/client.js'
import {isAlreadyExists} from '../../kube/errors.js'
import type {EventRecorder} from '../../kube/events.js'
import {LABEL_PROJECT_ID, type NamespaceObject} from '../../kube/types.js'
import {accounted, type CallObserver, type KubeReconciler, type ReconcileRequest, type ReconcileResult} from './common.js'
import {desiredNamespace, labelsMissing} from './desired.js'

export interface ProjectReconcilerOptions {
  kube: KubeClient
  cache: KubeCache<NamespaceObject>
  recorder?: EventRecorder
  controlPlaneNamespace: string
  logger?: Logger
  onCalls?: CallObserver
}

export class ProjectReconciler implements KubeReconciler<Project> {
  private readonly options: ProjectReconcilerOptions
  private readonly logger: Logger
  /** Last failure reported per project, so a resync does not repeat its Event. */
  private readonly reported = new Map<string, string>()

  constructor(options: ProjectReconcilerOptions) {
    this.options = options
    this.logger = (options.logger ?? silentLogger).child({reconciler: 'projects'})
  }

  reconcile(request: ReconcileRequest<Project>, signal: AbortSignal): Promise<ReconcileResult | void> {
    return accounted('projects', this.options.onCalls, () => this.run(request, {signal}))
  }

  private async run(request: ReconcileRequest<Project>, call: {signal: AbortSignal}): Promise<void> {
    const project = request.object
    if (!project) {
      this.reported.delete(request.id)
      return
    }
    const desired = desiredNamespace(project)
    if (!desired.ok) return this.fail(project, desired.reason, desired.message)
    const {kube, cache} = this.options
    const existing = cache.get('', desired.name)
    const holder = existing?.metadata.labels?.[LABEL_PROJECT_ID]
    if (existing && holder && holder !== project.id) {
      return this.fail(project, 'NamespaceConflict', `namespace ${desired.name} already belongs to project ${holder}`)
    }
    this.reported.delete(project.id)
    if (existing) {
      if (labelsMissing(desired.object.metadata.labels, existing.metadata.labels)) {
        cache.observeWrite(await kube.namespaces.patch(desired.name, {metadata: {labels: desired.object.metadata.labels}}, call))
      }
      return
    }
    try {
      cache.observeWrite(await kube.namespaces.create(desired.object, call))
      this.logger.info({project: project.id, namespace: desired.name}, 'created namespace')
    } catch (err) {
      if (!isAlreadyExists(err)) throw err
      // Not in our (label-selected) cache: an unmanaged namespace of that name. Adopt it,
      // unless another project already labelled it between our read and now.
      const current = await kube.namespaces.get(desired.name, call)
      const owner = current.metadata.labels?.[LABEL_PROJECT_ID]
      if (owner && owner !== project.id) {
        return this.fail(project, 'NamespaceConflict', `namespace ${desired.name} already belongs to project ${owner}`)
      }
      cache.observeWrite(await kube.namespaces.patch(desired.name, {metadata: {labels: desired.object.metadata.labels}}, call))
      this.logger.info({project: project.id, namespace: desired.name}, 'adopted existing namespace')
    }
  }

  private fail(project: Project, reason: string, message: string): void {
    if (this.reported.get(project.id) === message) return
    this.reported.set(project.id, message)
    this.logger.warn({project: project.id, reason}, message)
    this.options.recorder?.record({
      regarding: {apiVersion: 'ambient-code.io/v1', kind: 'Project', name: project.id, namespace: this.options.controlPlaneNamespace},
      type: 'Warning',
      reason,
      action: 'Reconcile',
      note: message,
    })
  }
}
