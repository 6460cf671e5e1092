// Runner readiness: `GET http://127.0.0.1:<port>/health` answering 200 (contract 4).
import http from 'node:http'
import {SESSION_TOKEN_HEADER} from './token.js'
import {errorMessage} from '../errors.js'

export interface HealthProbe {
  ok: boolean
  status?: number
  error?: string
}

export interface ProbeOptions {
  port: number
  token?: string
  host?: string
  /** Per-request timeout, default 2000 ms. */
  timeoutMs?: number
}

/** One `GET /health`; never throws. A fresh connection each time (agent: false): no stale pooled sockets. */
export function probeHealth(options: ProbeOptions): Promise<HealthProbe> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {}
    if (options.token) headers[SESSION_TOKEN_HEADER] = options.token
    const req = http.request(
      {
        host: options.host ?? '127.0.0.1',
        port: options.port,
        path: '/health',
        method: 'GET',
        headers,
        agent: false,
        timeout: options.timeoutMs ?? 2000,
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve({ok: res.statusCode === 200, status: res.statusCode}))
        res.on('error', (err) => resolve({ok: false, status: res.statusCode, error: errorMessage(err)}))
      },
    )
    req.on('timeout', () => req.destroy(new Error('health request timed out')))
    req.on('error', (err) => resolve({ok: false, error: errorMessage(err)}))
    req.end()
  })
}

export interface PollHealthOptions {
  port: number
  token?: string
  timeoutMs: number
  intervalMs: number
  delay: (ms: number) => Promise<void>
  /** Aborts the polling with the signal's reason. */
  signal?: AbortSignal
  /** Called before each probe; throws to end the polling (the runner exited). */
  check?: () => void
  /** Ends a wait between probes early (the runner's exit). */
  wake?: Promise<unknown>
}

export type HealthPoll = {ok: true} | {ok: false; lastError: string}

/** Probes `GET /health` every `intervalMs` until 200, or until another interval would pass `timeoutMs`. */
export async function pollHealth(options: PollHealthOptions): Promise<HealthPoll> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    options.signal?.throwIfAborted()
    options.check?.()
    const probe = await probeHealth({port: options.port, token: options.token, timeoutMs: Math.max(100, Math.min(2000, deadline - Date.now()))})
    if (probe.ok) return {ok: true}
    const lastError = probe.error ?? `status ${probe.status}`
    if (Date.now() + options.intervalMs > deadline) return {ok: false, lastError}
    await (options.wake ? Promise.race([options.delay(options.intervalMs), options.wake]) : options.delay(options.intervalMs))
  }
}
