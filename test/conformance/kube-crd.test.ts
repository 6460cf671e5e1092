// Contract section 3, read off deploy/crd.yaml itself: the CRD `ambient` ships must declare at
// least everything the platform's AgenticSession CRD declares, with the same types, defaults
// and enums, so it can replace the platform's CRD without pruning what other components write.
import {readFileSync} from 'node:fs'
import * as yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import {CRD_DEFAULTS} from '../../src/lib/reconcilers/kube/desired.js'
import {defaultCrdPath} from '../fake-kube/index.js'

interface Node {
  type?: string
  properties?: Record<string, Node>
  items?: Node
  additionalProperties?: Node | boolean
  default?: unknown
  enum?: unknown[]
  minimum?: number
  'x-kubernetes-preserve-unknown-fields'?: boolean
}

interface Crd {
  apiVersion: string
  kind: string
  metadata: {name: string}
  spec: {
    group: string
    scope: string
    names: {plural: string; singular: string; kind: string; shortNames?: string[]}
    versions: {name: string; served: boolean; storage: boolean; subresources?: {status?: object}; schema: {openAPIV3Schema: Node}}[]
  }
}

const crd = (yaml.loadAll(readFileSync(defaultCrdPath, 'utf8')) as Crd[]).find((d) => d.kind === 'CustomResourceDefinition')
if (!crd) throw new Error('deploy/crd.yaml holds no CustomResourceDefinition')
const version = crd.spec.versions.find((v) => v.name === 'v1alpha1')
const root = version?.schema.openAPIV3Schema

/** The schema node at a path like `spec.repos[].branch` (`[]` = array items, `{}` = map values). */
function node(path: string): Node | undefined {
  let n: Node | undefined = root
  for (const part of path.split('.')) {
    const name = part.replace(/(\[\]|\{\})$/, '')
    n = n?.properties?.[name]
    if (part.endsWith('[]')) n = n?.items
    if (part.endsWith('{}')) n = typeof n?.additionalProperties === 'object' ? n.additionalProperties : undefined
  }
  return n
}

const PHASES = ['Pending', 'Creating', 'Running', 'Stopping', 'Stopped', 'Completed', 'Failed']

describe('3 deploy/crd.yaml: the AgenticSession resource', () => {
  it('3 AgenticSession is group vteam.ambient-code, version v1alpha1, plural agenticsessions, kind AgenticSession, namespaced', () => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1')
    expect(crd.metadata.name).toBe('agenticsessions.vteam.ambient-code')
    expect(crd.spec.group).toBe('vteam.ambient-code')
    expect(crd.spec.names).toMatchObject({plural: 'agenticsessions', kind: 'AgenticSession'})
    expect(crd.spec.scope).toBe('Namespaced')
    expect(version).toMatchObject({served: true, storage: true})
  })

  it('3 AgenticSession has the short name as', () => {
    expect(crd.spec.names.shortNames).toEqual(['as'])
  })

  it('3 AgenticSession has the status subresource', () => {
    expect(version?.subresources?.status).toEqual({})
  })

  it('3 AgenticSession has a structural schema that prunes unknown spec fields (typed nodes, no preserve-unknown-fields on the root or spec)', () => {
    const untyped: string[] = []
    const walk = (n: Node, path: string): void => {
      if (!n.type && !n['x-kubernetes-preserve-unknown-fields']) untyped.push(path)
      for (const [k, child] of Object.entries(n.properties ?? {})) walk(child, `${path}.${k}`)
      if (n.items) walk(n.items, `${path}[]`)
      if (typeof n.additionalProperties === 'object') walk(n.additionalProperties, `${path}{}`)
    }
    if (!root) throw new Error('no v1alpha1 schema')
    walk(root, 'root')
    expect(untyped).toEqual([])
    expect(root['x-kubernetes-preserve-unknown-fields']).toBeUndefined()
    expect(node('spec')?.['x-kubernetes-preserve-unknown-fields']).toBeUndefined()
    expect(node('spec')?.additionalProperties).toBeUndefined()
  })
})

describe('3 deploy/crd.yaml: spec', () => {
  it.each([
    ['displayName', 'string'],
    ['initialPrompt', 'string'],
    ['timeout', 'integer'],
    ['repos', 'array'],
    ['repos[].url', 'string'],
    ['repos[].branch', 'string'],
    ['repos[].autoPush', 'boolean'],
    ['llmSettings', 'object'],
    ['llmSettings.model', 'string'],
    ['llmSettings.temperature', 'number'],
    ['llmSettings.maxTokens', 'integer'],
    ['userContext', 'object'],
    ['userContext.userId', 'string'],
    ['userContext.displayName', 'string'],
    ['userContext.groups', 'array'],
    ['userContext.groups[]', 'string'],
    ['environmentVariables', 'object'],
    ['environmentVariables{}', 'string'],
    ['inactivityTimeout', 'integer'],
    ['activeWorkflow', 'object'],
    ['activeWorkflow.gitUrl', 'string'],
    ['activeWorkflow.branch', 'string'],
    ['activeWorkflow.path', 'string'],
  ])('3 AgenticSession declares spec.%s as %s', (path, type) => {
    expect(node(`spec.${path}`)?.type).toBe(type)
  })

  it.each([
    ['timeout', 300],
    ['repos[].branch', 'main'],
    ['repos[].autoPush', false],
    ['llmSettings.model', 'claude-3-7-sonnet-latest'],
    ['llmSettings.temperature', 0.7],
    ['llmSettings.maxTokens', 4000],
    ['activeWorkflow.branch', 'main'],
  ])('3 AgenticSession spec.%s defaults to %j', (path, value) => {
    expect(node(`spec.${path}`)?.default).toEqual(value)
  })

  it('3 AgenticSession spec.inactivityTimeout has minimum 0', () => {
    expect(node('spec.inactivityTimeout')?.minimum).toBe(0)
  })

  it('3 AgenticSession does not declare the first generation spec fields project, botAccount, resourceOverrides', () => {
    for (const field of ['project', 'botAccount', 'resourceOverrides']) expect(node(`spec.${field}`), field).toBeUndefined()
  })

  it('3 the reconcilers compare with exactly the defaults deploy/crd.yaml declares', () => {
    expect(CRD_DEFAULTS).toEqual({
      timeout: node('spec.timeout')?.default,
      repo: {branch: node('spec.repos[].branch')?.default, autoPush: node('spec.repos[].autoPush')?.default},
      llmSettings: {
        model: node('spec.llmSettings.model')?.default,
        temperature: node('spec.llmSettings.temperature')?.default,
        maxTokens: node('spec.llmSettings.maxTokens')?.default,
      },
      activeWorkflow: {branch: node('spec.activeWorkflow.branch')?.default},
    })
  })
})

describe('3 deploy/crd.yaml: status', () => {
  it.each([
    ['observedGeneration', 'integer'],
    ['phase', 'string'],
    ['startTime', 'string'],
    ['completionTime', 'string'],
    ['reconciledRepos', 'array'],
    ['reconciledRepos[].status', 'string'],
    ['reconciledWorkflow', 'object'],
    ['reconciledWorkflow.status', 'string'],
    ['lastActivityTime', 'string'],
    ['stoppedReason', 'string'],
    ['sdkSessionId', 'string'],
    ['sdkRestartCount', 'integer'],
    ['conditions', 'array'],
    ['conditions[].type', 'string'],
    ['conditions[].status', 'string'],
    ['conditions[].reason', 'string'],
    ['conditions[].message', 'string'],
    ['conditions[].lastTransitionTime', 'string'],
    ['conditions[].observedGeneration', 'integer'],
  ])('3 AgenticSession declares status.%s as %s', (path, type) => {
    expect(node(`status.${path}`)?.type).toBe(type)
  })

  it('3 AgenticSession status.phase is an enum of the seven phases, default Pending', () => {
    expect(node('status.phase')?.enum).toEqual(PHASES)
    expect(node('status.phase')?.default).toBe('Pending')
  })

  it('3 AgenticSession status.reconciledRepos[].status is Cloning | Ready | Failed', () => {
    expect(node('status.reconciledRepos[].status')?.enum).toEqual(['Cloning', 'Ready', 'Failed'])
  })

  it('3 AgenticSession status.reconciledWorkflow.status is Cloning | Active | Failed', () => {
    expect(node('status.reconciledWorkflow.status')?.enum).toEqual(['Cloning', 'Active', 'Failed'])
  })

  it('3 AgenticSession status.stoppedReason is user | inactivity', () => {
    expect(node('status.stoppedReason')?.enum).toEqual(['user', 'inactivity'])
  })

  it('AgenticSession status times are date-times, as on the platform CRD', () => {
    for (const path of ['startTime', 'completionTime', 'lastActivityTime', 'conditions[].lastTransitionTime']) {
      expect((node(`status.${path}`) as {format?: string} | undefined)?.format, path).toBe('date-time')
    }
  })
})
