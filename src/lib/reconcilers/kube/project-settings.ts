// ProjectSettings.group_access -> RoleBindings in the project's namespace: create what is
// missing, delete the managed bindings of these settings that are no longer wanted, and replace
// a binding whose roleRef or subject changed (roleRef is immutable). Deleted settings keep their
// bindings (contract 3): revoking access is a decision for a person, not a side effect.
import type {Project, ProjectSettings} from '../../api/types.js'
import {silentLogger, type Logger} from '../../log.js'
import type {KubeCache} from '../../kube/cache.js'
import {INDEX_PROJECT_SETTINGS_ID} from '../../kube/caches.js'
import type {KubeClient} from '../../kube/client.js'
import {isAlreadyExists, isConflict, isNotFound} from '../../kube/errors.js'
import type {EventRecorder} from '../../kube/events.js'
import {objectKey, type RoleBindingObject} from '../../kube/types.js'
import {accounted, type CallObserver, type KubeReconciler, type ReconcileRequest, type ReconcileResult} from './common.js'
import {desiredRoleBindings, roleBindingAction} from './desired.js'
import {NamespaceMissingError} from './sessions.js'

export interface ProjectSettingsReconcilerOptions {
  kube: KubeClient
  cache: KubeCache<RoleBindingObject>
  projects: {get(id: string): Project | undefined}
  recorder?: EventRecorder
  controlPlaneNamespace: string
  logger?: Logger
  /** Retry delay while the settings' project is not known yet (default 5000 ms). */
  projectMissingRetryMs?: number
  onCalls?: CallObserver
}

export class ProjectSettingsReconciler implements KubeReconciler<ProjectSettings> {
  private readonly options: ProjectSettingsReconcilerOptions
  private readonly logger: Logger
  private readonly reported = new Map<string, string>()

  constructor(options: ProjectSettingsReconcilerOptions) {
    this.options = options
    this.logger = (options.logger ?? silentLogger).child({reconciler: 'project_settings'})
  }

  reconcile(request: ReconcileRequest<ProjectSettings>, signal: AbortSignal): Promise<ReconcileResult | void> {
    return accounted('project_settings', this.options.onCalls, () => this.run(request, {signal}))
  }

  private async run(request: ReconcileRequest<ProjectSettings>, call: {signal: AbortSignal}): Promise<ReconcileResult | void> {
    const settings = request.object
    if (!settings) {
      this.reported.delete(request.id)
      return
    }
    const project = this.options.projects.get(settings.project_id)
    if (!project) {
      this.logger.debug({settings: settings.id, project: settings.project_id}, 'project not known yet')
      return {requeueAfterMs: this.options.projectMissingRetryMs ?? 5000}
    }
    const desired = desiredRoleBindings(settings, project)
    if (!desired.ok) return this.fail(settings, desired.reason, desired.message)
    this.reported.delete(settings.id)

    const {cache} = this.options
    const wanted = new Map(desired.bindings.map((b) => [objectKey(b.metadata), b]))
    for (const binding of desired.bindings) {
      const actual = cache.get(desired.namespace, binding.metadata.name ?? '')
      if (!actual) {
        await this.create(binding, call)
        continue
      }
      const action = roleBindingAction(binding, actual)
      if (action === 'recreate') {
        await this.delete(actual, call)
        await this.create(binding, call)
      } else if (action === 'patch-labels') {
        cache.observeWrite(
          await this.options.kube.roleBindings.patch(
            desired.namespace,
            binding.metadata.name ?? '',
            {metadata: {labels: binding.metadata.labels}},
            call,
          ),
        )
      }
    }
    // Bindings these settings made earlier and no longer want (a group or role was removed or
    // changed, or the project moved to another namespace).
    for (const actual of cache.byIndex(INDEX_PROJECT_SETTINGS_ID, settings.id)) {
      if (!wanted.has(objectKey(actual.metadata))) await this.delete(actual, call)
    }
  }

  private async create(binding: RoleBindingObject, call: {signal: AbortSignal}): Promise<void> {
    const {kube, cache} = this.options
    const namespace = binding.metadata.namespace ?? ''
    const name = binding.metadata.name ?? ''
    try {
      cache.observeWrite(await kube.roleBindings.create(binding, call))
    } catch (err) {
      if (isNotFound(err)) throw new NamespaceMissingError(namespace, {cause: err})
      if (!isAlreadyExists(err)) throw err
      // Not in our cache: created by hand or by older settings. Make it ours, as it should be.
      const current = await kube.roleBindings.get(namespace, name, call)
      if (roleBindingAction(binding, current) === 'recreate') {
        await this.delete(current, call)
        cache.observeWrite(await kube.roleBindings.create(binding, call))
      } else {
        cache.observeWrite(await kube.roleBindings.patch(namespace, name, {metadata: {labels: binding.metadata.labels}}, call))
      }
    }
  }

  private async delete(binding: RoleBindingObject, call: {signal: AbortSignal}): Promise<void> {
    const namespace = binding.metadata.namespace ?? ''
    const name = binding.metadata.name ?? ''
    try {
      await this.options.kube.roleBindings.delete(namespace, name, {uid: binding.metadata.uid, ...call})
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err
    }
    this.options.cache.observeDelete(namespace, name)
  }

  private fail(settings: ProjectSettings, reason: string, message: string): void {
    if (this.reported.get(settings.id) === message) return
    this.reported.set(settings.id, message)
    this.logger.warn({settings: settings.id, reason}, message)
    this.options.recorder?.record({
      regarding: {apiVersion: 'ambient-code.io/v1', kind: 'ProjectSettings', name: settings.id, namespace: this.options.controlPlaneNamespace},
      type: 'Warning',
      reason,
      action: 'Reconcile',
      note: message,
    })
  }
}
