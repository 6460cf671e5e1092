// Terminal escape injection through the commands' human views: the built CLI, as a real
// process, against a hostile API server (every string it chooses carries an OSC title, a
// screen clear, an OSC 52 clipboard write, C1/DEL bytes and a bidi override), a hostile
// runner record and a fake Kubernetes API. No raw control character may reach stdout or
// stderr; the text is shown escaped instead. Under --json the output stays exact JSON.
import fs from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startFakeKube, type FakeKube} from '../fake-kube/index.js'
import {assertBuilt, runCli, tempConfigDir, type CliResult} from '../commands/helpers.js'
import {expectNoRawControls, HOSTILE, HOSTILE_SHOWN} from '../helpers/hostile.js'
import {REFUSED_ID, PLAIN_ID, startHostileApi, type HostileApi} from '../helpers/hostile-api.js'

let api: HostileApi
let kube: FakeKube
let configDir: string
let stateDir: string

beforeAll(async () => {
  assertBuilt(['sessions:ls', 'sessions:get', 'projects:ls', 'project-settings:ls', 'runners:ls', 'diff'])
  api = await startHostileApi()
  kube = await startFakeKube({namespaces: ['default', 'ambient-code']})
  configDir = tempConfigDir()
  stateDir = tempConfigDir()
  // A runner record as a runner (or anyone who can write the state directory) could leave it.
  const runners = path.join(stateDir, 'runners')
  fs.mkdirSync(runners, {recursive: true, mode: 0o700})
  const record = {
    sessionId: 'forged-1',
    pid: 2 ** 22 - 3,
    pgid: 2 ** 22 - 3,
    port: 1,
    workspace: HOSTILE,
    command: HOSTILE,
    startTime: HOSTILE,
    processStartTicks: 1,
    token: 't',
    ownerPid: 2 ** 22 - 5,
  }
  fs.writeFileSync(path.join(runners, 'forged-1.json'), JSON.stringify(record), {mode: 0o600})
})

afterAll(async () => {
  await api?.close()
  await kube?.close()
  for (const dir of [configDir, stateDir]) if (dir) fs.rmSync(dir, {recursive: true, force: true})
})

function cli(args: readonly string[]): Promise<CliResult> {
  const connection = args[0] === 'runners' ? [] : ['--server', api.url, '--token', 't']
  return runCli([...args, ...connection], {AMBIENT_CONFIG_DIR: configDir, AMBIENT_STATE_DIR: stateDir, KUBECONFIG: kube.kubeconfigPath, MODE: 'kube'})
}

/** stderr as a person would read it: JSON log lines by their message, other text as is. */
function readableStderr(stderr: string): string {
  return stderr
    .split('\n')
    .map((line) => {
      if (!line.startsWith('{')) return line
      const record = JSON.parse(line) as {msg?: unknown}
      return typeof record.msg === 'string' ? record.msg : line
    })
    .join('\n')
}

function expectSafe(result: CliResult, what: string): void {
  expectNoRawControls(result.stdout, `${what} (stdout)`)
  expectNoRawControls(result.stderr, `${what} (stderr)`)
}

const HUMAN_VIEWS: {args: string[]; code?: number}[] = [
  {args: ['sessions', 'ls']},
  {args: ['sessions', 'ls', '--page', '1']},
  {args: ['sessions', 'get', PLAIN_ID]},
  {args: ['sessions', 'create', '--name', 'x']},
  {args: ['sessions', 'start', PLAIN_ID]},
  {args: ['sessions', 'stop', PLAIN_ID]},
  {args: ['sessions', 'get', REFUSED_ID], code: 1},
  {args: ['projects', 'ls']},
  {args: ['projects', 'get', PLAIN_ID]},
  {args: ['projects', 'create', '--name', 'team-a']},
  {args: ['project-settings', 'ls']},
  {args: ['project-settings', 'get', PLAIN_ID]},
  {args: ['project-settings', 'create', '--project-id', 'p']},
  {args: ['runners', 'ls']},
  {args: ['diff', 'sessions'], code: 1},
]

describe('human views show hostile strings escaped, never raw', () => {
  it.each(HUMAN_VIEWS.map((v) => [v.args.join(' '), v] as const))('%s', {timeout: 60_000}, async (_name, view) => {
    const result = await cli(view.args)
    expect(result.code, result.stderr).toBe(view.code ?? 0)
    expectSafe(result, view.args.join(' '))
    // Shown, not dropped: the operator can still see what the server sent (oclif wraps
    // long error lines, hence without white space). A failure's stderr is one JSON log line
    // here (not a terminal): its message is what a person reads.
    const shown = `${result.stdout}${readableStderr(result.stderr)}`.replace(/[\s›]+/g, '')
    expect(shown).toContain(view.args[0] === 'diff' ? '\\x1b]0;pwned\\x07' : HOSTILE_SHOWN)
  })
})

describe('--json stays exact JSON', () => {
  it.each(['sessions ls', `sessions get ${PLAIN_ID}`, 'projects ls', 'project-settings ls', 'runners ls'])(
    '%s --json',
    {timeout: 60_000},
    async (command) => {
      const result = await cli([...command.split(' '), '--json'])
      expect(result.code, result.stderr).toBe(0)
      expectSafe(result, `${command} --json`)
      const parsed = JSON.stringify(JSON.parse(result.stdout))
      // The very same strings come back out of the JSON.
      expect(parsed).toContain(JSON.stringify(HOSTILE).slice(1, -1))
    },
  )

  it('an error under --json keeps the server reason exactly', {timeout: 60_000}, async () => {
    const result = await cli(['sessions', 'get', REFUSED_ID, '--json'])
    expect(result.code).toBe(1)
    expectSafe(result, 'sessions get --json (error)')
    const body = JSON.parse(result.stdout) as {error: {message: string; reason: string}}
    expect(body.error.message).toContain(HOSTILE)
    expect(body.error.reason).toBe(`sessions: ${HOSTILE}`)
  })

  it('diff --json: one exact JSON object per change', {timeout: 60_000}, async () => {
    const result = await cli(['diff', 'sessions', '--json'])
    expect(result.code, result.stderr).toBe(1)
    expectSafe(result, 'diff --json')
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown)
    expect(JSON.stringify(lines)).toContain(JSON.stringify(HOSTILE).slice(1, -1))
  })
})
