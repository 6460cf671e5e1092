import {execFile} from 'node:child_process'
import path from 'node:path'
import {promisify} from 'node:util'
import {describe, expect, it} from 'vitest'

const root = path.resolve(import.meta.dirname, '../..')
const run = promisify(execFile)

describe('ambient --help', () => {
  it('lists the command topics', async () => {
    const {stdout} = await run(process.execPath, [path.join(root, 'bin/run.js'), '--help'], {cwd: root})
    for (const topic of [
      'api-server',
      'config',
      'diff',
      'echo-runner',
      'project-settings',
      'projects',
      'proxy',
      'run',
      'runners',
      'sessions',
      'watch',
    ]) {
      expect(stdout).toMatch(new RegExp(`^\\s+${topic}\\s`, 'm'))
    }
  })

  it('exits 2 naming the variable when a setting is invalid', async () => {
    const err = await run(process.execPath, [path.join(root, 'bin/run.js'), 'config', 'get', 'MODE'], {
      cwd: root,
      env: {...process.env, MODE: 'bogus', AMBIENT_CONFIG_DIR: path.join(root, '.tmp', 'cfg-help-test')},
    }).then(
      () => undefined,
      (e: {code: number; stderr: string}) => e,
    )
    expect(err?.code).toBe(2)
    expect(err?.stderr).toContain('MODE')
    expect(err?.stderr).toContain('kube, local, test')
  })
})
