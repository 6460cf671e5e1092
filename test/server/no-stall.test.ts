// A costly query never stalls the rest of the server. The server runs as its own process
// (`ambient api-server`), so a server that blocks makes this test fail by its deadlines instead
// of freezing the test runner. While the most expensive search the query bounds allow is in
// flight, plain REST GETs are answered and gRPC watch events arrive, again and again; then the
// costly query itself completes (a backtracking LIKE never would) and SIGTERM during another
// one ends the process.
//
// No timing is assumed about this machine: the assertions are about order (answers that arrive
// before the costly one does) and generous deadlines that only a stalled server misses.
import {spawn, type ChildProcess} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {credentials} from '@grpc/grpc-js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SessionServiceClient, type Session as PbSession, type SessionWatchEvent} from '../../src/gen/ambient/v1/sessions.js'
import {STORE_RESOURCES} from '../../src/lib/server/schema.js'
import {SqliteBacking} from '../../src/lib/server/sqlite.js'
import {Store} from '../../src/lib/server/store.js'
import {assertBuilt, nodeBin, root} from '../e2e/cli.js'
import {authMetadata, Collector, grpcCall, TOKEN, waitFor} from './helpers.js'

const NAMES = 2000
const LONG_PROMPTS = 24
const PROMPT_CHARS = 256 * 1024
/** The costliest search the bounds allow: 15 LIKE terms of 256 characters (4,096 in all), none matching. */
const HOSTILE = Array.from({length: 15}, (_, i) => `${i % 2 ? 'prompt' : 'name'} like '${'%_'.repeat(127)}%b'`).join(' or ')
/**
 * The costly query takes about 2 s here on a busy machine; 20 times that still ends before the
 * test runner's own 60 s timeout, so a stalled server fails with this deadline's message.
 */
const DEADLINE_MS = 45_000

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-no-stall-'))
let child: ChildProcess | undefined
let exited: Promise<number | null>
let url = ''
let sessions: SessionServiceClient
const md = authMetadata(TOKEN)

beforeAll(async () => {
  assertBuilt()
  expect(HOSTILE.length).toBeLessThanOrEqual(4096)
  // Seeded straight into the database file: thousands of REST creates would take longer than the test.
  const db = path.join(tmp, 'api.db')
  const store = new Store({backing: await SqliteBacking.open(db, STORE_RESOURCES)})
  store.transaction(() => {
    for (let i = 0; i < NAMES; i++) {
      store.create('sessions', {name: 'a'.repeat(255), prompt: i < LONG_PROMPTS ? 'a'.repeat(PROMPT_CHARS) : 'short', created_by_user_id: 'seed'})
    }
  })
  store.close()

  const args = ['api-server', '--port', '0', '--grpc-port', '0', '--json', '--token', TOKEN, '--no-remember', '--db', db]
  const proc = spawn(nodeBin, [path.join(root, 'bin/run.js'), ...args], {
    env: {...process.env, AMBIENT_CONFIG_DIR: path.join(tmp, 'config'), LOG_LEVEL: 'warn'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child = proc
  exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)))
  const ready = await new Promise<{url: string; grpcAddress: string}>((resolve, reject) => {
    let out = ''
    let err = ''
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()))
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as {url: string; grpcAddress: string})
    })
    proc.once('exit', (code) => reject(new Error(`api-server exited ${code}: ${err}`)))
  })
  url = `${ready.url}/api/ambient/v1`
  sessions = new SessionServiceClient(ready.grpcAddress, credentials.createInsecure())
})

afterAll(() => {
  sessions?.close()
  child?.kill('SIGKILL')
  fs.rmSync(tmp, {recursive: true, force: true})
})

function get(pathAndQuery: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}${pathAndQuery}`, {headers: {Authorization: `Bearer ${TOKEN}`}, signal: signal ?? AbortSignal.timeout(DEADLINE_MS)})
}

async function createSession(name: string): Promise<PbSession> {
  return grpcCall<PbSession>((cb) => sessions.createSession({name}, md, cb))
}

describe('a costly search beside other requests', () => {
  it('leaves REST GETs and gRPC watch events flowing while it runs, and completes', async () => {
    // The watch sends nothing until an event (like grpc-go's): write until one arrives, so the
    // stream is known to be subscribed before the costly query starts.
    const watch = new Collector<SessionWatchEvent>(sessions.watchSessions({}, md))
    const probe = await createSession('probe')
    await waitFor(
      async () => {
        if (watch.events.length > 0) return true
        await grpcCall((cb) => sessions.updateSession({id: probe.metadata?.id ?? '', prompt: String(Date.now())}, md, cb))
        return false
      },
      'the watch stream to carry a first event',
      DEADLINE_MS,
    )

    const started = performance.now()
    let hostileDone = false
    const hostile = get(`/sessions?size=1&search=${encodeURIComponent(HOSTILE)}`).then(async (res) => {
      hostileDone = true
      return {status: res.status, body: (await res.json()) as {total: number}, ms: performance.now() - started}
    })

    // Side by side: GET after GET, and gRPC writes whose watch events must come back, for as
    // long as the costly query runs. A server that blocks answers none of them before it ends.
    let getsDuring = 0
    let eventsDuring = 0
    const gets = (async () => {
      while (!hostileDone) {
        const res = await get(`/sessions/${probe.metadata?.id}`)
        expect(res.status).toBe(200)
        await res.json()
        if (!hostileDone) getsDuring++
      }
    })()
    const events = (async () => {
      for (let i = 0; !hostileDone; i++) {
        const before = watch.events.length
        await createSession(`during-${i}`)
        await waitFor(() => watch.events.length > before || watch.error, 'a watch event for a write made during the costly query', DEADLINE_MS)
        expect(watch.error).toBeUndefined()
        if (!hostileDone) eventsDuring++
      }
    })()

    const result = await hostile
    await Promise.all([gets, events])
    expect(result.status).toBe(200)
    expect(result.body.total).toBe(0)
    expect(result.ms).toBeLessThan(DEADLINE_MS)
    // Several of each, so the costly query was surely in flight for some of them.
    expect(getsDuring, `GETs answered during the costly query (${Math.round(result.ms)} ms)`).toBeGreaterThanOrEqual(3)
    expect(eventsDuring, `watch events during the costly query (${Math.round(result.ms)} ms)`).toBeGreaterThanOrEqual(2)
    watch.stream.cancel()
  })

  it('exits on SIGTERM while a costly search runs', async () => {
    const client = new AbortController()
    const hostile = get(`/sessions?size=1&search=${encodeURIComponent(`${HOSTILE} or name = 'again'`)}`, client.signal).catch(() => undefined)
    // Answered GETs show the server is up and running the costly query meanwhile.
    expect((await get('/sessions?size=1')).status).toBe(200)
    child?.kill('SIGTERM')
    expect(await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), DEADLINE_MS))])).toBe(0)
    client.abort()
    await hostile
  })
})
