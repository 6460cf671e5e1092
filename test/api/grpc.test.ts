// GrpcClient's unary calls against the embedded API server over real sockets: every Session
// field survives REST -> domain -> gRPC -> domain, errors map to typed errors, the token is
// read per call. Watch streams: grpc-watch.test.ts.
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {status} from '@grpc/grpc-js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ObjectReference} from '../../src/gen/ambient/v1/common.js'
import {Session as PbSession} from '../../src/gen/ambient/v1/sessions.js'
import {sessionFromProto, sessionToProto} from '../../src/lib/api/convert.js'
import {ApiError, ApiUnreachableError} from '../../src/lib/api/errors.js'
import {GrpcClient} from '../../src/lib/api/grpc.js'
import type {ObjectMeta, Session} from '../../src/lib/api/types.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import {TOKEN, failOnUnhandledErrors, grpcClient, rejectionOf, restClient, startServer} from './helpers.js'

let server: ApiServer
let grpc: GrpcClient

beforeAll(async () => {
  // The server sets kube_cr_name (read-only everywhere) to the id, and created_by_user_id to
  // the token's user ('user-1' here, the value fieldValues expects).
  server = await startServer({username: 'user-1', llmDefaults: false})
  grpc = grpcClient(server)
})
afterAll(async () => {
  grpc.close()
  await server.close()
})

failOnUnhandledErrors()

/** A value for every Session field of the contract; the test fails for a field missing here. */
function fieldValues(id: string): Record<string, unknown> {
  return {
    name: 'round-trip',
    repo_url: 'https://github.com/acme/web',
    prompt: 'line one\nline two, ünïcödé',
    created_by_user_id: 'user-1',
    assigned_user_id: 'user-2',
    workflow_id: 'workflow-1',
    repos: '[{"url":"https://github.com/acme/web","branch":"dev","autoPush":true}]',
    timeout: 1234,
    llm_model: 'opus',
    llm_temperature: 0.35,
    llm_max_tokens: 8192,
    parent_session_id: 'parent-1',
    bot_account_name: 'bot-1',
    resource_overrides: '{"cpu":"2"}',
    environment_variables: '{"A":"1"}',
    labels: '{"team":"a"}',
    annotations: '{"note":"x"}',
    project_id: 'round-trip',
    phase: 'Running',
    start_time: '2026-03-04T05:06:07.123456Z',
    completion_time: '2026-03-04T06:07:08.000001Z',
    sdk_session_id: 'sdk-1',
    sdk_restart_count: 3,
    conditions: '[{"type":"Ready","status":"True"}]',
    reconciled_repos: '[{"url":"https://github.com/acme/web"}]',
    reconciled_workflow: '{"gitUrl":"https://github.com/acme/wf"}',
    kube_cr_name: id,
    kube_cr_uid: 'uid-1',
    kube_namespace: 'ns-1',
  }
}

describe('Session round trip', () => {
  it('carries every proto field REST -> domain -> gRPC -> domain unchanged', async () => {
    const rest = restClient(server)
    const spec = fieldValues('')
    const specFields = [
      'name',
      'repo_url',
      'prompt',
      'created_by_user_id',
      'assigned_user_id',
      'workflow_id',
      'repos',
      'timeout',
      'llm_model',
      'llm_temperature',
      'llm_max_tokens',
      'parent_session_id',
      'bot_account_name',
      'resource_overrides',
      'environment_variables',
      'labels',
      'annotations',
      'project_id',
    ]
    const statusFields = [
      'phase',
      'start_time',
      'completion_time',
      'sdk_session_id',
      'sdk_restart_count',
      'conditions',
      'reconciled_repos',
      'reconciled_workflow',
      'kube_cr_uid',
      'kube_namespace',
    ]
    const createBody = Object.fromEntries(specFields.map((f) => [f, spec[f]]))
    const created = await rest.create<Session>('sessions' as string, createBody)
    await rest.patchStatus(created.id, Object.fromEntries(statusFields.map((f) => [f, spec[f]])))
    const viaRest = await rest.get('sessions', created.id)

    // The field list comes from the generated message: a new proto field fails this test
    // until it is carried (and given a value above).
    const expected = fieldValues(created.id)
    const protoFields = Object.keys(PbSession.fromPartial({}))
    expect(protoFields).toHaveLength(30)
    const metaFields = Object.keys(ObjectReference.fromPartial({}))
    expect(metaFields.sort()).toEqual(['created_at', 'href', 'id', 'kind', 'updated_at'])

    const viaGrpc = await grpc.get('sessions', created.id)
    const viaWire = sessionFromProto(PbSession.decode(PbSession.encode(sessionToProto(viaRest)).finish()))
    for (const field of protoFields) {
      if (field === 'metadata') {
        for (const meta of metaFields) {
          const key = meta as keyof ObjectMeta
          expect(viaRest[key], meta).toMatch(/\S/)
          expect(viaGrpc[key], meta).toBe(viaRest[key])
          expect(viaWire[key], meta).toBe(viaRest[key])
        }
        continue
      }
      expect(Object.hasOwn(expected, field), `no test value for proto field ${field}`).toBe(true)
      const key = field as keyof Session
      expect(viaRest[key], field).toEqual(expected[field])
      expect(viaGrpc[key], field).toEqual(viaRest[key])
      expect(viaWire[key], field).toEqual(viaRest[key])
    }
    expect(viaGrpc).toEqual(viaRest)
    expect(viaRest.created_at).toMatch(/\.\d{6}Z$/)
  })
})

describe('GrpcClient unary calls', () => {
  it('lists every page and writes status', async () => {
    const ids: string[] = []
    server.store.transaction(() => {
      for (let i = 0; i < 250; i++) ids.push(server.store.create('sessions', {name: `g-${i}`, project_id: 'grpc-list'}).id)
    })
    const page = await grpc.list('sessions', 2, 100)
    expect(page.items).toHaveLength(100)
    expect(page.total).toBe(server.store.count('sessions'))
    const all = await grpc.listAll('sessions')
    expect(all.filter((s) => s.project_id === 'grpc-list').map((s) => s.id)).toEqual(ids)
    expect(all).toHaveLength(server.store.count('sessions'))

    const before = await grpc.get('sessions', ids[0])
    const after = await grpc.updateSessionStatus(ids[0], {phase: 'Creating', sdk_restart_count: 2})
    expect(after).toMatchObject({phase: 'Creating', sdk_restart_count: 2})
    expect(after.updated_at > before.updated_at).toBe(true)
  })

  it('maps gRPC errors to ApiError and ApiUnreachableError', async () => {
    const missing = await rejectionOf(grpc.get('projects', 'nope'))
    expect(missing).toBeInstanceOf(ApiError)
    expect(missing).toMatchObject({status: 404, code: 'ERR_API_NOT_FOUND', grpcCode: status.NOT_FOUND, message: 'project nope not found'})

    const bad = await rejectionOf(grpc.updateSessionStatus('nope', {phase: 'Bogus'}))
    expect(bad).toBeInstanceOf(ApiError)
    expect((bad as ApiError).status).toBeGreaterThanOrEqual(400)

    const wrongToken = new GrpcClient({address: server.grpcAddress, tls: false, token: () => 'wrong'})
    try {
      expect(await rejectionOf(wrongToken.list('sessions', 1, 1))).toMatchObject({status: 401, code: 'ERR_API_UNAUTHORIZED'})
    } finally {
      wrongToken.close()
    }

    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const nobody = new GrpcClient({address: `127.0.0.1:${port}`, tls: false, token: () => TOKEN})
    try {
      const err = await rejectionOf(nobody.get('sessions', 'x'))
      expect(err).toBeInstanceOf(ApiUnreachableError)
      expect((err as Error).message).toContain(`127.0.0.1:${port}`)
    } finally {
      nobody.close()
    }
  })

  it('sends the current token on each call', async () => {
    let token = 'stale'
    const client = new GrpcClient({address: server.grpcAddress, tls: false, token: () => token})
    try {
      expect(await rejectionOf(client.list('projects', 1, 1))).toMatchObject({status: 401})
      token = TOKEN
      expect((await client.list('projects', 1, 1)).page).toBe(1)
    } finally {
      client.close()
    }
  })
})
