import {afterEach, describe, expect, it} from 'vitest'
import {EventEmitter} from 'node:events'
import {EventSchemas} from '@ag-ui/core/schemas'
import {runEchoMain, startEchoRunner, type EchoRunner} from '../../src/lib/runner/index.js'
import {ConfigError} from '../../src/lib/errors.js'
import {collectEvents, runInput, sseData, type AguiEventLike} from './sse-client.js'
import {waitFor} from '../helpers/wait.js'

const TOKEN = 'test-token-0123456789'
const auth = {'x-ambient-session-token': TOKEN}
const runners: EchoRunner[] = []

afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.close()))
})

async function start(options: Partial<Parameters<typeof startEchoRunner>[0]> = {}): Promise<EchoRunner> {
  const runner = await startEchoRunner({port: 0, token: TOKEN, ...options})
  runners.push(runner)
  return runner
}

function post(runner: EchoRunner, path: string, body: unknown, headers: Record<string, string> = auth): Promise<Response> {
  return fetch(`${runner.url}${path}`, {method: 'POST', headers: {...headers, 'content-type': 'application/json'}, body: JSON.stringify(body)})
}

describe('echo runner', () => {
  it('answers /health and enforces the session token on every route', async () => {
    const runner = await start()
    const health = await fetch(`${runner.url}/health`, {headers: auth})
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({status: 'healthy'})
    for (const [method, path] of [
      ['GET', '/health'],
      ['GET', '/'],
      ['POST', '/'],
      ['POST', '/interrupt'],
      ['GET', '/mcp/status'],
      ['GET', '/nope'],
    ]) {
      const none = await fetch(`${runner.url}${path}`, {method})
      expect(none.status, `${method} ${path}`).toBe(401)
      const wrong = await fetch(`${runner.url}${path}`, {method, headers: {'x-ambient-session-token': 'wrong'}})
      expect(wrong.status, `${method} ${path}`).toBe(401)
    }
    expect(await (await fetch(`${runner.url}/mcp/status`, {headers: auth})).json()).toEqual({servers: []})
    expect(await (await fetch(`${runner.url}/repos/status`, {headers: auth})).json()).toEqual({repos: []})
    expect((await fetch(`${runner.url}/nope`, {headers: auth})).status).toBe(404)

    const open = await start({token: undefined})
    expect((await fetch(`${open.url}/health`)).status).toBe(200)
  })

  it('streams a run as valid AG-UI events echoing the last user message', async () => {
    const runner = await start()
    const text = 'Hello, echo! ünïcödé 🙂 and a longer tail to get several chunks'
    const input = runInput(text)
    const res = await post(runner, '/', input)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
    const events = await collectEvents(res.body!)
    for (const event of events) expect(EventSchemas.safeParse(event).success, JSON.stringify(event)).toBe(true)
    const types = events.map((e) => e.type)
    expect(types[0]).toBe('RUN_STARTED')
    expect(types[1]).toBe('TEXT_MESSAGE_START')
    expect(types.slice(2, -2).every((t) => t === 'TEXT_MESSAGE_CONTENT')).toBe(true)
    expect(types.slice(2, -2).length).toBeGreaterThan(3)
    expect(types.slice(-2)).toEqual(['TEXT_MESSAGE_END', 'RUN_FINISHED'])
    expect(events[0]).toMatchObject({threadId: 'thread-1', runId: input.runId})
    expect(events.at(-1)).toMatchObject({threadId: 'thread-1', runId: input.runId, outcome: {type: 'success'}})
    const messageId = events[1].messageId
    expect(events.slice(1, -1).every((e) => e.messageId === messageId)).toBe(true)
    expect(
      events
        .filter((e) => e.type === 'TEXT_MESSAGE_CONTENT')
        .map((e) => e.delta)
        .join(''),
    ).toBe(text)
  })

  it('echoes the configured prompt when there is no user message, and rejects bad bodies', async () => {
    const runner = await start({prompt: 'initial prompt'})
    const events = await collectEvents((await post(runner, '/', {threadId: 't', runId: 'r', messages: [], tools: [], context: []})).body!)
    expect(
      events
        .filter((e) => e.type === 'TEXT_MESSAGE_CONTENT')
        .map((e) => e.delta)
        .join(''),
    ).toBe('initial prompt')
    const notJson = await fetch(`${runner.url}/`, {method: 'POST', headers: auth, body: '{nope'})
    expect(notJson.status).toBe(400)
    expect(await notJson.json()).toEqual({error: expect.any(String)})
    expect((await post(runner, '/', {messages: 'x'})).status).toBe(400)
  })

  it('GET / streams the events of runs as they happen', async () => {
    const runner = await start()
    const controller = new AbortController()
    const stream = await fetch(`${runner.url}/`, {headers: auth, signal: controller.signal})
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/)
    await waitFor(() => runner.openEventStreams() === 1, 'subscriber')
    const received: AguiEventLike[] = []
    const reading = (async () => {
      for await (const data of sseData(stream.body!)) {
        const event = JSON.parse(data) as AguiEventLike
        received.push(event)
        if (event.type === 'RUN_FINISHED') return
      }
    })()
    const direct = await collectEvents((await post(runner, '/', runInput('watch me'))).body!)
    await reading
    expect(received).toEqual(direct)
    controller.abort()
    await waitFor(() => runner.openEventStreams() === 0, 'subscriber to leave')
  })

  it('GET /?count=N sends N content events in order and ends', async () => {
    const runner = await start()
    const res = await fetch(`${runner.url}/?count=5000`, {headers: auth})
    const events = await collectEvents(res.body!)
    expect(events).toHaveLength(5002)
    expect(events[0].type).toBe('TEXT_MESSAGE_START')
    expect(events.at(-1)?.type).toBe('TEXT_MESSAGE_END')
    const deltas = events.slice(1, -1).map((e) => e.delta)
    expect(deltas).toEqual(Array.from({length: 5000}, (_, i) => String(i)))
    expect((await fetch(`${runner.url}/?count=-1`, {headers: auth})).status).toBe(400)
  })

  it('POST /interrupt cancels runs in progress', async () => {
    const runner = await start({chunkDelayMs: 20, chunkSize: 1})
    const res = await post(runner, '/', runInput('x'.repeat(2000)))
    const events: AguiEventLike[] = []
    for await (const data of sseData(res.body!)) {
      const event = JSON.parse(data) as AguiEventLike
      events.push(event)
      if (event.type === 'TEXT_MESSAGE_CONTENT' && events.length === 4) {
        const interrupt = await post(runner, '/interrupt', {})
        expect(await interrupt.json()).toEqual({status: 'interrupted', runs: 1})
      }
    }
    expect(events.at(-1)).toMatchObject({type: 'RUN_FINISHED', outcome: {type: 'cancelled'}})
    expect(events.at(-2)).toMatchObject({type: 'TEXT_MESSAGE_END'})
    expect(events.filter((e) => e.type === 'TEXT_MESSAGE_CONTENT').length).toBeLessThan(2000)
  })
})

describe('runEchoMain', () => {
  it('serves on AGUI_PORT with AGUI_TOKEN until SIGTERM, then resolves 0', async () => {
    const signals = new EventEmitter()
    let url = ''
    const done = runEchoMain({env: {AGUI_PORT: '0', AGUI_TOKEN: TOKEN}, signals, onListening: (u) => (url = u)})
    await waitFor(() => url !== '', 'listening')
    expect((await fetch(`${url}/health`)).status).toBe(401)
    expect((await fetch(`${url}/health`, {headers: auth})).status).toBe(200)
    signals.emit('SIGTERM')
    expect(await done).toBe(0)
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0)
    await expect(fetch(`${url}/health`, {headers: auth})).rejects.toThrow()
  })

  it('names AGUI_PORT when it is invalid', async () => {
    await expect(runEchoMain({env: {AGUI_PORT: 'abc'}, signals: new EventEmitter()})).rejects.toBeInstanceOf(ConfigError)
    await expect(runEchoMain({env: {}, signals: new EventEmitter()})).rejects.toThrow(/AGUI_PORT/)
  })
})
