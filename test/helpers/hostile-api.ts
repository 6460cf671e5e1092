// A hostile Ambient API server for escape-injection tests: it answers the REST calls the
// resource commands make, with the contract's shapes, but every string it can choose (names,
// phases, ids in lists, error reasons) carries terminal control sequences. Loopback only.
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {HOSTILE} from './hostile.js'

export const BASE_PATH = '/api/ambient/v1'
/** The id `get`, `start` and `stop` are asked for; lists also hold an object with a hostile id. */
export const PLAIN_ID = 'plain-1'
/** Refused with 400 and a hostile reason (a 404 would be worded from the id we asked for). */
export const REFUSED_ID = 'refused'

const at = '2026-01-02T03:04:05.000000Z'

function meta(kind: string, resource: string, id: string) {
  return {id, kind, href: `${BASE_PATH}/${resource}/${id}`, created_at: at, updated_at: at}
}

export function hostileSession(id: string) {
  return {
    ...meta('Session', 'sessions', id),
    name: HOSTILE,
    prompt: `line one\n${HOSTILE}\nline three`,
    project_id: HOSTILE,
    phase: HOSTILE,
    labels: JSON.stringify({[HOSTILE]: HOSTILE}),
    conditions: JSON.stringify([{type: 'Reconciled', status: 'False', reason: HOSTILE, message: HOSTILE}]),
  }
}

function hostileProject(id: string) {
  return {...meta('Project', 'projects', id), name: 'team-a', display_name: HOSTILE, description: HOSTILE, status: HOSTILE}
}

function hostileSettings(id: string) {
  return {...meta('ProjectSettings', 'project_settings', id), project_id: HOSTILE, group_access: JSON.stringify([{group: HOSTILE, role: 'edit'}])}
}

const MAKERS: Record<string, (id: string) => object> = {sessions: hostileSession, projects: hostileProject, project_settings: hostileSettings}

export interface HostileApi {
  url: string
  close(): Promise<void>
}

export async function startHostileApi(): Promise<HostileApi> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hostile')
    const parts = url.pathname.slice(BASE_PATH.length).split('/').filter(Boolean)
    const make = MAKERS[parts[0] ?? '']
    const send = (code: number, body: unknown) => {
      const text = JSON.stringify(body)
      res.writeHead(code, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
      res.end(text)
    }
    req.resume()
    if (!url.pathname.startsWith(BASE_PATH) || !make) return send(404, {kind: 'Error', code: 'not_found', reason: HOSTILE})
    const [resource, id, action] = parts
    if (id === undefined && req.method === 'GET') {
      const items = [make(PLAIN_ID), make(HOSTILE)]
      return send(200, {kind: `${resource}List`, page: 1, size: items.length, total: items.length, items})
    }
    if (id === undefined && req.method === 'POST') return send(201, make(HOSTILE))
    if (id === REFUSED_ID) return send(400, {kind: 'Error', id: '7', code: 'bad_request', reason: `${resource}: ${HOSTILE}`, operation_id: HOSTILE})
    if (action === undefined || action === 'start' || action === 'stop') return send(200, make(PLAIN_ID))
    return send(404, {kind: 'Error', code: 'not_found', reason: HOSTILE})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
