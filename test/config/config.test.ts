import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {emptySettingsStore, loadConfig, SETTING_NAMES, TokenSource} from '../../src/lib/config/index.js'
import {ConfigError} from '../../src/lib/errors.js'

function failure(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const {config, sources} = loadConfig({env: {}, store: emptySettingsStore()})
    expect(config.AMBIENT_API_SERVER_URL).toBe('http://localhost:8000')
    expect(config.AMBIENT_API_BASE_PATH).toBe('/api/ambient/v1')
    expect(config.AMBIENT_API_PROJECT).toBe('default')
    expect(config.AMBIENT_GRPC_SERVER_ADDR).toEqual({host: 'localhost', port: 8001})
    expect(config.AMBIENT_GRPC_USE_TLS).toBe(false)
    expect(config.MODE).toBe('kube')
    expect(config.LOG_LEVEL).toBe('info')
    expect(config.NAMESPACE).toBe('ambient-code')
    expect(config.POLL_INTERVAL_SECONDS).toBe(5)
    expect(config.WORKER_COUNT).toBe(2)
    expect(config.LOCAL_PROXY_ADDR).toEqual({host: '127.0.0.1', port: 9080})
    expect(config.CORS_ALLOWED_ORIGIN).toBe('http://localhost:3000')
    expect(config.LOCAL_RUNNER_COMMAND).toBe('python local_entry.py')
    expect(config.LOCAL_PORT_RANGE).toEqual({from: 9100, to: 9199})
    expect(config.LOCAL_MAX_SESSIONS).toBe(10)
    expect(config.LOCAL_WORKSPACE_ROOT).toBe(path.join(os.homedir(), '.ambient/workspaces'))
    expect(config.METRICS_ADDR).toEqual({host: '', port: 8080})
    expect(config.PROBE_ADDR).toEqual({host: '', port: 8081})
    expect(config.AMBIENT_API_TOKEN).toBeUndefined()
    expect(sources.MODE).toBe('default')
  })

  it('takes flags over environment over the settings file over defaults', () => {
    const store = emptySettingsStore()
    store.set('MODE', 'local')
    store.set('WORKER_COUNT', '7')
    store.set('NAMESPACE', 'from-file')
    const {config, sources} = loadConfig({env: {MODE: 'test', WORKER_COUNT: '3'}, store, overrides: {MODE: 'kube'}})
    expect([config.MODE, sources.MODE]).toEqual(['kube', 'flag'])
    expect([config.WORKER_COUNT, sources.WORKER_COUNT]).toEqual([3, 'env'])
    expect([config.NAMESPACE, sources.NAMESPACE]).toEqual(['from-file', 'file'])
  })

  it.each([
    ['MODE', 'bogus', /kube, local, test/],
    ['WORKER_COUNT', '0', /WORKER_COUNT/],
    ['POLL_INTERVAL_SECONDS', 'soon', /POLL_INTERVAL_SECONDS/],
    ['LOCAL_PORT_RANGE', '9199-9100', /FROM-TO/],
    ['AMBIENT_GRPC_USE_TLS', 'maybe', /true, false/],
    ['AMBIENT_GRPC_SERVER_ADDR', 'localhost', /host:port/],
    ['AMBIENT_API_SERVER_URL', 'not a url', /AMBIENT_API_SERVER_URL/],
    ['LOG_LEVEL', 'loud', /debug/],
    ['METRICS_ADDR', 'x', /0 to turn it off/],
  ])('rejects %s=%s naming the variable', (name, value, accepted) => {
    const err = failure(() => loadConfig({env: {[name]: value}, store: emptySettingsStore()}))
    expect(err.variable).toBe(name)
    expect(err.exitCode).toBe(2)
    expect(err.message).toContain(name)
    expect(err.message).toMatch(accepted)
  })

  it('turns a listener off with 0', () => {
    const {config} = loadConfig({env: {METRICS_ADDR: '0', PROBE_ADDR: '127.0.0.1:0'}, store: emptySettingsStore()})
    expect(config.METRICS_ADDR).toBeUndefined()
    expect(config.PROBE_ADDR).toEqual({host: '127.0.0.1', port: 0})
  })

  it('never shows a secret value in an error', () => {
    expect(SETTING_NAMES).toContain('AMBIENT_API_TOKEN')
    const err = failure(() => loadConfig({env: {AMBIENT_API_TOKEN: ''}, store: emptySettingsStore()}))
    expect(err.message).not.toContain('""')
    expect(err.message).toContain('[redacted]')
  })
})

describe('TokenSource', () => {
  it('says how to get a token when there is none', () => {
    const err = failure(() => TokenSource.fromConfig({AMBIENT_API_TOKEN: undefined, AMBIENT_API_TOKEN_FILE: undefined}))
    expect(err.variable).toBe('AMBIENT_API_TOKEN')
    expect(err.message).toMatch(/ambient api-server/)
  })

  it('re-reads a rotated token file, including a symlink swap', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token-'))
    fs.writeFileSync(path.join(dir, 'v1'), 'first\n')
    fs.writeFileSync(path.join(dir, 'v2'), 'second-token\n')
    fs.symlinkSync(path.join(dir, 'v1'), path.join(dir, 'token'))
    let now = 0
    const source = new TokenSource({file: path.join(dir, 'token'), checkIntervalMs: 1000, now: () => now})
    expect(source.get()).toBe('first')
    fs.rmSync(path.join(dir, 'token'))
    fs.symlinkSync(path.join(dir, 'v2'), path.join(dir, 'token'))
    now = 500
    expect(source.get()).toBe('first') // not checked again within the interval
    now = 1500
    expect(source.get()).toBe('second-token')
  })

  it('fails at start when the file is missing, naming the variable', () => {
    const err = failure(() => new TokenSource({file: '/nonexistent/token'}))
    expect(err.variable).toBe('AMBIENT_API_TOKEN_FILE')
  })
})
