// `ambient` starts where Kubernetes runs it: HOME `/` on a read-only root (here: a HOME that is
// a file, so nothing can be created under it), a uid without a passwd entry (os.userInfo()
// throws; SHELL unset). Every mode of `run` works there; what needs a folder names its variable.
import {execFile} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startApiServer, type ApiServer} from '../../src/lib/server/index.js'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {assertBuilt, root, runCli, type CliResult} from '../commands/helpers.js'

const TOKEN = 'start-anywhere-token'
let api: ApiServer
let kube: FakeKube
let tmp: string
let home: string
let noUserInfo: string
let reportShell: string

beforeAll(async () => {
  assertBuilt(['run', 'config:ls'])
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-start-anywhere-'))
  home = path.join(tmp, 'home-is-a-file')
  fs.writeFileSync(home, '')
  // What a uid without a passwd entry sees: os.userInfo() throws (uv_os_get_passwd ENOENT).
  noUserInfo = path.join(tmp, 'no-user-info.cjs')
  fs.writeFileSync(noUserInfo, `require('node:os').userInfo = () => { throw new Error('os.userInfo() called: no passwd entry') }\n`)
  // Prints SHELL as the process leaves it: what a runner started by the command would inherit.
  reportShell = path.join(tmp, 'report-shell.cjs')
  fs.writeFileSync(reportShell, `process.on('exit', () => require('node:fs').writeSync(2, 'SHELL=' + JSON.stringify(process.env.SHELL) + '\\n'))\n`)
  api = await startApiServer({port: 0, grpcPort: 0, token: TOKEN})
  kube = await startFakeKube({namespaces: ['default', 'ambient-code']})
})

afterAll(async () => {
  await api?.close()
  await kube?.close()
  fs.rmSync(tmp, {recursive: true, force: true})
})

/** HOME under which nothing can be created, no settings or state folder configured. */
function homeless(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    HOME: home,
    XDG_CONFIG_HOME: undefined,
    AMBIENT_API_SERVER_URL: api.url,
    AMBIENT_GRPC_SERVER_ADDR: api.grpcAddress,
    AMBIENT_API_TOKEN: TOKEN,
    METRICS_ADDR: '0',
    PROBE_ADDR: '0',
    LOG_LEVEL: 'warn',
    ...extra,
  }
}

const ok = (r: CliResult) => expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)

function tallies(r: CliResult): string[] {
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as {type: string; resource: string})
    .filter((l) => l.type === 'TALLY')
    .map((l) => l.resource)
}

describe('a HOME where nothing can be created', () => {
  it('runs --version, config ls and run --once in test, kube and local mode', async () => {
    ok(await runCli(['--version'], homeless()))
    ok(await runCli(['config', 'ls'], homeless()))
    const test = await runCli(['run', '--mode', 'test', '--once', '--json'], homeless())
    ok(test)
    expect(tallies(test)).toEqual(['sessions', 'projects', 'project_settings'])
    const kubeRun = await runCli(
      ['run', '--mode', 'kube', '--once', '--json', '--kubeconfig', kube.kubeconfigPath],
      homeless({NAMESPACE: 'ambient-code'}),
    )
    ok(kubeRun)
    expect(tallies(kubeRun)).toEqual(['sessions', 'projects', 'project_settings'])
    // Local mode writes its state where it is told to (the image sets these under /tmp).
    const state = path.join(tmp, 'state')
    const local = await runCli(
      ['run', '--mode', 'local', '--once', '--json'],
      homeless({AMBIENT_STATE_DIR: state, LOCAL_WORKSPACE_ROOT: path.join(tmp, 'workspaces'), LOCAL_PROXY_ADDR: '127.0.0.1:0'}),
    )
    ok(local)
    expect(fs.statSync(home).isFile()).toBe(true)
  })

  it('names the folder a command needs when it cannot be created (exit 2)', async () => {
    const under = (name: string) => path.join(home, name)
    const set = await runCli(['config', 'set', 'MODE', 'test'], homeless())
    expect(set.code).toBe(2)
    expect(set.stderr).toContain('AMBIENT_CONFIG_DIR: cannot create')
    expect(set.stderr).toContain(path.join(home, '.config', 'ambient'))
    const embedded = await runCli(['run', '--mode', 'test', '--embedded', '--once', '--json', '--api-port', '0', '--grpc-port', '0'], homeless())
    expect(embedded.code).toBe(2)
    expect(embedded.stderr).toContain('AMBIENT_CONFIG_DIR: cannot create')
    const local = await runCli(
      ['run', '--mode', 'local', '--once', '--json'],
      homeless({AMBIENT_STATE_DIR: under('state'), LOCAL_PROXY_ADDR: '127.0.0.1:0'}),
    )
    expect(local.code).toBe(2)
    expect(local.stderr).toContain(`AMBIENT_STATE_DIR: cannot create ${under('state')}`)
  })

  it('lets run --embedded use its own token when AMBIENT_API_TOKEN_FILE is set (the Deployment sets one)', async () => {
    const tokenFile = path.join(tmp, 'token')
    fs.writeFileSync(tokenFile, 'the-cluster-token\n')
    const r = await runCli(
      ['run', '--mode', 'test', '--embedded', '--once', '--json', '--api-port', '0', '--grpc-port', '0'],
      homeless({AMBIENT_CONFIG_DIR: path.join(tmp, 'config'), AMBIENT_API_TOKEN: undefined, AMBIENT_API_TOKEN_FILE: tokenFile}),
    )
    ok(r)
    expect(tallies(r)).toEqual(['sessions', 'projects', 'project_settings'])
  })
})

describe('a uid without a passwd entry', () => {
  it('starts without SHELL although os.userInfo() throws', async () => {
    const env = homeless({SHELL: undefined, NODE_OPTIONS: `--require ${noUserInfo}`})
    const version = await runCli(['--version'], env)
    ok(version)
    expect(version.stdout).toMatch(/^ambient\/\S+ linux-/)
    ok(await runCli(['run', '--mode', 'test', '--once', '--json'], env))
    // The empty SHELL that start-up needed is gone before the command runs (children never see it).
    const ls = await runCli(['config', 'ls'], {...env, NODE_OPTIONS: `--require ${noUserInfo} --require ${reportShell}`})
    ok(ls)
    expect(ls.stderr.trim().split('\n').at(-1)).toBe('SHELL=undefined')
  })

  it.runIf(process.getuid?.() === 0)('starts as uid 10001 with HOME / (as root only: needs setuid)', async () => {
    const r = await new Promise<{code: number; stdout: string; stderr: string}>((resolve) => {
      execFile(
        process.execPath,
        [path.join(root, 'bin/run.js'), '--version'],
        {cwd: root, uid: 10001, gid: 10001, env: {PATH: process.env.PATH, HOME: '/'}, timeout: 60_000},
        (err, stdout, stderr) => resolve({code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr}),
      )
    })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^ambient\/\S+ linux-/)
  })
})
