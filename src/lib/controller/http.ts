// The operational listeners of a controller process, as in controller-runtime: Prometheus
// metrics on one address, health probes on another (named checks, `?verbose` lists them).
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import type {Registry} from 'prom-client'
import type {ListenAddress} from '../config/index.js'

export type Check = () => true | string | Promise<true | string>

export interface HttpListener {
  url: string
  address: AddressInfo
  close(): Promise<void>
}

export async function listen(server: http.Server, addr: ListenAddress): Promise<HttpListener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(addr.port, addr.host || undefined, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host === '[::]' || host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

export function startMetricsServer(options: {addr: ListenAddress; registry: Registry}): Promise<HttpListener> {
  const server = http.createServer(async (req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, {'content-type': 'text/plain'}).end('not found\n')
      return
    }
    try {
      const body = await options.registry.metrics()
      res.writeHead(200, {'content-type': options.registry.contentType}).end(body)
    } catch (err) {
      res.writeHead(500, {'content-type': 'text/plain'}).end(`${err}\n`)
    }
  })
  return listen(server, options.addr)
}

/** Runs checks in order; a check returning a string fails with that reason. */
async function runChecks(checks: ReadonlyMap<string, Check>): Promise<{ok: boolean; lines: string[]}> {
  const lines: string[] = []
  let ok = true
  for (const [name, check] of checks) {
    let result: true | string
    try {
      result = await check()
    } catch (err) {
      result = err instanceof Error ? err.message : String(err)
    }
    if (result === true) lines.push(`[+]${name} ok`)
    else {
      ok = false
      lines.push(`[-]${name} failed: ${result}`)
    }
  }
  return {ok, lines}
}

export interface ProbeServerOptions {
  addr: ListenAddress
  /** Liveness: the process is not wedged. */
  healthz: ReadonlyMap<string, Check>
  /** Readiness: caches synced, watches connected. */
  readyz: ReadonlyMap<string, Check>
}

export function startProbeServer(options: ProbeServerOptions): Promise<HttpListener> {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://probe')
    const checks = url.pathname === '/healthz' ? options.healthz : url.pathname === '/readyz' ? options.readyz : undefined
    if (req.method !== 'GET' || !checks) {
      res.writeHead(404, {'content-type': 'text/plain'}).end('not found\n')
      return
    }
    const {ok, lines} = await runChecks(checks)
    const status = ok ? 200 : 500
    const verbose = url.searchParams.has('verbose') || !ok
    const body = verbose ? `${lines.join('\n')}\n${url.pathname.slice(1)} check ${ok ? 'passed' : 'failed'}\n` : 'ok'
    res.writeHead(status, {'content-type': 'text/plain; charset=utf-8'}).end(body)
  })
  return listen(server, options.addr)
}
