import {describe, expect, it} from 'vitest'
import {appendFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {
  PortClaims,
  buildRunnerEnv,
  isSafeSessionId,
  parsePortRange,
  parseProcStat,
  readLogTail,
  slugify,
  tokenMatches,
  workspacePathFor,
} from '../../src/lib/process/index.js'
import {randomPortRange, tempDir} from './helpers.js'

describe('small pieces', () => {
  it('parses /proc/<pid>/stat even when comm has spaces and parentheses', () => {
    const fields = Array.from({length: 50}, (_, i) => String(i + 3))
    fields[0] = 'S'
    fields[1] = '10'
    fields[2] = '20'
    fields[3] = '30'
    fields[19] = '123456'
    const parsed = parseProcStat(`77 (we ird) (x) ${fields.join(' ')}`)
    expect(parsed).toEqual({pid: 77, comm: 'we ird) (x', state: 'S', ppid: 10, pgrp: 20, session: 30, startTicks: 123456})
    expect(parseProcStat('garbage')).toBeUndefined()
  })

  it('validates session ids as single path segments', () => {
    for (const ok of ['abc', '2hG7sK1x', 'a.b', 'a_b-c', 'A'.repeat(128)]) expect(isSafeSessionId(ok), ok).toBe(true)
    for (const bad of ['', '.', '..', '../a', 'a/b', '/a', 'a\0', ' a', 'a b', '-a', '.a', 'A'.repeat(129), 'é']) {
      expect(isSafeSessionId(bad), JSON.stringify(bad)).toBe(false)
    }
    expect(workspacePathFor('/root/ws', 'abc')).toBe('/root/ws/abc')
    expect(() => workspacePathFor('/root/ws', '..')).toThrow(/safe path segment/)
  })

  it('slugifies names and parses port ranges', () => {
    expect(slugify('My Cool Session!')).toBe('my-cool-session')
    expect(slugify('  Ünïcode -- name_2 ')).toBe('unicode-name-2')
    expect(parsePortRange('9100-9199')).toEqual({from: 9100, to: 9199})
    expect(parsePortRange(' 10 - 10 ')).toEqual({from: 10, to: 10})
    for (const bad of ['9199-9100', '0-10', '1-70000', 'abc', '9100']) {
      expect(() => parsePortRange(bad), bad).toThrow(/LOCAL_PORT_RANGE/)
    }
  })

  it('builds the env from the allowlist only and never passes environment_variables', () => {
    const env = buildRunnerEnv({
      hostEnv: {PATH: '/bin', SECRET: 'x', GIT_SSH: 'ssh', https_proxy: 'p', Https_Proxy: 'q', GITHUBX: 'no'},
      session: {id: 'abc', name: 'N'},
      port: 9100,
      workspace: '/w/abc',
      token: 't',
    })
    expect(env).toEqual({
      PATH: '/bin',
      GIT_SSH: 'ssh',
      https_proxy: 'p',
      SESSION_ID: 'abc',
      AGUI_PORT: '9100',
      AGUI_TOKEN: 't',
      WORKSPACE_PATH: '/w/abc',
      AGENTIC_SESSION_NAME: 'N',
      BOSS_AGENT_NAME: 'n',
    })
  })

  it('compares tokens', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true)
    expect(tokenMatches('abc', 'abd')).toBe(false)
    expect(tokenMatches('abc', 'ab')).toBe(false)
    expect(tokenMatches('abc', undefined)).toBe(false)
    expect(tokenMatches('abc', ['abc'])).toBe(false)
  })

  it('reads the log tail written after an offset, bounded', async () => {
    const {dir, cleanup} = await tempDir('tail')
    try {
      const file = path.join(dir, 'stderr.log')
      expect(await readLogTail(file)).toEqual([])
      await writeFile(file, 'old 1\nold 2\n')
      const offset = Buffer.byteLength('old 1\nold 2\n')
      expect(await readLogTail(file, {fromOffset: offset})).toEqual([])
      await appendFile(file, Array.from({length: 70}, (_, i) => `new ${i}`).join('\n'))
      const tail = await readLogTail(file, {fromOffset: offset})
      expect(tail).toHaveLength(50)
      expect(tail[0]).toBe('new 20')
      expect(tail.at(-1)).toBe('new 69')
      // A byte budget smaller than the text drops the cut first line.
      expect(await readLogTail(file, {fromOffset: offset, maxBytes: 14})).toEqual(['new 68', 'new 69'])
    } finally {
      await cleanup()
    }
  })
})

describe('PortClaims', () => {
  it('concurrent claims take turns: never the same port, and a released port can be claimed again', async () => {
    const from = randomPortRange().from
    // Every port binds, after a moment: only taking turns keeps two claims apart.
    const claims = new PortClaims({from, to: from + 39}, {isFree: () => new Promise((resolve) => setTimeout(() => resolve(true), 2))})
    const taken = async () => new Set<number>()
    const ports = await Promise.all(Array.from({length: 8}, () => claims.claim(taken)))
    expect(new Set(ports).size).toBe(8)
    const [first] = ports
    claims.release(first ?? 0)
    expect(await claims.claim(taken)).toBe(first)
  })

  it('leaves out the ports `taken` names, and says when none is left', async () => {
    const from = randomPortRange().from
    const claims = new PortClaims({from, to: from + 1})
    expect(await claims.claim(async () => new Set([from]))).toBe(from + 1)
    await expect(claims.claim(async () => new Set())).resolves.toBe(from)
    await expect(claims.claim(async () => new Set())).rejects.toMatchObject({code: 'ERR_NO_FREE_PORT'})
  })
})
