// Turns CustomResourceDefinition objects (from YAML files or created through the API) into the
// resources the fake serves: one view per served version, all sharing the storage version.
import {readFile} from 'node:fs/promises'
import * as yaml from 'js-yaml'
import {isObject, type KubeObject} from './json.js'
import {makeDef, type ResourceDef} from './resources.js'
import {parseSchema} from './schema.js'

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
  const storageVersion = str(versions.find((v) => v.storage === true)?.name)
  return versions
    .filter((v) => v.served === true)
    .map((v) => {
      const version = str(v.name)
      const schemaNode = isObject(v.schema) ? v.schema.openAPIV3Schema : undefined
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
        schema: schemaNode === undefined ? undefined : parseSchema(schemaNode),
        selectableFields: {},
        // conversion strategy None: only apiVersion changes between versions.
        toStorage: (obj) => ({...obj, apiVersion: stored, kind}),
        fromStorage: (obj) => ({...obj, apiVersion: own, kind}),
      })
    })
}
