// The client builders the commands (and `ambient run`) use: settings in, working clients out.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {emptySettingsStore, loadConfig} from '../../src/lib/config/index.js'
import {ConfigError} from '../../src/lib/errors.js'
import {grpcClientFromConfig, restClientFromConfig} from '../../src/lib/connection/index.js'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'

const TOKEN = 'cli-client-token'
let server: ApiServer
let dir: string

beforeAll(async () => {
  server = await startApiServer({host: '127.0.0.1', port: 0, grpcPort: 0, token: TOKEN})
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-client-'))
})
afterAll(async () => {
  await server.close()
  fs.rmSync(dir, {recursive: true, force: true})
})

function config(env: NodeJS.ProcessEnv) {
  return loadConfig({env, store: emptySettingsStore()}).config
}

describe('clients from settings', () => {
  it('builds REST and gRPC clients that reach the configured server', async () => {
    const tokenFile = path.join(dir, 'token')
    fs.writeFileSync(tokenFile, `${TOKEN}\n`)
    const cfg = config({AMBIENT_API_SERVER_URL: server.url, AMBIENT_GRPC_SERVER_ADDR: server.grpcAddress, AMBIENT_API_TOKEN_FILE: tokenFile})
    server.store.create('projects', {name: 'from-settings'})

    const rest = restClientFromConfig(cfg)
    expect((await rest.listAll('projects')).map((p) => p.name)).toContain('from-settings')

    const grpc = await grpcClientFromConfig(cfg)
    try {
      expect((await grpc.listAll('projects')).map((p) => p.name)).toContain('from-settings')
    } finally {
      grpc.close()
    }
  })

  it('lets an explicit token win over the configured one', async () => {
    const cfg = config({AMBIENT_API_SERVER_URL: server.url, AMBIENT_API_TOKEN: 'wrong'})
    expect((await restClientFromConfig(cfg, {token: TOKEN}).list('projects')).kind).toBe('ProjectList')
  })

  it('throws ConfigError naming AMBIENT_API_TOKEN without a token', () => {
    const cfg = config({AMBIENT_API_SERVER_URL: server.url})
    expect(() => restClientFromConfig(cfg)).toThrow(ConfigError)
    expect(() => restClientFromConfig(cfg)).toThrow(/AMBIENT_API_TOKEN/)
  })
})
