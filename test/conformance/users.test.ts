// Contract section 2, UserService (and REST /users), against the embedded server; and how the
// server's one token relates to its users: the token belongs to a user, who is in /users.
import {describe, expect, it} from 'vitest'
import {EventType} from '../../src/gen/ambient/v1/common.js'
import type {User, UserWatchEvent} from '../../src/gen/ambient/v1/users.js'
import {
  authMetadata,
  call,
  create,
  expectStatus,
  grpcFailure,
  grpcStatus,
  itemsOf,
  startServer,
  useServerWithGrpc,
  unary,
  USERNAME,
  waitFor,
} from './helpers.js'

const ctx = useServerWithGrpc()

const md = () => authMetadata()
const createUser = (username: string, name: string, email?: string) =>
  unary<User>((cb) => ctx.grpc.users.createUser({username, name, email}, md(), cb))

describe('contract 2: UserService', () => {
  it('2 CreateUser and GetUser: User {metadata, username, name, optional email}', async () => {
    const u = await createUser('ada', 'Ada Lovelace', 'ada@example.com')
    expect(u).toMatchObject({username: 'ada', name: 'Ada Lovelace', email: 'ada@example.com'})
    expect(u.metadata).toMatchObject({kind: 'User', href: `${ctx.server.basePath}/users/${u.metadata?.id ?? ''}`})
    expect(await unary<User>((cb) => ctx.grpc.users.getUser({id: u.metadata?.id ?? ''}, md(), cb))).toEqual(u)
    const noEmail = await createUser('bob', 'Bob')
    expect(noEmail.email).toBeUndefined()
  })

  it('2 CreateUser requires username and name', async () => {
    expect((await grpcFailure(createUser('', 'No Username'))).code).toBe(grpcStatus.INVALID_ARGUMENT)
    expect((await grpcFailure(createUser('no-name', ''))).code).toBe(grpcStatus.INVALID_ARGUMENT)
  })

  it('2 UpdateUser changes the optional fields that are set', async () => {
    const u = await createUser('carol', 'Carol', 'c@example.com')
    const id = u.metadata?.id ?? ''
    expect(await unary<User>((cb) => ctx.grpc.users.updateUser({id, name: 'Carol C.'}, md(), cb))).toMatchObject({
      username: 'carol',
      name: 'Carol C.',
      email: 'c@example.com',
    })
    expect(await unary<User>((cb) => ctx.grpc.users.updateUser({id, username: 'carol2', email: 'c2@example.com'}, md(), cb))).toMatchObject({
      username: 'carol2',
      name: 'Carol C.',
      email: 'c2@example.com',
    })
    expect((await grpcFailure(unary((cb) => ctx.grpc.users.updateUser({id, name: ''}, md(), cb)))).code).toBe(grpcStatus.INVALID_ARGUMENT)
  })

  it('2 ListUsers answers items and ListMeta; DeleteUser answers the empty DeleteUserResponse', async () => {
    const u = await createUser('dave', 'Dave')
    const id = u.metadata?.id ?? ''
    const listed = await unary<{items: User[]; metadata?: {page: number; size: number; total: number}}>((cb) =>
      ctx.grpc.users.listUsers({page: 1, size: 500}, md(), cb),
    )
    expect(listed.items.map((x) => x.metadata?.id)).toContain(id)
    expect(listed.metadata).toMatchObject({page: 1, size: listed.items.length, total: listed.items.length})
    expect(await unary((cb) => ctx.grpc.users.deleteUser({id}, md(), cb))).toEqual({})
    expect((await grpcFailure(unary((cb) => ctx.grpc.users.getUser({id}, md(), cb)))).code).toBe(grpcStatus.NOT_FOUND)
  })

  it('2 WatchUsers streams UserWatchEvent {type, user, resource_id}; DELETED carries only the id', async () => {
    const events: UserWatchEvent[] = []
    const stream = ctx.grpc.users.watchUsers({}, md())
    stream.on('data', (e: UserWatchEvent) => events.push(e))
    stream.on('error', () => undefined)
    try {
      await waitFor(() => ctx.server.store.listenerCount('users') > 0, 'the watch to subscribe')
      const u = await createUser('eve', 'Eve')
      const id = u.metadata?.id ?? ''
      await unary((cb) => ctx.grpc.users.deleteUser({id}, md(), cb))
      await waitFor(() => events.length >= 2, 'two user events')
      expect(events[0]).toMatchObject({type: EventType.EVENT_TYPE_CREATED, resource_id: id, user: {username: 'eve'}})
      expect(events[1]).toEqual({type: EventType.EVENT_TYPE_DELETED, resource_id: id, user: undefined})
    } finally {
      stream.cancel()
    }
  })

  it('2 REST /users serves the same users as UserService', async () => {
    const viaGrpc = await createUser('frank', 'Frank')
    const viaRest = expectStatus(await call(ctx.server, 'GET', `/users/${viaGrpc.metadata?.id ?? ''}`), 200)
    expect(viaRest).toMatchObject({id: viaGrpc.metadata?.id, kind: 'User', username: 'frank', name: 'Frank'})
    const made = await create(ctx.server, 'users', {username: 'grace', name: 'Grace'})
    expect(await unary<User>((cb) => ctx.grpc.users.getUser({id: String(made.id)}, md(), cb))).toMatchObject({username: 'grace', name: 'Grace'})
    expect((await call(ctx.server, 'POST', '/users', {body: {username: 'x'}})).status).toBe(400)
  })

  it("the token's user is in /users from the start, and is who created_by_user_id names", async () => {
    const fresh = await startServer({username: 'owner'})
    try {
      const list = expectStatus(await call(fresh, 'GET', '/users'), 200)
      expect(itemsOf(list).map((u) => u.username)).toEqual(['owner'])
      expect((await create(fresh, 'sessions', {name: 's'})).created_by_user_id).toBe('owner')
    } finally {
      await fresh.close()
    }
    expect(itemsOf(expectStatus(await call(ctx.server, 'GET', '/users?size=500'), 200)).map((u) => u.username)).toContain(USERNAME)
  })
})
