// Turns CustomResourceDefinition objects (from YAML files or created through the API) into the
// resources the fake serves: one view per served version, all sharing the storage version.
import {readFile} from 'node:fs/promises'
import * as yaml from 'js-yaml'
import {clone, isObject, type KubeObject} from './json.js'
import {makeDef, type ResourceDef} from './resources.js'
import {decoded, parseSchema, prune, type Schema} from './schema.js'

export async function loadCrdFiles(paths: string[]): Promise<KubeObject[]> {
  const out: KubeObject[] = []
  for (const path of paths) {
    for (const doc of yaml.loadAll(await readFile(path, 'utf8'))) {
      if (isObject(doc) && doc.kind === 'CustomResourceDefinition' && isObject(doc.metadata)) {
        out.push(doc as KubeObject)
      }
    }
  }
  return out
}

function schemaOf(version: Record<string, unknown> | undefined): Schema | undefined {
  const node = version && isObject(version.schema) ? version.schema.openAPIV3Schema : undefined
  return node === undefined ? undefined : parseSchema(node)
}

/**
 * An object read from storage, as kube-apiserver decodes it from etcd: pruned and defaulted with
 * the storage version's schema (so a default added to the CRD later shows on every read, without
 * being written back), converted, then pruned with the served version's schema. Never mutates
 * `stored` (watch events share it).
 */
function decodeStored(stored: KubeObject, to: {storageSchema?: Schema; schema?: Schema; apiVersion: string; kind: string}): KubeObject {
  const obj = (to.storageSchema ? decoded(stored, to.storageSchema, true) : clone(stored)) as KubeObject
  if (to.schema && to.schema !== to.storageSchema) prune(obj, to.schema)
  return {...obj, apiVersion: to.apiVersion, kind: to.kind}
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback
}

export function defsFromCrd(crd: KubeObject): ResourceDef[] {
  const spec = isObject(crd.spec) ? crd.spec : {}
  const names = isObject(spec.names) ? spec.names : {}
  const group = str(spec.group)
  const plural = str(names.plural)
  const kind = str(names.kind)
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isObject) : []
  const storageKey = `${plural}.${group}`
  const storageNode = versions.find((v) => v.storage === true)
  const storageVersion = str(storageNode?.name)
  const storageSchema = schemaOf(storageNode)
  return versions
    .filter((v) => v.served === true)
    .map((v) => {
      const version = str(v.name)
      const schema = v === storageNode ? storageSchema : schemaOf(v)
      const subresources = isObject(v.subresources) ? v.subresources : {}
      const own = `${group}/${version}`
      const stored = `${group}/${storageVersion}`
      return makeDef({
        group,
        version,
        plural,
        singular: str(names.singular, kind.toLowerCase()),
        kind,
        listKind: str(names.listKind, `${kind}List`),
        namespaced: spec.scope !== 'Cluster',
        shortNames: Array.isArray(names.shortNames) ? names.shortNames.filter((s): s is string => typeof s === 'string') : [],
        storageKey,
        custom: true,
        generation: true,
        statusSubresource: isObject(subresources.status),
        allowCreateOnUpdate: false,
        allowUnconditionalUpdate: false,
        returnDeletedObject: true,
        nameRule: 'subdomain',
        schema,
        selectableFields: {},
        // conversion strategy None: only apiVersion changes between versions.
        toStorage: (obj) => ({...obj, apiVersion: stored, kind}),
        fromStorage: (obj) => decodeStored(obj, {storageSchema, schema, apiVersion: own, kind}),
      })
    })
}
