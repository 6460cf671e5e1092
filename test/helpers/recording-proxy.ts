// An HTTP proxy in front of one server that records every request it forwards (method, path,
// arrival time): give each client its own proxy and the record says which client sent what.
import {createServer, request, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface ProxiedRequest {
  method: string
  path: string
  /** Arrival at the proxy (ms since the epoch, this process's clock). */
  at: number
}

export interface RecordingProxy {
  url: string
  readonly requests: readonly ProxiedRequest[]
  close(): Promise<void>
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target)
  const requests: ProxiedRequest[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({method: req.method ?? 'GET', path: req.url ?? '/', at: Date.now()})
    const forward = request(
      {host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: {...req.headers, host: upstream.host}},
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
