// The settings file is read without creating anything (a container's HOME is read-only), and
// only written, with its folder, when a command asks: what cannot be written is a ConfigError
// naming AMBIENT_CONFIG_DIR, and a corrupt file is one naming the file.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {loadConfig, openSettingsStore} from '../../src/lib/config/index.js'
import {defaultSettingsDir, ensureDir} from '../../src/lib/config/dirs.js'
import {ConfigError} from '../../src/lib/errors.js'

let tmp: string

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-store-'))
})

afterEach(() => {
  fs.rmSync(tmp, {recursive: true, force: true})
})

function configError(fn: () => unknown): ConfigError {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(ConfigError)
  return caught as ConfigError
}

describe('settings store', () => {
  it('reads a missing folder as no settings and creates nothing', () => {
    const dir = path.join(tmp, 'config')
    const {sources} = loadConfig({env: {AMBIENT_CONFIG_DIR: dir}})
    expect(sources.MODE).toBe('default')
    const store = openSettingsStore({AMBIENT_CONFIG_DIR: dir})
    expect(store.all()).toEqual({})
    store.delete('MODE') // nothing stored: nothing to write
    expect(fs.existsSync(dir)).toBe(false)
  })

  it('reads through a HOME that is not a folder (no folder can be made there)', () => {
    const home = path.join(tmp, 'home-is-a-file')
    fs.writeFileSync(home, '')
    const env = {HOME: home, XDG_CONFIG_HOME: ''}
    const saved = process.env.HOME
    process.env.HOME = home
    try {
      expect(defaultSettingsDir(env, 'linux')).toBe(path.join(home, '.config', 'ambient'))
      expect(loadConfig({env}).sources.WORKER_COUNT).toBe('default')
    } finally {
      process.env.HOME = saved
    }
    expect(fs.statSync(home).isFile()).toBe(true)
  })

  it('writes on set: the folder 0700, the file 0600 (it can hold a token)', () => {
    const dir = path.join(tmp, 'a', 'config')
    const store = openSettingsStore({AMBIENT_CONFIG_DIR: dir})
    store.set('MODE', 'local')
    store.update({AMBIENT_API_TOKEN: 's3cret', WORKER_COUNT: '3'})
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    expect(fs.statSync(store.path).mode & 0o777).toBe(0o600)
    expect(openSettingsStore({AMBIENT_CONFIG_DIR: dir}).all()).toEqual({MODE: 'local', AMBIENT_API_TOKEN: 's3cret', WORKER_COUNT: '3'})
    store.update({WORKER_COUNT: undefined})
    expect(openSettingsStore({AMBIENT_CONFIG_DIR: dir}).get('WORKER_COUNT')).toBeUndefined()
    expect(loadConfig({env: {AMBIENT_CONFIG_DIR: dir}}).sources.MODE).toBe('file')
  })

  it('names AMBIENT_CONFIG_DIR when the folder cannot be created', () => {
    const blocker = path.join(tmp, 'file')
    fs.writeFileSync(blocker, '')
    const store = openSettingsStore({AMBIENT_CONFIG_DIR: path.join(blocker, 'config')})
    const err = configError(() => store.set('MODE', 'test'))
    expect(err.variable).toBe('AMBIENT_CONFIG_DIR')
    expect(err.exitCode).toBe(2)
    expect(err.message).toContain(path.join(blocker, 'config'))
    expect(err.message).toContain('ENOTDIR')
  })

  it('names the file when it is not JSON, or not an object', () => {
    const dir = path.join(tmp, 'config')
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'config.json'), '{"MODE": ')
    const corrupt = configError(() => loadConfig({env: {AMBIENT_CONFIG_DIR: dir}}))
    expect(corrupt.exitCode).toBe(2)
    expect(corrupt.message).toContain(path.join(dir, 'config.json'))
    expect(corrupt.message).toContain('not valid JSON')
    fs.writeFileSync(path.join(dir, 'config.json'), '["MODE"]')
    expect(configError(() => loadConfig({env: {AMBIENT_CONFIG_DIR: dir}})).message).toContain('does not hold a JSON object')
  })

  it('ignores what is not a setting of ours (conf bookkeeping, other keys)', () => {
    const dir = path.join(tmp, 'config')
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({__internal__: {migrations: {}}, MODE: 'test', OTHER: 'x', WORKER_COUNT: 4}))
    expect(openSettingsStore({AMBIENT_CONFIG_DIR: dir}).all()).toEqual({MODE: 'test'})
  })
})

describe('ensureDir', () => {
  it('creates a folder with its parents, or names the variable that moves it', () => {
    const dir = path.join(tmp, 'state', 'deep')
    expect(ensureDir({dir, variable: 'AMBIENT_STATE_DIR', purpose: 'test'})).toBe(dir)
    expect(fs.statSync(dir).isDirectory()).toBe(true)
    fs.writeFileSync(path.join(tmp, 'file'), '')
    const err = configError(() => ensureDir({dir: path.join(tmp, 'file', 'state'), variable: 'AMBIENT_STATE_DIR', purpose: 'the runner registry'}))
    expect(err.message).toMatch(
      /^AMBIENT_STATE_DIR: cannot create .*file\/state for the runner registry \(ENOTDIR: not a directory\); set AMBIENT_STATE_DIR to a writable folder$/,
    )
  })
})
