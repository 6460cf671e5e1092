// A minimal SSE reader for tests: yields the `data:` payload of each event, skips comments.
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, {stream: true})
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
      if (data.length > 0) yield data.join('\n')
    }
  }
}

export interface AguiEventLike {
  type: string
  [key: string]: unknown
}

export async function collectEvents(body: ReadableStream<Uint8Array>): Promise<AguiEventLike[]> {
  const events: AguiEventLike[] = []
  for await (const data of sseData(body)) events.push(JSON.parse(data) as AguiEventLike)
  return events
}

export function runInput(text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    threadId: 'thread-1',
    runId: `run-${Math.random().toString(36).slice(2)}`,
    messages: [
      {id: 'm0', role: 'user', content: 'an earlier message'},
      {id: 'm1', role: 'assistant', content: 'an earlier answer'},
      {id: 'm2', role: 'user', content: text},
    ],
    tools: [],
    context: [],
    ...extra,
  }
}
