// A tiny AG-UI runner that echoes the user's last message: the stand-in for the Python runner
// in local-mode tests, demos (`ambient echo-runner`) and the proxy benchmark. It speaks the
// same HTTP surface as a real runner:
//   GET  /health        200 {"status":"healthy"}
//   POST /              RunAgentInput JSON in, the run's AG-UI events out as SSE:
//                       RUN_STARTED, TEXT_MESSAGE_START, TEXT_MESSAGE_CONTENT (the echo,
//                       chunked), TEXT_MESSAGE_END, RUN_FINISHED
//   GET  /              SSE stream of the events of every run, as they happen (stays open).
//                       `GET /?count=N` instead sends TEXT_MESSAGE_START, N TEXT_MESSAGE_CONTENT
//                       events (delta = "0", "1", ...) as fast as the client reads, and
//                       TEXT_MESSAGE_END, then ends: the load for proxy tests and benchmarks.
//   POST /interrupt     cancels the runs in progress (they finish with outcome "cancelled")
//   GET  /mcp/status, /repos/status   small JSON
// With a token, every request lacking the right X-Ambient-Session-Token gets 401.
import http, {type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {randomUUID} from 'node:crypto'
import {setTimeout as sleep} from 'node:timers/promises'
import {EventType, contentToText, type BaseEvent, type Message} from '@ag-ui/core'
import {EventEncoder} from '@ag-ui/encoder'
import type {Logger} from '../log.js'
import {silentLogger} from '../log.js'
import {SESSION_TOKEN_HEADER, tokenMatches} from '../process/token.js'
import {isRecord} from '../util/is-record.js'
import {openSse, writeSse} from './sse.js'

export interface EchoRunnerOptions {
  /** 0 picks a free port. */
  port: number
  host?: string
  token?: string
  logger?: Logger
  /** Echoed when a run has no user message (a real runner starts from INITIAL_PROMPT). */
  prompt?: string
  /** Characters per TEXT_MESSAGE_CONTENT event, default 8. */
  chunkSize?: number
  /** Pause between content events of a run, default 0 (a pause makes runs interruptible in tests). */
  chunkDelayMs?: number
  /** Heartbeat comment on idle event streams, default 15 s, so intermediaries keep them open. */
  heartbeatMs?: number
}

export interface EchoRunner {
  url: string
  port: number
  /** Open `GET /` streams: lets tests see that a proxy released its upstream connection. */
  openEventStreams(): number
  close(): Promise<void>
}

const MAX_BODY_BYTES = 1024 * 1024
const COUNT_BATCH_BYTES = 16 * 1024

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) return undefined
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The parts of a RunAgentInput the echo needs; lenient about everything else. */
function parseRunInput(value: unknown): {threadId: string; runId: string; messages: Message[]} | undefined {
  if (!isRecord(value)) return undefined
  const messages = value.messages ?? []
  if (!Array.isArray(messages) || !messages.every(isRecord)) return undefined
  return {
    threadId: typeof value.threadId === 'string' ? value.threadId : randomUUID(),
    runId: typeof value.runId === 'string' ? value.runId : randomUUID(),
    messages: messages as Message[],
  }
}

function lastUserText(messages: Message[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]
    if (message?.role === 'user') return contentToText(message.content)
  }
  return undefined
}

function chunkText(text: string, size: number): string[] {
  const chars = Array.from(text)
  const chunks: string[] = []
  for (let i = 0; i < chars.length; i += size) chunks.push(chars.slice(i, i + size).join(''))
  return chunks.length > 0 ? chunks : ['']
}

export async function startEchoRunner(options: EchoRunnerOptions): Promise<EchoRunner> {
  const host = options.host ?? '127.0.0.1'
  const logger = options.logger ?? silentLogger
  const chunkSize = Math.max(1, options.chunkSize ?? 8)
  const chunkDelayMs = options.chunkDelayMs ?? 0
  const heartbeatMs = options.heartbeatMs ?? 15_000
  const encoder = new EventEncoder()
  const subscribers = new Set<ServerResponse>()
  const activeRuns = new Set<AbortController>()

  const broadcast = (frame: string) => {
    // A live stream must not hold a run back: slow subscribers buffer in their socket.
    for (const res of subscribers) res.write(frame)
  }

  async function run(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req)
    if (body === undefined) return sendJson(res, 413, {error: 'request body too large'})
    let json: unknown
    try {
      json = JSON.parse(body)
    } catch {
      return sendJson(res, 400, {error: 'body is not JSON'})
    }
    const input = parseRunInput(json)
    if (!input) return sendJson(res, 400, {error: 'body is not a RunAgentInput'})
    const text = lastUserText(input.messages) ?? options.prompt ?? ''
    const controller = new AbortController()
    activeRuns.add(controller)
    openSse(res)
    const emit = async (event: BaseEvent) => {
      const frame = encoder.encodeSSE({...event, timestamp: Date.now()})
      broadcast(frame)
      await writeSse(res, frame)
    }
    try {
      const {threadId, runId} = input
      const messageId = randomUUID()
      await emit({type: EventType.RUN_STARTED, threadId, runId})
      await emit({type: EventType.TEXT_MESSAGE_START, messageId, role: 'assistant'})
      for (const delta of chunkText(text, chunkSize)) {
        if (controller.signal.aborted) break
        await emit({type: EventType.TEXT_MESSAGE_CONTENT, messageId, delta})
        if (chunkDelayMs > 0) await sleep(chunkDelayMs, undefined, {signal: controller.signal}).catch(() => {})
      }
      await emit({type: EventType.TEXT_MESSAGE_END, messageId})
      await emit({
        type: EventType.RUN_FINISHED,
        threadId,
        runId,
        outcome: controller.signal.aborted ? {type: 'cancelled'} : {type: 'success'},
      })
    } finally {
      activeRuns.delete(controller)
      res.end()
    }
  }

  function subscribe(res: ServerResponse): void {
    openSse(res)
    subscribers.add(res)
    const heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatMs)
    heartbeat.unref()
    res.on('close', () => {
      clearInterval(heartbeat)
      subscribers.delete(res)
    })
  }

  async function countStream(res: ServerResponse, count: number): Promise<void> {
    openSse(res)
    subscribers.add(res)
    res.on('close', () => subscribers.delete(res))
    const messageId = 'count'
    let batch = encoder.encodeSSE({type: EventType.TEXT_MESSAGE_START, messageId, role: 'assistant'})
    for (let i = 0; i < count; i++) {
      batch += encoder.encodeSSE({type: EventType.TEXT_MESSAGE_CONTENT, messageId, delta: String(i)})
      if (batch.length >= COUNT_BATCH_BYTES) {
        if (!(await writeSse(res, batch))) return
        batch = ''
      }
    }
    batch += encoder.encodeSSE({type: EventType.TEXT_MESSAGE_END, messageId})
    if (await writeSse(res, batch)) res.end()
  }

  const server = http.createServer({noDelay: true, keepAlive: true}, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://runner')
    if (options.token && !tokenMatches(options.token, req.headers[SESSION_TOKEN_HEADER])) {
      return sendJson(res, 401, {error: 'missing or wrong session token'})
    }
    const route = `${req.method} ${url.pathname}`
    const fail = (err: unknown) => {
      logger.error({err, route}, 'echo runner request failed')
      if (!res.headersSent) sendJson(res, 500, {error: 'internal error'})
      else res.destroy()
    }
    switch (route) {
      case 'GET /health':
        return sendJson(res, 200, {status: 'healthy'})
      case 'POST /':
        return void run(req, res).catch(fail)
      case 'GET /': {
        const count = url.searchParams.get('count')
        if (count === null) return subscribe(res)
        const n = Number(count)
        if (!Number.isSafeInteger(n) || n < 0) return sendJson(res, 400, {error: '`count` must be a non-negative integer'})
        return void countStream(res, n).catch(fail)
      }
      case 'POST /interrupt': {
        const runs = activeRuns.size
        for (const controller of activeRuns) controller.abort()
        return sendJson(res, 200, {status: 'interrupted', runs})
      }
      case 'GET /mcp/status':
        return sendJson(res, 200, {servers: []})
      case 'GET /repos/status':
        return sendJson(res, 200, {repos: []})
      default:
        return sendJson(res, 404, {error: `no route ${route}`})
    }
  })
  // Event streams stay open for as long as clients want them.
  server.requestTimeout = 0

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const {port} = server.address() as AddressInfo
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  logger.info({url}, 'echo runner listening')

  return {
    url,
    port,
    openEventStreams: () => subscribers.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const controller of activeRuns) controller.abort()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
