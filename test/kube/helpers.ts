// Shared test helpers: polling with a deadline (never fixed sleeps) and a TCP proxy that can
// partition one client from the fake API server, the way a network failure would.
import net from 'node:net'
import type {AddressInfo} from 'node:net'
import {KubeConfig} from '@kubernetes/client-node'

export {until} from '../helpers/wait.js'

export type ProxyMode = 'pass' | 'reset' | 'blackhole'

export interface TcpProxy {
  url: string
  setMode(mode: ProxyMode): void
  close(): Promise<void>
}

/** Forwards to `target` (http://127.0.0.1:port); 'reset' refuses, 'blackhole' swallows everything. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const {hostname, port} = new URL(target)
  let mode: ProxyMode = 'pass'
  const pairs = new Set<{client: net.Socket; upstream: net.Socket}>()
  const server = net.createServer((client) => {
    if (mode === 'reset') return void client.destroy()
    if (mode === 'blackhole') {
      client.on('error', () => undefined)
      client.pause()
      return
    }
    const upstream = net.connect(Number(port), hostname)
    const pair = {client, upstream}
    pairs.add(pair)
    const drop = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setMode(next) {
      mode = next
      for (const {client, upstream} of pairs) {
        if (next === 'reset') {
          client.destroy()
          upstream.destroy()
        } else if (next === 'blackhole') {
          client.unpipe(upstream)
          upstream.unpipe(client)
          client.pause()
          upstream.pause()
        }
      }
    },
    async close() {
      for (const {client, upstream} of pairs) {
        client.destroy()
        upstream.destroy()
      }
      server.close()
    },
  }
}

/** The same credentials, pointed at another server URL (e.g. a proxy). */
export function kubeConfigVia(source: KubeConfig, server: string): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: source.getClusters().map((c) => ({...c, server})),
    users: source.getUsers(),
    contexts: source.getContexts(),
    currentContext: source.getCurrentContext(),
  })
  return kc
}
