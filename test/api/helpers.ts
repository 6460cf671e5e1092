// Shared by the API client tests: the embedded API server on ephemeral ports, a fetch that
// records what the client sent (the real fetch underneath), and polling waits.
import {afterAll, afterEach, beforeAll, expect} from 'vitest'
import {startApiServer, type ApiServer, type ApiServerOptions} from '../../src/lib/server/index.js'
import {RestClient, type RestClientOptions} from '../../src/lib/api/rest.js'
import {GrpcClient} from '../../src/lib/api/grpc.js'

export const TOKEN = 'api-client-test-token'

export function startServer(options: Partial<ApiServerOptions> = {}): Promise<ApiServer> {
  return startApiServer({host: '127.0.0.1', port: 0, grpcPort: 0, token: TOKEN, ...options})
}

export interface RecordedCall {
  method: string
  url: URL
  authorization: string | undefined
}

/** The real fetch, plus a record of each call and of how many were in flight at most. */
export function recordingFetch(onResponse?: (call: RecordedCall) => Promise<void> | void) {
  const calls: RecordedCall[] = []
  let inFlight = 0
  let maxInFlight = 0
  const wrapped: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers)
    const call: RecordedCall = {
      method: init?.method ?? 'GET',
      url: new URL(input instanceof Request ? input.url : String(input)),
      authorization: headers.get('authorization') ?? undefined,
    }
    calls.push(call)
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    try {
      const res = await fetch(input, init)
      await onResponse?.(call)
      return res
    } finally {
      inFlight--
    }
  }
  return {
    fetch: wrapped,
    calls,
    get maxInFlight() {
      return maxInFlight
    },
  }
}

export function restClient(server: ApiServer, options: Partial<RestClientOptions> = {}): RestClient {
  return new RestClient({baseUrl: server.url, basePath: server.basePath, token: () => TOKEN, ...options})
}

export function grpcClient(server: ApiServer, token: () => string = () => TOKEN): GrpcClient {
  return new GrpcClient({address: server.grpcAddress, tls: false, token})
}

export {waitFor} from '../helpers/wait.js'

/** The rejection of a promise that must fail. */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

/** Fails each test of the file after which an error went unhandled (e.g. a cancelled stream's). */
export function failOnUnhandledErrors(): void {
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown) => unhandled.push(err)
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled)
    process.on('uncaughtException', onUnhandled)
  })
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled)
    process.off('uncaughtException', onUnhandled)
  })
  afterEach(() => {
    expect(unhandled.splice(0)).toEqual([])
  })
}
