// Issue 10, case 7: the AG-UI proxy adds each runner's token for whoever calls it, so it must
// only answer requests meant for it. A web page can reach 127.0.0.1 by DNS rebinding (its own
// name resolving to 127.0.0.1 sends `Host: evil.example`), and any page can make the browser
// send a cross-site POST. So: only loopback Host headers (with the proxy's port) and names
// configured in LOCAL_PROXY_ALLOWED_HOSTS; and on the routes that act (run, interrupt, any
// POST) a browser request from another site needs the allowed Origin. Refusals are 421
// (wrong Host) and 403 (cross-site), with the proxy's `{"error": ...}` body, and never reach
// the runner.
import {afterEach, describe, expect, it} from 'vitest'
import net from 'node:net'
import {startAguiProxy, type AguiProxy, type AguiProxyOptions} from '../../src/lib/proxy/index.js'
import {emptySettingsStore, loadConfig} from '../../src/lib/config/index.js'
import {captureServer, rawRequest, type CaptureServer, type Reply} from '../proxy/helpers.js'

const ORIGIN = 'http://localhost:3000'
const closers: (() => Promise<unknown>)[] = []

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

async function upstream(): Promise<CaptureServer> {
  return captureServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200, {'content-type': 'application/json'}).end('{"ok":true}'))
  }, closers)
}

async function guarded(options: Partial<AguiProxyOptions> = {}): Promise<{proxy: AguiProxy; runner: CaptureServer}> {
  const runner = await upstream()
  const proxy = await startAguiProxy({port: 0, resolve: (id) => (id === 's1' ? {port: runner.port, token: 'runner-token'} : undefined), ...options})
  closers.push(() => proxy.close())
  return {proxy, runner}
}

/** A request to the proxy with exactly these headers (Host included). */
function send(proxy: AguiProxy, path: string, options: {method?: string; headers?: Record<string, string>; body?: string} = {}): Promise<Reply> {
  return rawRequest({host: '127.0.0.1', port: proxy.port, path, ...options})
}

function errorOf(reply: Reply): string {
  const body = JSON.parse(reply.body) as {error?: unknown}
  expect(Object.keys(body)).toEqual(['error'])
  expect(typeof body.error).toBe('string')
  return body.error as string
}

describe('the AG-UI proxy answers only requests meant for it', () => {
  it('refuses a Host that is not loopback with the proxy port: 421, the runner never asked', async () => {
    const {proxy, runner} = await guarded()
    const port = proxy.port
    for (const host of [
      'evil.example',
      `evil.example:${port}`,
      `localhost:${port + 1}`,
      'localhost',
      `127.0.0.2:${port}`,
      `localhost.:${port}`,
      `127.0.0.1.nip.io:${port}`,
    ]) {
      for (const [method, path] of [
        ['GET', '/sessions/s1/agui/events'],
        ['POST', '/sessions/s1/agui/run'],
        ['GET', '/sessions/s1/health'],
        ['GET', '/health'],
        ['OPTIONS', '/sessions/s1/agui/run'],
      ] as const) {
        const reply = await send(proxy, path, {method, headers: {host}})
        expect(reply.status, `${method} ${path} with Host ${host}`).toBe(421)
        expect(errorOf(reply)).toContain('Host')
      }
    }
    expect(runner.seen).toEqual([])
  })

  it('answers loopback names with its own port, in any letter case', async () => {
    const {proxy, runner} = await guarded()
    for (const host of [`localhost:${proxy.port}`, `127.0.0.1:${proxy.port}`, `[::1]:${proxy.port}`, `LocalHost:${proxy.port}`]) {
      expect((await send(proxy, '/sessions/s1/health', {headers: {host}})).status, host).toBe(200)
    }
    expect(runner.seen).toHaveLength(4)
  })

  it('refuses a request without any Host (HTTP/1.0)', async () => {
    const {proxy, runner} = await guarded()
    const socket = net.connect(proxy.port, '127.0.0.1')
    socket.end('GET /sessions/s1/health HTTP/1.0\r\n\r\n')
    const raw = await new Promise<string>((resolve) => {
      let text = ''
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()))
      socket.on('close', () => resolve(text))
    })
    expect(raw).toMatch(/^HTTP\/1\.1 421 /)
    expect(runner.seen).toEqual([])
  })

  it('answers the names configured for it (LOCAL_PROXY_ALLOWED_HOSTS), with their port or its own', async () => {
    const {proxy, runner} = await guarded({allowedHosts: ['agents.internal', 'box.lan:8443']})
    expect((await send(proxy, '/sessions/s1/health', {headers: {host: `agents.internal:${proxy.port}`}})).status).toBe(200)
    expect((await send(proxy, '/sessions/s1/health', {headers: {host: `AGENTS.internal:${proxy.port}`}})).status).toBe(200)
    expect((await send(proxy, '/sessions/s1/health', {headers: {host: 'box.lan:8443'}})).status).toBe(200)
    expect((await send(proxy, '/sessions/s1/health', {headers: {host: `box.lan:${proxy.port}`}})).status).toBe(421)
    expect((await send(proxy, '/sessions/s1/health', {headers: {host: `other.internal:${proxy.port}`}})).status).toBe(421)
    expect(runner.seen).toHaveLength(3)
  })

  it('refuses cross-site browser requests on the routes that act, unless they come from the allowed origin', async () => {
    const {proxy, runner} = await guarded()
    const host = `localhost:${proxy.port}`
    const json = {'content-type': 'application/json'}
    const refused: [string, string, Record<string, string>][] = [
      ['POST', '/sessions/s1/agui/run', {origin: 'http://evil.example', ...json}],
      ['POST', '/sessions/s1/agui/run', {'sec-fetch-site': 'cross-site'}],
      ['POST', '/sessions/s1/agui/run', {origin: 'null', ...json}],
      // Another port of localhost is the same site, not the allowed origin (another local dev server).
      ['POST', '/sessions/s1/agui/run', {origin: 'http://localhost:5173', 'sec-fetch-site': 'same-site', ...json}],
      ['POST', '/sessions/s1/agui/interrupt', {origin: 'http://evil.example'}],
      // <img src> / <a href> to a route that acts: no Origin, but the browser says cross-site.
      ['GET', '/sessions/s1/agui/run', {'sec-fetch-site': 'cross-site'}],
      ['GET', '/sessions/s1/agui/interrupt', {'sec-fetch-site': 'same-site'}],
      ['GET', '/sessions/s1/agui/run', {origin: 'https://evil.example'}],
    ]
    for (const [method, path, headers] of refused) {
      const reply = await send(proxy, path, {method, headers: {host, ...headers}, body: method === 'POST' ? '{}' : undefined})
      expect(reply.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(403)
      expect(errorOf(reply)).toMatch(/origin|cross-site/i)
    }
    expect(runner.seen).toEqual([])

    const allowed: [string, string, Record<string, string>][] = [
      ['POST', '/sessions/s1/agui/run', {origin: ORIGIN, 'sec-fetch-site': 'same-site', ...json}],
      ['POST', '/sessions/s1/agui/interrupt', {origin: ORIGIN, 'sec-fetch-site': 'cross-site'}],
      // Not a browser (curl, the CLI, the UI's own server): no Origin, no Sec-Fetch-Site.
      ['POST', '/sessions/s1/agui/run', json],
      ['POST', '/sessions/s1/agui/run', {'sec-fetch-site': 'same-origin', origin: `http://${host}`}],
      // Typed into the address bar.
      ['GET', '/sessions/s1/agui/run', {'sec-fetch-site': 'none'}],
      // Reading is not acting: CORS decides whether the page may see the answer.
      ['GET', '/sessions/s1/agui/events', {origin: 'http://evil.example', 'sec-fetch-site': 'cross-site'}],
      ['GET', '/sessions/s1/health', {'sec-fetch-site': 'cross-site'}],
    ]
    for (const [method, path, headers] of allowed) {
      const reply = await send(proxy, path, {method, headers: {host, ...headers}, body: method === 'POST' ? '{}' : undefined})
      expect(reply.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(200)
    }
    expect(runner.seen).toHaveLength(allowed.length)
    const crossRead = await send(proxy, '/sessions/s1/agui/events', {headers: {host, origin: 'http://evil.example'}})
    expect(crossRead.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('keeps CORS preflights working for the allowed origin: OPTIONS 204', async () => {
    const {proxy, runner} = await guarded()
    const reply = await send(proxy, '/sessions/s1/agui/run', {
      method: 'OPTIONS',
      headers: {host: `127.0.0.1:${proxy.port}`, origin: ORIGIN, 'access-control-request-method': 'POST', 'sec-fetch-site': 'same-site'},
    })
    expect(reply.status).toBe(204)
    expect(reply.headers['access-control-allow-origin']).toBe(ORIGIN)
    expect(runner.seen).toEqual([])
  })
})

describe('LOCAL_PROXY_ALLOWED_HOSTS', () => {
  const load = (value: string) => loadConfig({env: {LOCAL_PROXY_ALLOWED_HOSTS: value}, store: emptySettingsStore()}).config.LOCAL_PROXY_ALLOWED_HOSTS

  it('is a comma-separated list of host names or addresses, each with an optional port; empty by default', () => {
    expect(loadConfig({env: {}, store: emptySettingsStore()}).config.LOCAL_PROXY_ALLOWED_HOSTS).toEqual([])
    expect(load(' agents.internal , box.lan:8443,10.0.0.5,[fd00::1]:9080 ')).toEqual([
      'agents.internal',
      'box.lan:8443',
      '10.0.0.5',
      '[fd00::1]:9080',
    ])
    expect(load('')).toEqual([])
  })

  it.each(['*.example', 'evil/x', 'a..b', 'host:99999', 'host:', 'http://host', 'fd00::1', 'a b', '-lead.example'])(
    'refuses %j, naming the variable',
    (value) => {
      expect(() => load(value)).toThrow(/LOCAL_PROXY_ALLOWED_HOSTS/)
    },
  )
})
