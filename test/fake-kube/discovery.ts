// Discovery documents (/api, /api/v1, /apis, /apis/<group>[/<version>], /version), built from
// the registry so KubernetesObjectApi can map apiVersion+kind to a resource path.
import {createHash} from 'node:crypto'
import type {Registry} from './registry.js'
import {apiVersionOf, type ResourceDef} from './resources.js'

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

function resources(defs: ResourceDef[]): unknown[] {
  const out: unknown[] = []
  for (const d of defs) {
    const entry: Record<string, unknown> = {
      name: d.plural,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: allVerbs,
      storageVersionHash: createHash('sha256').update(`${d.group}/${d.version}/${d.kind}`).digest('base64').slice(0, 11),
    }
    if (d.shortNames.length > 0) entry.shortNames = d.shortNames
    if (d.custom) entry.categories = ['all']
    out.push(entry)
    if (d.statusSubresource) {
      out.push({name: `${d.plural}/status`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: ['get', 'patch', 'update']})
    }
  }
  return out
}

export function resourceList(registry: Registry, group: string, version: string): unknown | undefined {
  const defs = registry.all().filter((d) => d.group === group && d.version === version)
  if (defs.length === 0) return undefined
  return {kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(defs[0]), resources: resources(defs)}
}

export function coreVersions(serverAddress: string): unknown {
  return {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress}]}
}

function groupDoc(name: string, versions: string[]): Record<string, unknown> {
  const gvs = versions.map((v) => ({groupVersion: `${name}/${v}`, version: v}))
  return {name, versions: gvs, preferredVersion: gvs[0]}
}

export function groupList(registry: Registry): unknown {
  const groups = [...registry.groups().entries()].filter(([g]) => g !== '').map(([g, v]) => groupDoc(g, v))
  return {kind: 'APIGroupList', apiVersion: 'v1', groups}
}

export function group(registry: Registry, name: string): unknown | undefined {
  const versions = registry.groups().get(name)
  if (name === '' || !versions) return undefined
  return {kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(name, versions)}
}

export const versionInfo = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0-fake',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.24.0',
  compiler: 'gc',
  platform: 'linux/amd64',
}
