// Contract 1.5: the error body, its string code, the statuses, and the plain-text 401; and
// that our REST client reads all of it into a typed ApiError.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiError} from '../../src/lib/api/errors.js'
import {RestClient} from '../../src/lib/api/rest.js'
import type {ApiServer} from '../../src/lib/server/index.js'
import {call, create, ERROR_PREFIX, expectStatus, startServer, TOKEN, type RawResponse} from './helpers.js'

let server: ApiServer

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

/** One failing call per status the contract lists (401 is plain text, see below). */
async function failures(): Promise<Record<number, RawResponse>> {
  const s = await create(server, 'sessions', {name: 's'})
  return {
    400: await call(server, 'POST', '/sessions', {body: {}}),
    404: await call(server, 'GET', '/sessions/absent'),
    409: await call(server, 'POST', `/sessions/${String(s.id)}/stop`),
  }
}

describe('contract 1.5: errors', () => {
  it('1.5 the error body is {id, kind: "Error", href, code, reason, operation_id}, all strings', async () => {
    for (const [status, res] of Object.entries(await failures())) {
      const body = expectStatus(res, Number(status))
      expect(Object.keys(body).sort(), status).toEqual(['code', 'href', 'id', 'kind', 'operation_id', 'reason'])
      for (const [key, value] of Object.entries(body)) expect(typeof value, `${status} ${key}`).toBe('string')
      expect(body.kind).toBe('Error')
      expect(body.id, status).toMatch(/^\d+$/)
      expect(body.reason).not.toBe('')
      expect(body.operation_id).toBe(res.headers.get('x-operation-id'))
      expect(body.href).toBe(`${server.basePath}/errors/${String(body.id)}`)
    }
  })

  it('1.5 code is the numeric error id with the server prefix ("ambient-api-server-<n>"), never a JSON number', async () => {
    for (const [status, res] of Object.entries(await failures())) {
      const body = expectStatus(res, Number(status))
      expect(body.code, status).toBe(`${ERROR_PREFIX}-${String(body.id)}`)
    }
    // rh-trex's ids: 7 not found, 8 validation, 6 conflict, 17 malformed body, 23 bad search.
    expect(expectStatus(await call(server, 'GET', '/sessions/absent'), 404).code).toBe(`${ERROR_PREFIX}-7`)
    expect(expectStatus(await call(server, 'POST', '/sessions', {body: '{'}), 400).code).toBe(`${ERROR_PREFIX}-17`)
    expect(expectStatus(await call(server, 'GET', `/sessions?search=${encodeURIComponent('name ~ 1')}`), 400).code).toBe(`${ERROR_PREFIX}-23`)
  })

  it('1.5 statuses: 400 validation, 401, 404, 409 conflict', async () => {
    const f = await failures()
    expect([f[400].status, f[404].status, f[409].status]).toEqual([400, 404, 409])
    expect((await call(server, 'GET', '/sessions', {token: 'wrong'})).status).toBe(401)
  })

  it('1.5 a 401 from the static-token check is plain text ("invalid bearer token"), not an Error body', async () => {
    const res = await call(server, 'GET', '/sessions', {token: 'wrong'})
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(res.text.trim()).toBe('invalid bearer token')
    expect(res.json).toBeUndefined()
  })

  it('1.5 our REST client reads a string code and a plain-text 401 into a typed ApiError that shows the reason', async () => {
    const client = (token: string) => new RestClient({baseUrl: server.url, basePath: server.basePath, token: () => token})
    const unauthorized = await client('wrong')
      .list('sessions')
      .catch((err: unknown) => err)
    expect(unauthorized).toBeInstanceOf(ApiError)
    expect(unauthorized).toMatchObject({status: 401, code: 'ERR_API_UNAUTHORIZED', reason: 'invalid bearer token', serverCode: undefined})
    expect((unauthorized as Error).message).toContain('invalid bearer token')
    const missing = await client(TOKEN)
      .get('sessions', 'absent')
      .catch((err: unknown) => err)
    expect(missing).toBeInstanceOf(ApiError)
    expect(missing).toMatchObject({status: 404, serverCode: `${ERROR_PREFIX}-7`, errorId: '7'})
    const invalid = await client(TOKEN)
      .create('projects', {name: 'Not_Valid'})
      .catch((err: unknown) => err)
    expect(invalid).toMatchObject({status: 400, serverCode: `${ERROR_PREFIX}-8`})
    expect((invalid as ApiError).reason).toContain('DNS-1123')
  })
})
