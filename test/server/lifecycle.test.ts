import {describe, expect, it} from 'vitest'
import {status} from '@grpc/grpc-js'
import type {SessionWatchEvent} from '../../src/gen/ambient/v1/sessions.js'
import {afterSubscribers, api, authMetadata, Collector, grpcClients, startTestServer, waitFor} from './helpers.js'

function ports(url: string, grpcAddress: string): {port: number; grpcPort: number} {
  return {port: Number(new URL(url).port), grpcPort: Number(grpcAddress.split(':').at(-1))}
}

describe('server lifecycle', () => {
  it('frees both ports on close, so a new server can take them', async () => {
    const first = await startTestServer()
    const p = ports(first.url, first.grpcAddress)
    await first.close()
    await first.close() // idempotent
    const second = await startTestServer(p)
    try {
      expect(ports(second.url, second.grpcAddress)).toEqual(p)
      expect((await api(second, 'GET', '/sessions')).status).toBe(200)
    } finally {
      await second.close()
    }
  })

  it('ends open watch streams with UNAVAILABLE on close, even a stalled one', async () => {
    const server = await startTestServer()
    const c = grpcClients(server)
    const md = authMetadata()
    const live = new Collector<SessionWatchEvent>(c.sessions.watchSessions({}, md), afterSubscribers(server.store, 'sessions', 1))
    const stalled = new Collector<SessionWatchEvent>(c.sessions.watchSessions({}, md), afterSubscribers(server.store, 'sessions', 2))
    await Promise.all([live.ready, stalled.ready])
    stalled.stream.pause()
    const prompt = 'p'.repeat(256 * 1024)
    for (let i = 0; i < 40; i++) {
      server.store.create('sessions', {name: `s${i}`, prompt})
      await new Promise((r) => setImmediate(r))
    }
    await server.close()
    expect((await live.waitForError()).code).toBe(status.UNAVAILABLE)
    stalled.stream.resume()
    await waitFor(() => stalled.error !== undefined, 'the stalled stream to end')
    expect([status.UNAVAILABLE, status.CANCELLED, status.INTERNAL]).toContain(stalled.error?.code)
    c.close()
  })

  it('closes when its abort signal fires', async () => {
    const controller = new AbortController()
    const server = await startTestServer({signal: controller.signal})
    expect((await api(server, 'GET', '/sessions')).status).toBe(200)
    controller.abort()
    let refused = false
    const deadline = Date.now() + 20_000
    while (!refused && Date.now() < deadline) {
      try {
        await fetch(`${server.url}${server.basePath}/sessions`, {headers: {Connection: 'close'}})
        await new Promise((r) => setTimeout(r, 20))
      } catch {
        refused = true
      }
    }
    expect(refused).toBe(true)
    await server.close()
  })
})
