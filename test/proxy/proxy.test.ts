import {afterEach, describe, expect, it} from 'vitest'
import type http from 'node:http'
import net, {type AddressInfo} from 'node:net'
import path from 'node:path'
import {startAguiProxy, type AguiProxy, type AguiProxyOptions} from '../../src/lib/proxy/index.js'
import {startEchoRunner, type EchoRunner} from '../../src/lib/runner/index.js'
import {RunnerManager} from '../../src/lib/process/index.js'
import {collectEvents, runInput, sseData} from '../runner/sse-client.js'
import {fixtureCommand, makeSession, randomPortRange, tempDir} from '../process/helpers.js'
import {waitFor} from '../helpers/wait.js'
import {captureServer as sharedCaptureServer, rawRequest, type CaptureServer, type Reply} from './helpers.js'

const TOKEN = 'runner-secret-token'
const ORIGIN = 'http://localhost:3000'
const closers: (() => Promise<unknown>)[] = []

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

async function echo(options: Partial<Parameters<typeof startEchoRunner>[0]> = {}): Promise<EchoRunner> {
  const runner = await startEchoRunner({port: 0, token: TOKEN, ...options})
  closers.push(() => runner.close())
  return runner
}

async function proxy(resolve: AguiProxyOptions['resolve'], options: Partial<AguiProxyOptions> = {}): Promise<AguiProxy> {
  const started = await startAguiProxy({port: 0, resolve, ...options})
  closers.push(() => started.close())
  return started
}

async function proxyTo(runner: {port: number}, sessionId = 'sess1'): Promise<AguiProxy> {
  return proxy((id) => (id === sessionId ? {port: runner.port, token: TOKEN} : undefined))
}

function request(url: string, options: {method?: string; headers?: Record<string, string>; body?: string} = {}): Promise<Reply> {
  // Host and port from the URL, the path raw: a URL string would normalise '..' away.
  const {hostname, port} = new URL(url)
  return rawRequest({host: hostname, port, path: url.slice(url.indexOf('/', url.indexOf('//') + 2)), ...options})
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** An upstream that records what it receives and answers with `handler`. */
function captureServer(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<CaptureServer> {
  return sharedCaptureServer(handler, closers)
}

describe('AG-UI proxy', () => {
  it('relays 100k SSE events in order, as an unbuffered event stream', async () => {
    const runner = await echo()
    const front = await proxyTo(runner)
    const res = await fetch(`${front.url}/sessions/sess1/agui/events?count=100000`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    expect(res.headers.get('content-encoding')).toBeNull()
    let expected = 0
    let outOfOrder = 0
    let total = 0
    for await (const data of sseData(res.body!)) {
      total += 1
      const event = JSON.parse(data) as {type: string; delta?: string}
      if (event.type !== 'TEXT_MESSAGE_CONTENT') continue
      if (event.delta !== String(expected)) outOfOrder += 1
      expected += 1
    }
    expect(outOfOrder).toBe(0)
    expect(expected).toBe(100_000)
    expect(total).toBe(100_002)
  })

  it('releases the upstream stream when the client goes away', async () => {
    const runner = await echo()
    const front = await proxyTo(runner)
    // An idle live stream...
    const idle = new AbortController()
    const live = await fetch(`${front.url}/sessions/sess1/agui/events`, {signal: idle.signal})
    expect(live.status).toBe(200)
    await waitFor(() => runner.openEventStreams() === 1, 'upstream stream to open')
    idle.abort()
    await waitFor(() => runner.openEventStreams() === 0, 'upstream stream to close after idle client left')

    // ...and a stream in full flow, held back by a client that stopped reading.
    const busy = new AbortController()
    const flowing = await fetch(`${front.url}/sessions/sess1/agui/events?count=1000000000`, {signal: busy.signal})
    const reader = flowing.body!.getReader()
    await reader.read()
    await waitFor(() => runner.openEventStreams() === 1, 'flowing upstream stream')
    busy.abort()
    await waitFor(() => runner.openEventStreams() === 0, 'upstream stream to close after busy client left')
  })

  it('forwards runs, interrupts and status routes, adding the token and stripping the client one', async () => {
    const runner = await echo()
    const front = await proxyTo(runner)
    // A client-supplied token is replaced, not passed: the right one reaches the runner.
    const run = await fetch(`${front.url}/sessions/sess1/agui/run`, {
      method: 'POST',
      headers: {'content-type': 'application/json', 'x-ambient-session-token': 'forged'},
      body: JSON.stringify(runInput('through the proxy')),
    })
    expect(run.status).toBe(200)
    const events = await collectEvents(run.body!)
    expect(events.map((e) => e.type)).toContain('RUN_FINISHED')
    expect(
      events
        .filter((e) => e.type === 'TEXT_MESSAGE_CONTENT')
        .map((e) => e.delta)
        .join(''),
    ).toBe('through the proxy')

    expect(await (await fetch(`${front.url}/sessions/sess1/health`)).json()).toEqual({status: 'healthy'})
    expect(await (await fetch(`${front.url}/sessions/sess1/mcp/status`)).json()).toEqual({servers: []})
    expect(await (await fetch(`${front.url}/sessions/sess1/repos/status`)).json()).toEqual({repos: []})
    const interrupt = await fetch(`${front.url}/sessions/sess1/agui/interrupt`, {method: 'POST'})
    expect(await interrupt.json()).toEqual({status: 'interrupted', runs: 0})
    // The runner itself refuses the forged token.
    expect((await fetch(`${runner.url}/health`, {headers: {'x-ambient-session-token': 'forged'}})).status).toBe(401)
  })

  it('sends the runner token and strips hop-by-hop headers', async () => {
    const upstream = await captureServer((_req, res) => {
      res.writeHead(200, {'content-type': 'application/json', connection: 'keep-alive, x-upstream-hop', 'x-upstream-hop': 'no', 'x-kept': 'yes'})
      res.end('{}')
    })
    const front = await proxy(() => ({port: upstream.port, token: 'the-token'}))
    const reply = await request(`${front.url}/sessions/abc/health?x=1`, {
      headers: {'x-ambient-session-token': 'client', connection: 'x-client-hop', 'x-client-hop': '1', te: 'trailers', 'x-end-to-end': 'kept'},
    })
    expect(reply.status).toBe(200)
    expect(reply.headers['x-kept']).toBe('yes')
    expect(reply.headers['x-upstream-hop']).toBeUndefined()
    const seen = upstream.seen[0]
    expect(seen['x-ambient-session-token']).toBe('the-token')
    expect(seen.host).toBe(`127.0.0.1:${upstream.port}`)
    expect(seen['x-client-hop']).toBeUndefined()
    expect(seen.te).toBeUndefined()
    expect(seen['x-end-to-end']).toBe('kept')
  })

  it('answers CORS for the configured origin only, and OPTIONS with 204', async () => {
    const runner = await echo()
    const front = await proxyTo(runner)
    const allowed = await request(`${front.url}/sessions/sess1/health`, {headers: {origin: ORIGIN}})
    expect(allowed.status).toBe(200)
    expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN)
    expect(allowed.headers['access-control-allow-methods']).toBe('GET, POST, OPTIONS')
    expect(allowed.headers.vary).toMatch(/Origin/)

    const foreign = await request(`${front.url}/sessions/sess1/health`, {headers: {origin: 'http://evil.example'}})
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined()

    const preflight = await request(`${front.url}/sessions/sess1/agui/run`, {
      method: 'OPTIONS',
      headers: {origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type'},
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe(ORIGIN)
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Content-Type/i)
    const foreignPreflight = await request(`${front.url}/sessions/sess1/agui/run`, {method: 'OPTIONS', headers: {origin: 'http://evil.example'}})
    expect(foreignPreflight.status).toBe(204)
    expect(foreignPreflight.headers['access-control-allow-origin']).toBeUndefined()

    // Errors carry CORS too, so the UI can read them; and never a wildcard.
    const missing = await request(`${front.url}/sessions/nobody/health`, {headers: {origin: ORIGIN}})
    expect(missing.headers['access-control-allow-origin']).toBe(ORIGIN)

    const custom = await proxy(() => undefined, {corsOrigin: 'https://ui.example'})
    const customReply = await request(`${custom.url}/health`, {headers: {origin: 'https://ui.example'}})
    expect(customReply.headers['access-control-allow-origin']).toBe('https://ui.example')
    expect((await request(`${custom.url}/health`, {headers: {origin: ORIGIN}})).headers['access-control-allow-origin']).toBeUndefined()
  })

  it('answers 404, 400, 405 and its own /health without touching a runner', async () => {
    const front = await proxy(() => undefined)
    const health = await request(`${front.url}/health`)
    expect(health.status).toBe(200)
    expect(JSON.parse(health.body)).toEqual({status: 'healthy'})
    const unknown = await request(`${front.url}/sessions/ghost/agui/events`)
    expect(unknown.status).toBe(404)
    expect(JSON.parse(unknown.body)).toEqual({error: expect.stringContaining('ghost')})
    for (const outside of ['/', '/sessions', '/sessions/abc', '/sessions/abc/agui', '/sessions/abc/agui/other', '/other']) {
      const reply = await request(`${front.url}${outside}`)
      expect(reply.status, outside).toBe(404)
      expect(JSON.parse(reply.body), outside).toEqual({error: expect.any(String)})
    }
    for (const bad of ['..', '.hidden', '%2e%2e', 'a%2Fb']) {
      const reply = await request(`${front.url}/sessions/${bad}/health`)
      expect(reply.status, bad).toBe(400)
    }
    expect((await request(`${front.url}/sessions/abc/health`, {method: 'DELETE'})).status).toBe(405)
    expect((await request(`${front.url}/sessions/abc/agui/events`, {method: 'POST'})).status).toBe(405)
  })

  it('answers 502 when the runner is unreachable, and ends the client stream when the runner dies mid-stream', async () => {
    const dead = await closedPort()
    const front = await proxy(() => ({port: dead, token: TOKEN}))
    const reply = await request(`${front.url}/sessions/s/agui/events`)
    expect(reply.status).toBe(502)
    expect(JSON.parse(reply.body)).toEqual({error: expect.stringMatching(/runner unreachable/)})

    const dying = await captureServer((_req, res) => {
      res.writeHead(200, {'content-type': 'text/event-stream'})
      res.write('data: {"type":"RUN_STARTED","threadId":"t","runId":"r"}\n\n')
      setImmediate(() => res.destroy())
    })
    const front2 = await proxy(() => ({port: dying.port, token: TOKEN}))
    const res = await fetch(`${front2.url}/sessions/s/agui/events`)
    expect(res.status).toBe(200)
    await expect(collectEvents(res.body!)).rejects.toThrow()
  })

  it('streams request bodies to the runner', async () => {
    let received = 0
    const upstream = await captureServer((req, res) => {
      req.on('data', (chunk: Buffer) => (received += chunk.length))
      req.on('end', () => res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({received})))
    })
    const front = await proxy(() => ({port: upstream.port, token: TOKEN}))
    const body = 'x'.repeat(5 * 1024 * 1024)
    const reply = await request(`${front.url}/sessions/s/agui/run`, {method: 'POST', headers: {'content-type': 'text/plain'}, body})
    expect(JSON.parse(reply.body)).toEqual({received: body.length})
  })

  it('routes to runners of a RunnerManager', async () => {
    const root = await tempDir('proxy-manager')
    closers.push(root.cleanup)
    const manager = new RunnerManager({
      workspaceRoot: path.join(root.dir, 'ws'),
      command: fixtureCommand('serve'),
      portRange: randomPortRange(),
      hostEnv: {PATH: process.env.PATH},
    })
    closers.push(() => manager.stopAll({graceMs: 1000}))
    const session = makeSession()
    const info = await manager.spawn(session)
    await manager.waitHealthy(info)
    const front = await proxy((id) => manager.resolve(id))
    // The fixture demands the token; the proxy supplies it.
    const reply = await request(`${front.url}/sessions/${session.id}/health`)
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body)).toEqual({status: 'healthy'})
    await manager.stop(session.id)
    expect((await request(`${front.url}/sessions/${session.id}/health`)).status).toBe(404)
  })
})
