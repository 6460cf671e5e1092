// Reads deploy/rbac.yaml into the same `verb resource[.group][/sub]` keys the request counter
// records, so tests can check that what the control plane sends is exactly what it is granted.
import {readFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as yaml from 'js-yaml'

export const deployDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../deploy')

export interface K8sDoc {
  apiVersion?: string
  kind?: string
  metadata?: {name?: string; namespace?: string; labels?: Record<string, string>}
  [key: string]: unknown
}

export function loadDocs(file: string): K8sDoc[] {
  return (yaml.loadAll(readFileSync(resolve(deployDir, file), 'utf8')) as unknown[]).filter((d): d is K8sDoc => typeof d === 'object' && d !== null)
}

interface Rule {
  apiGroups?: string[]
  resources?: string[]
  verbs?: string[]
  resourceNames?: string[]
}

/** Permission keys granted by a ClusterRole or Role document. */
export function grantedBy(doc: K8sDoc): Set<string> {
  const out = new Set<string>()
  for (const rule of (doc.rules as Rule[] | undefined) ?? []) {
    for (const group of rule.apiGroups ?? []) {
      for (const res of rule.resources ?? []) {
        const [resource, sub] = res.split('/')
        for (const verb of rule.verbs ?? []) out.add(`${verb} ${group ? `${resource}.${group}` : resource}${sub ? `/${sub}` : ''}`)
      }
    }
  }
  return out
}

/** Everything deploy/rbac.yaml grants the control plane (ClusterRole and namespaced Role). */
export function grantedPermissions(): Set<string> {
  const out = new Set<string>()
  for (const doc of loadDocs('rbac.yaml')) if (doc.kind === 'ClusterRole' || doc.kind === 'Role') for (const p of grantedBy(doc)) out.add(p)
  return out
}
