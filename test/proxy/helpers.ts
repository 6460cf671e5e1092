// Shared pieces of the proxy tests: an upstream that stands in for a runner and records what reaches it.
import http, {type IncomingHttpHeaders} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface CaptureServer {
  port: number
  /** Headers of every request that reached it, in order. */
  seen: IncomingHttpHeaders[]
}

/** Answers with `handler`; `closers` gets what stops it (the test's afterEach runs it). */
export async function captureServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  closers: (() => Promise<unknown>)[],
): Promise<CaptureServer> {
  const seen: IncomingHttpHeaders[] = []
  const server = http.createServer((req, res) => {
    seen.push(req.headers)
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(
    () =>
      new Promise((resolve) => {
        server.close(resolve)
        server.closeAllConnections()
      }),
  )
  return {port: (server.address() as AddressInfo).port, seen}
}

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export interface RawRequest {
  host: string
  port: number | string
  /** Sent as is: no normalisation of '..'. */
  path: string
  method?: string
  /** With `host` among them, that Host header is sent instead of the one from host:port. */
  headers?: Record<string, string>
  body?: string
}

/** One request on a fresh connection, the whole answer collected. */
export function rawRequest(options: RawRequest): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const setHost = !Object.keys(options.headers ?? {}).some((name) => name.toLowerCase() === 'host')
    const req = http.request(
      {host: options.host, port: options.port, path: options.path, method: options.method ?? 'GET', headers: options.headers, agent: false, setHost},
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}
