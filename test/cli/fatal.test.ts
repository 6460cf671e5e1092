// A failed command ends with its documented exit code and, when stderr is not a terminal (a
// container's log, a pipe, CI), exactly one JSON log line on stderr saying why; at a terminal,
// oclif's readable text.
import {execFile} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {assertBuilt, root, runCli, type CliResult} from '../commands/helpers.js'
import {freePort} from '../e2e/cli.js'

let tmp: string

beforeAll(() => {
  assertBuilt(['config:get', 'sessions:create', 'sessions:ls', 'run'])
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-fatal-'))
})

afterAll(() => {
  fs.rmSync(tmp, {recursive: true, force: true})
})

interface FatalLine {
  level: number
  time: number
  name: string
  msg: string
  exitCode: number
  err: {type: string; message: string; code?: string; stack?: string}
}

/** stderr must be exactly one JSON log line at level fatal, with the exit code the process ended with. */
function fatalLine(r: CliResult): FatalLine {
  const lines = r.stderr.split('\n').filter(Boolean)
  expect(lines, r.stderr).toHaveLength(1)
  const line = JSON.parse(lines[0]) as FatalLine
  expect(line).toMatchObject({level: 60, name: 'ambient', exitCode: r.code})
  expect(line.msg).toBe(line.err.message)
  return line
}

describe('fatal errors when stderr is not a terminal', () => {
  const env = () => ({AMBIENT_CONFIG_DIR: path.join(tmp, 'config')})

  it('invalid configuration: exit 2, the typed error and its code', async () => {
    const r = await runCli(['config', 'get', 'NOPE'], env())
    expect(r.code).toBe(2)
    const line = fatalLine(r)
    expect(line.err).toEqual({type: 'ConfigError', code: 'ERR_CONFIG', message: 'unknown setting NOPE: see `ambient config ls`'})
    const invalid = await runCli(['config', 'ls'], {...env(), WORKER_COUNT: 'abc'})
    expect(invalid.code).toBe(2)
    expect(fatalLine(invalid).msg).toContain('WORKER_COUNT')
  })

  it('usage errors and unknown commands: exit 2, no help text', async () => {
    const usage = await runCli(['sessions', 'create'], env())
    expect(usage.code).toBe(2)
    expect(fatalLine(usage).msg).toContain('Missing required flag name')
    const unknown = await runCli(['no-such-command'], env())
    expect(unknown.code).toBe(2)
    expect(fatalLine(unknown).msg).toContain('no-such-command')
  })

  it('an unreachable server: exit 1, also with --json (whose error object stays on stdout)', async () => {
    const server = `http://127.0.0.1:${await freePort()}`
    const text = await runCli(['sessions', 'ls', '--server', server, '--token', 't'], env())
    expect(text.code).toBe(1)
    expect(fatalLine(text).msg).toContain(server)
    const json = await runCli(['sessions', 'ls', '--server', server, '--token', 't', '--json'], env())
    expect(json.code).toBe(1)
    expect(fatalLine(json).msg).toContain(server)
    expect((JSON.parse(json.stdout) as {error: {message: string}}).error.message).toContain(server)
  })

  it('an error nobody expected keeps its stack', async () => {
    const script = `import {endWithError} from ${JSON.stringify(path.join(root, 'dist/lib/cli/fatal.js'))}; await endWithError(new TypeError('boom'))`
    const r = await new Promise<CliResult>((resolve) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], {timeout: 30_000}, (err, stdout, stderr) =>
        resolve({code: err ? Number(err.code) : 0, stdout, stderr}),
      )
    })
    expect(r.code).toBe(1)
    const line = fatalLine(r)
    expect(line.err.type).toBe('TypeError')
    expect(line.err.stack).toContain('TypeError: boom')
  })
})

describe('fatal errors at a terminal', () => {
  // `script` gives the command a pseudo-terminal (util-linux; present wherever the tests run).
  it.runIf(fs.existsSync('/usr/bin/script'))("print oclif's readable text, with the same exit code", async () => {
    const command = [process.execPath, path.join(root, 'bin/run.js'), 'config', 'get', 'NOPE'].map((a) => `'${a}'`).join(' ')
    const r = await new Promise<CliResult>((resolve) => {
      execFile(
        'script',
        ['-qefc', command, '/dev/null'],
        {env: {...process.env, AMBIENT_CONFIG_DIR: path.join(tmp, 'config'), NO_COLOR: '1'}, timeout: 60_000},
        (err, stdout, stderr) => resolve({code: err ? Number(err.code) : 0, stdout, stderr}),
      )
    })
    expect(r.code).toBe(2)
    expect(r.stdout).toContain('Error: unknown setting NOPE')
    expect(r.stdout).not.toContain('"level"')
  })
})
