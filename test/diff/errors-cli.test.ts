// `ambient diff` cannot compare: exit 2 (1 means drift), with a message naming what failed.
import fs from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {assertBuilt, runCli, tempConfigDir} from '../commands/helpers.js'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {closedPort} from './helpers.js'

const TOKEN = 'diff-errors-token'
let api: ApiServer
let kube: FakeKube
let dir: string
let deadKubeconfig: string
let deadKubeUrl: string

/** oclif wraps long messages over several ` ›   ` lines: compare without the wrapping. */
function unwrapped(text: string): string {
  return text.replace(/\s*›\s*/g, ' ').replace(/\s+/g, ' ')
}

beforeAll(async () => {
  assertBuilt(['diff'])
  api = await startApiServer({port: 0, grpcPort: 0, token: TOKEN})
  kube = await startFakeKube()
  dir = tempConfigDir()
  deadKubeUrl = `http://127.0.0.1:${await closedPort()}`
  const kubeconfig = JSON.parse(fs.readFileSync(kube.kubeconfigPath, 'utf8')) as {clusters: {cluster: {server: string}}[]}
  kubeconfig.clusters[0].cluster.server = deadKubeUrl
  deadKubeconfig = path.join(dir, 'dead-kubeconfig')
  fs.writeFileSync(deadKubeconfig, JSON.stringify(kubeconfig))
})

afterAll(async () => {
  await kube?.close()
  await api?.close()
  if (dir) fs.rmSync(dir, {recursive: true, force: true})
})

const base = () => ({AMBIENT_CONFIG_DIR: dir, AMBIENT_STATE_DIR: dir, AMBIENT_API_TOKEN: TOKEN})

describe('ambient diff errors', () => {
  it('exits 2 naming the API server when it is unreachable', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`
    for (const args of [['diff'], ['diff', '--json'], ['diff', '--mode', 'local']]) {
      const result = await runCli(args, {...base(), AMBIENT_API_SERVER_URL: url, KUBECONFIG: kube.kubeconfigPath})
      expect(result.code, result.stderr).toBe(2)
      expect(result.stdout).toBe('')
      const message = unwrapped(result.stderr)
      expect(message).toContain('cannot read the desired state: Ambient API server unreachable:')
      expect(message).toContain(url)
    }
  })

  it('exits 2 naming the cluster when Kubernetes is unreachable', async () => {
    const result = await runCli(['diff'], {...base(), AMBIENT_API_SERVER_URL: api.url, KUBECONFIG: deadKubeconfig})
    expect(result.code, result.stderr).toBe(2)
    expect(result.stdout).toBe('')
    const message = unwrapped(result.stderr)
    expect(message).toContain(`cannot read the live state: Kubernetes API server unreachable: ${deadKubeUrl}`)
  })

  it('exits 2 when the cluster refuses the list, or the token is refused', async () => {
    kube.failNext({verb: 'list', resource: 'rolebindings', status: 403, times: 1})
    const forbidden = await runCli(['diff', '--json'], {...base(), AMBIENT_API_SERVER_URL: api.url, KUBECONFIG: kube.kubeconfigPath})
    expect(forbidden.code, forbidden.stderr).toBe(2)
    expect(unwrapped(forbidden.stderr)).toContain(`cannot read the live state from the Kubernetes API server ${kube.url}`)
    const badToken = await runCli(['diff'], {...base(), AMBIENT_API_TOKEN: 'wrong', AMBIENT_API_SERVER_URL: api.url, KUBECONFIG: kube.kubeconfigPath})
    expect(badToken.code).toBe(2)
    expect(unwrapped(badToken.stderr)).toContain('HTTP 401')
  })

  it('exits 2 on invalid configuration: no kubeconfig, no token, MODE test', async () => {
    const noKube = await runCli(['diff'], {...base(), AMBIENT_API_SERVER_URL: api.url, KUBECONFIG: path.join(dir, 'missing')})
    expect(noKube.code).toBe(2)
    expect(unwrapped(noKube.stderr)).toContain('does not exist')
    const noToken = await runCli(['diff'], {AMBIENT_CONFIG_DIR: dir, AMBIENT_API_SERVER_URL: api.url, KUBECONFIG: kube.kubeconfigPath})
    expect(noToken.code).toBe(2)
    const testMode = await runCli(['diff'], {...base(), MODE: 'test', AMBIENT_API_SERVER_URL: api.url})
    expect(testMode.code).toBe(2)
    expect(unwrapped(testMode.stderr)).toContain('--mode kube or --mode local')
  })
})
