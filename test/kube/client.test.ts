import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {KubeClient} from '../../src/lib/kube/client.js'
import {InstrumentedKubeConfig, loadKubeConfig} from '../../src/lib/kube/config.js'
import {KubeApiError, isAlreadyExists, isConflict, isNotFound} from '../../src/lib/kube/errors.js'
import {parseRequestInfo, permissionKey, withCallScope} from '../../src/lib/kube/requests.js'
import type {AgenticSession} from '../../src/lib/kube/types.js'
import {ConfigError} from '../../src/lib/errors.js'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {waitFor as until} from '../helpers/wait.js'

let kube: FakeKube
let client: KubeClient

beforeAll(async () => {
  kube = await startFakeKube({namespaces: ['default', 'team-a']})
  client = new KubeClient({kubeConfig: loadKubeConfig({kubeconfig: kube.kubeconfigPath, env: {}})})
})

afterAll(async () => {
  client?.close()
  await kube?.close()
})

function cr(name: string, spec: AgenticSession['spec'] = {displayName: name}): AgenticSession {
  return {
    apiVersion: 'vteam.ambient-code/v1alpha1',
    kind: 'AgenticSession',
    metadata: {name, namespace: 'team-a', labels: {'ambient-code.io/managed': 'true'}},
    spec,
  }
}

describe('loadKubeConfig', () => {
  it('names KUBECONFIG when there are no credentials', () => {
    expect(() => loadKubeConfig({env: {}, homeDir: '/nonexistent-home'})).toThrow(ConfigError)
    expect(() => loadKubeConfig({kubeconfig: '/nonexistent/kubeconfig', env: {}})).toThrow(/KUBECONFIG|does not exist/)
  })

  it('reads $KUBECONFIG', () => {
    const kc = loadKubeConfig({env: {KUBECONFIG: kube.kubeconfigPath}, homeDir: '/nonexistent-home'})
    expect(kc.getCurrentCluster()?.server).toBe(kube.url)
  })
})

describe('parseRequestInfo', () => {
  it.each([
    ['GET', '/api/v1/namespaces', 'list namespaces'],
    ['GET', '/api/v1/namespaces/a', 'get namespaces'],
    ['PATCH', '/api/v1/namespaces/a', 'patch namespaces'],
    ['PUT', '/api/v1/namespaces/a/finalize', 'update namespaces/finalize'],
    ['GET', '/api/v1/namespaces?watch=true', 'watch namespaces'],
    ['GET', '/apis/vteam.ambient-code/v1alpha1/agenticsessions?labelSelector=x', 'list agenticsessions.vteam.ambient-code'],
    ['POST', '/apis/vteam.ambient-code/v1alpha1/namespaces/n/agenticsessions', 'create agenticsessions.vteam.ambient-code'],
    ['PATCH', '/apis/vteam.ambient-code/v1alpha1/namespaces/n/agenticsessions/s/status', 'patch agenticsessions.vteam.ambient-code/status'],
    ['DELETE', '/apis/rbac.authorization.k8s.io/v1/namespaces/n/rolebindings/r', 'delete rolebindings.rbac.authorization.k8s.io'],
    ['DELETE', '/apis/rbac.authorization.k8s.io/v1/namespaces/n/rolebindings', 'deletecollection rolebindings.rbac.authorization.k8s.io'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/n/leases/l', 'update leases.coordination.k8s.io'],
  ])('%s %s is %s', (method, path, key) => {
    const info = parseRequestInfo(method, `https://h:6443${path}`)
    expect(info && permissionKey(info)).toBe(key)
  })

  it('strips a server base path and ignores non-resource paths', () => {
    const info = parseRequestInfo('GET', 'https://h/k8s/clusters/c1/api/v1/namespaces/a', '/k8s/clusters/c1')
    expect(info).toMatchObject({verb: 'get', resource: 'namespaces', name: 'a'})
    expect(parseRequestInfo('GET', 'https://h/version')).toBeUndefined()
    expect(parseRequestInfo('GET', 'https://h/apis')).toBeUndefined()
  })
})

describe('AgenticSessions', () => {
  it('creates, reads, merge-patches spec and status, and deletes', async () => {
    const created = await client.agenticSessions.create(cr('s1', {displayName: 'one', timeout: 60}))
    expect(created.metadata.uid).toBeTruthy()
    expect(created.metadata.generation).toBe(1)

    const patched = await client.agenticSessions.patch('team-a', 's1', {spec: {timeout: null, initialPrompt: 'go'}})
    expect(patched.spec).toMatchObject({displayName: 'one', initialPrompt: 'go', timeout: 300})
    expect(patched.metadata.generation).toBe(2)

    const status = await client.agenticSessions.patchStatus('team-a', 's1', {status: {phase: 'Running'}})
    expect(status.status?.phase).toBe('Running')
    expect(status.metadata.generation).toBe(2)
    // A spec write cannot touch status, and /status cannot touch spec.
    await client.agenticSessions.patch('team-a', 's1', {status: {phase: 'Failed'}})
    expect((await client.agenticSessions.get('team-a', 's1')).status?.phase).toBe('Running')

    const listed = await client.agenticSessions.list({labelSelector: 'ambient-code.io/managed=true'})
    expect(listed.items.map((i) => i.metadata.name)).toContain('s1')
    expect(listed.resourceVersion).not.toBe('')

    await client.agenticSessions.delete('team-a', 's1', {uid: created.metadata.uid})
    await expect(client.agenticSessions.get('team-a', 's1')).rejects.toSatisfy(isNotFound)
  })

  it('normalises errors: AlreadyExists, Conflict on a stale replace, NotFound namespace', async () => {
    const created = await client.agenticSessions.create(cr('s2'))
    await expect(client.agenticSessions.create(cr('s2'))).rejects.toSatisfy(isAlreadyExists)
    await client.agenticSessions.patch('team-a', 's2', {spec: {initialPrompt: 'x'}})
    const stale = {...created, spec: {displayName: 'stale'}}
    const err = await client.agenticSessions.replace(stale).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KubeApiError)
    expect(isConflict(err)).toBe(true)
    expect((err as KubeApiError).status).toBe(409)
    await expect(client.agenticSessions.create({...cr('s3'), metadata: {name: 's3', namespace: 'missing'}})).rejects.toSatisfy(isNotFound)
    await expect(client.agenticSessions.delete('team-a', 's2', {uid: 'not-the-uid'})).rejects.toSatisfy(isConflict)
  })

  it('reports injected failures with their status', async () => {
    kube.failNext({verb: 'get', resource: 'agenticsessions', status: 503, retryAfterSeconds: 2})
    const err = await client.agenticSessions.get('team-a', 's2').catch((e: unknown) => e)
    expect(err).toMatchObject({status: 503, reason: 'ServiceUnavailable', retryAfterSeconds: 2})
  })
})

describe('request accounting', () => {
  it('counts every request by verb and resource, also inside a call scope', async () => {
    const before = client.counter.count('create namespaces')
    const {scope} = await withCallScope(async () => {
      await client.namespaces.create({metadata: {name: 'counted', labels: {a: 'b'}}})
      await client.namespaces.patch('counted', {metadata: {labels: {c: 'd'}}})
    })
    expect(scope.kube).toBe(2)
    expect(scope.kubeCalls).toEqual(['create namespaces', 'patch namespaces'])
    expect(client.counter.count('create namespaces')).toBe(before + 1)
    expect((await client.namespaces.get('counted')).metadata.labels).toMatchObject({a: 'b', c: 'd'})
    expect(kube.count({verb: 'patch', resource: 'namespaces', name: 'counted'})).toBe(1)
  })

  it('rate-limits every request', async () => {
    let now = 0
    const waits: number[] = []
    const kc = InstrumentedKubeConfig.from(kube.kubeConfig(), {
      qps: 10,
      burst: 2,
      now: () => now,
      delay: async (ms) => {
        waits.push(ms)
        now += ms
      },
    })
    const limited = new KubeClient({kubeConfig: kc})
    try {
      for (let i = 0; i < 4; i++) await limited.namespaces.get('default')
      // Two from the burst, then one every 100 ms of the (fake) clock.
      expect(waits).toEqual([100, 100])
      expect(limited.counter.count('get namespaces')).toBe(4)
    } finally {
      limited.close()
    }
  })
})

describe('write fence, user agent and per-call signal', () => {
  it('sends its User-Agent on every request, watches included', async () => {
    const kubeConfig = InstrumentedKubeConfig.from(loadKubeConfig({kubeconfig: kube.kubeconfigPath, env: {}}), {userAgent: 'ambient (ua-test)'})
    const own = new KubeClient({kubeConfig})
    try {
      kube.resetCounts()
      await own.namespaces.list()
      await own.agenticSessions.create(cr('ua-1'))
      expect(kube.requests.map((r) => r.userAgent)).toEqual(['ambient (ua-test)', 'ambient (ua-test)'])
    } finally {
      own.close()
    }
  })

  it('asks beforeWrite right before every write, never for a read; a refusal sends nothing', async () => {
    const asked: string[] = []
    let refuse = false
    const kubeConfig = InstrumentedKubeConfig.from(loadKubeConfig({kubeconfig: kube.kubeconfigPath, env: {}}), {
      beforeWrite: (info) => {
        asked.push(permissionKey(info))
        if (refuse) throw new ConfigError('TEST', 'refused by the fence')
      },
    })
    const own = new KubeClient({kubeConfig})
    try {
      await own.agenticSessions.create(cr('fenced-1'))
      await own.agenticSessions.get('team-a', 'fenced-1')
      await own.agenticSessions.patchStatus('team-a', 'fenced-1', {status: {phase: 'Running'}})
      expect(asked).toEqual(['create agenticsessions.vteam.ambient-code', 'patch agenticsessions.vteam.ambient-code/status'])
      refuse = true
      kube.resetCounts()
      // The fence's own error comes back as is (not dressed up as an API error).
      await expect(own.agenticSessions.patch('team-a', 'fenced-1', {spec: {timeout: 5}})).rejects.toThrow(ConfigError)
      await expect(own.agenticSessions.delete('team-a', 'fenced-1')).rejects.toThrow(/refused by the fence/)
      expect(kube.count()).toBe(0)
      // Reads still go out.
      await own.agenticSessions.get('team-a', 'fenced-1')
      expect(kube.count({verb: 'get'})).toBe(1)
    } finally {
      own.close()
    }
  })

  it('a call whose signal aborts is cut off; one already aborted is never sent', async () => {
    kube.resetCounts()
    const gone = new AbortController()
    gone.abort(new Error('leadership lost'))
    await expect(client.agenticSessions.create(cr('never-sent'), {signal: gone.signal})).rejects.toThrow(KubeApiError)
    expect(kube.count()).toBe(0)
    const hold = kube.hold((r) => r.verb === 'create' && r.name === undefined && r.resource === 'namespaces')
    const abort = new AbortController()
    const creating = client.namespaces.create({metadata: {name: 'held-ns'}}, {signal: abort.signal})
    await until(() => hold.held === 1, 'the create to reach the server')
    abort.abort(new Error('leadership lost'))
    await expect(creating).rejects.toThrow(KubeApiError)
    hold.release()
  })
})
