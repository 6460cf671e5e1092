// Server-Sent Events on a node:http response: headers that keep intermediaries from buffering
// or compressing, and writes that respect back-pressure instead of queueing without bound.
import type {ServerResponse} from 'node:http'

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
}

/** Sends the SSE headers at once, so the client sees the stream open before the first event. */
export function openSse(res: ServerResponse): void {
  res.socket?.setNoDelay(true)
  res.writeHead(200, SSE_HEADERS)
  res.flushHeaders()
}

/** Writes `chunk`; when the socket buffer is full, waits for 'drain'. False once the client is gone. */
export function writeSse(res: ServerResponse, chunk: string): Promise<boolean> | boolean {
  if (res.destroyed || res.writableEnded) return false
  if (res.write(chunk)) return true
  return new Promise((resolve) => {
    const onDrain = () => {
      res.off('close', onClose)
      resolve(true)
    }
    const onClose = () => {
      res.off('drain', onDrain)
      resolve(false)
    }
    res.once('drain', onDrain)
    res.once('close', onClose)
  })
}
