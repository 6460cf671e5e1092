import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {readFile, readdir, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {RotatingLog} from '../../src/lib/process/log-rotate.js'
import {readLogTail} from '../../src/lib/process/index.js'
import {tempDir} from './helpers.js'

let root: {dir: string; cleanup: () => Promise<void>}

beforeEach(async () => {
  root = await tempDir('rotate')
})

afterEach(async () => {
  await root.cleanup()
})

async function files(): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of (await readdir(root.dir)).sort()) out[name] = await readFile(path.join(root.dir, name), 'utf8')
  return out
}

const lines = (from: number, to: number) => Array.from({length: to - from + 1}, (_, i) => `line ${from + i}\n`).join('')

describe('RotatingLog', () => {
  it('cuts after the last whole line that fits, newest file live, oldest beyond `files` deleted', async () => {
    const log = new RotatingLog({file: path.join(root.dir, 'out.log'), maxBytes: 20, files: 3})
    await log.open()
    // "line N\n" is 7 bytes: two fit in 20, a third does not.
    await log.write(Buffer.from(lines(1, 9)))
    await log.close()
    expect(await files()).toEqual({'out.log': lines(9, 9), 'out.log.1': lines(7, 8), 'out.log.2': lines(5, 6)})
    for (const name of Object.keys(await files())) expect((await stat(path.join(root.dir, name))).mode & 0o777).toBe(0o600)
  })

  it('splits only a line longer than a whole file', async () => {
    const log = new RotatingLog({file: path.join(root.dir, 'out.log'), maxBytes: 8, files: 3})
    await log.write(Buffer.from('ab\n0123456789ABCDEF\n'))
    await log.close()
    // "ab\n" fits whole; the 17-byte line is cut into 8-byte pieces; "ab\n" is rotated out.
    expect(await files()).toEqual({'out.log': '\n', 'out.log.1': '89ABCDEF', 'out.log.2': '01234567'})
  })

  it('with one file, starts the live file over', async () => {
    const log = new RotatingLog({file: path.join(root.dir, 'out.log'), maxBytes: 14, files: 1})
    await log.write(Buffer.from(lines(1, 5)))
    await log.close()
    expect(await files()).toEqual({'out.log': lines(5, 5)})
  })

  it('rotates a file found full on open, and continues one that has room', async () => {
    await writeFile(path.join(root.dir, 'out.log'), lines(1, 3))
    const full = new RotatingLog({file: path.join(root.dir, 'out.log'), maxBytes: 21, files: 2})
    expect(await full.open()).toMatchObject({size: 0})
    await full.write(Buffer.from(lines(4, 4)))
    await full.close()
    expect(await files()).toEqual({'out.log': lines(4, 4), 'out.log.1': lines(1, 3)})
    const roomy = new RotatingLog({file: path.join(root.dir, 'out.log'), maxBytes: 100, files: 2})
    expect(await roomy.open()).toMatchObject({size: 7})
    await roomy.close()
  })
})

describe('readLogTail over rotated files', () => {
  it('reads back to where the run started, across rotations, and no further', async () => {
    const file = path.join(root.dir, 'stderr.log')
    const log = new RotatingLog({file, maxBytes: 50, files: 4})
    await log.write(Buffer.from('old run 1\nold run 2\n'))
    const start = await log.open()
    await log.write(Buffer.from(lines(1, 12)))
    await log.close()
    const all = await files()
    // The run started in what is now an older file, behind the earlier run's lines.
    expect(Object.keys(all)).toEqual(['stderr.log', 'stderr.log.1', 'stderr.log.2'])
    expect(all['stderr.log.2'].startsWith('old run 1\nold run 2\nline 1\n')).toBe(true)
    expect(await readLogTail(file, {fromOffset: start.size, fromIno: start.ino})).toEqual(lines(1, 12).trimEnd().split('\n'))
    expect(await readLogTail(file, {fromOffset: start.size, fromIno: start.ino, maxLines: 3})).toEqual(['line 10', 'line 11', 'line 12'])
    // Without the inode (an older record): only the live file.
    expect(await readLogTail(file, {fromOffset: 0})).toEqual(all['stderr.log'].trimEnd().split('\n'))
  })
})
