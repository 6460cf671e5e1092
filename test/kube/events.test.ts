import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {KubeClient} from '../../src/lib/kube/client.js'
import {EventRecorder, type EventInput} from '../../src/lib/kube/events.js'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'

let kube: FakeKube
let client: KubeClient

beforeAll(async () => {
  kube = await startFakeKube({namespaces: ['default', 'team-a', 'ambient-code']})
  client = new KubeClient({kubeConfig: kube.kubeConfig()})
})

afterAll(async () => {
  client?.close()
  await kube?.close()
})

const failure = (name: string, namespace = 'team-a', note = 'repos: not valid JSON'): EventInput => ({
  regarding: {apiVersion: 'vteam.ambient-code/v1alpha1', kind: 'AgenticSession', name, namespace, uid: `uid-${name}`},
  type: 'Warning',
  reason: 'InvalidSpec',
  action: 'Reconcile',
  note,
})

function eventsFor(name: string) {
  return kube.list('events.events.k8s.io', 'team-a').filter((e) => (e.regarding as {name?: string} | undefined)?.name === name)
}

describe('EventRecorder', () => {
  it('creates one Event, then aggregates repeats into its series', async () => {
    let now = Date.parse('2026-05-01T10:00:00Z')
    const recorder = new EventRecorder({events: client.events, instance: 'pod-1', now: () => now})
    recorder.record(failure('s1'))
    await recorder.drain()
    const [created] = eventsFor('s1')
    expect(created).toMatchObject({
      reason: 'InvalidSpec',
      action: 'Reconcile',
      type: 'Warning',
      note: 'repos: not valid JSON',
      reportingController: 'ambient-code.io/control-plane',
      reportingInstance: 'pod-1',
      regarding: {kind: 'AgenticSession', name: 's1', namespace: 'team-a'},
    })
    // MicroTime: six fraction digits, as the API server parses it.
    expect(created.eventTime).toBe('2026-05-01T10:00:00.000000Z')

    now += 1000
    recorder.record(failure('s1'))
    await recorder.drain()
    expect(eventsFor('s1')).toHaveLength(1)
    expect(eventsFor('s1')[0].series).toMatchObject({count: 2, lastObservedTime: '2026-05-01T10:00:01.000000Z'})

    for (let i = 0; i < 5; i++) {
      now += 1000
      recorder.record(failure('s1'))
    }
    await recorder.drain()
    expect((eventsFor('s1')[0].series as {count: number}).count).toBe(2)
    recorder.flushSeries()
    await recorder.drain()
    expect((eventsFor('s1')[0].series as {count: number}).count).toBe(7)
    expect(recorder.stats).toMatchObject({created: 1, patched: 2, failed: 0, recorded: 7})

    // A different note is a different Event; after the series window a repeat starts anew.
    recorder.record(failure('s1', 'team-a', 'labels: bad key'))
    now += 7 * 60_000
    recorder.record(failure('s1'))
    await recorder.drain()
    expect(eventsFor('s1')).toHaveLength(3)
  })

  it('never throws when the API server refuses, and tries again next time', async () => {
    const recorder = new EventRecorder({events: client.events, instance: 'pod-1'})
    recorder.record(failure('s2', 'no-such-namespace'))
    await recorder.drain()
    expect(recorder.stats.failed).toBe(1)
    kube.failNext({verb: 'create', resource: 'events', status: 500})
    recorder.record(failure('s3'))
    await recorder.drain()
    recorder.record(failure('s3'))
    await recorder.drain()
    expect(eventsFor('s3')).toHaveLength(1)
    expect(recorder.stats.failed).toBe(2)
  })

  it('flushes pending counts when it stops', async () => {
    const recorder = new EventRecorder({events: client.events, instance: 'pod-1', flushIntervalMs: 3_600_000})
    const controller = new AbortController()
    const running = recorder.start(controller.signal)
    for (let i = 0; i < 4; i++) recorder.record(failure('s4'))
    controller.abort()
    await running
    expect((eventsFor('s4')[0].series as {count: number}).count).toBe(4)
  })
})
