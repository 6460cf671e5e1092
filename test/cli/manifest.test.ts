// The committed oclif.manifest.json must match the commands that `npm run build` compiles:
// a stale manifest makes oclif show old help and slows start-up to a full command scan.
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

const root = path.resolve(import.meta.dirname, '../..')

function commandFiles(dir: string, prefix: string[] = []): string[] {
  const out: string[] = []
  for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
    if (entry.isDirectory()) out.push(...commandFiles(path.join(dir, entry.name), [...prefix, entry.name]))
    else if (entry.name.endsWith('.ts')) out.push([...prefix, entry.name.slice(0, -3)].filter((p) => p !== 'index').join(':'))
  }
  return out
}

describe('oclif manifest', () => {
  it('lists exactly the commands in src/commands', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    expect(Object.keys(manifest.commands).sort()).toEqual(commandFiles(path.join(root, 'src/commands')).sort())
  })

  it('is committed as built (run `npm run build` and commit oclif.manifest.json)', () => {
    let committed: string
    try {
      committed = execFileSync('git', ['show', 'HEAD:oclif.manifest.json'], {cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
    } catch {
      return // not a git checkout (e.g. an unpacked tarball): nothing to compare with
    }
    const built = JSON.parse(fs.readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8')) as {commands: unknown}
    expect(built.commands).toEqual((JSON.parse(committed) as {commands: unknown}).commands)
  })
})
