// Shared pieces of the process tests: temp dirs, a port range of our own, sessions, polling.
import {mkdtemp, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import http from 'node:http'
import type {Session} from '../../src/lib/api/types.js'
import type {RunnerRecord} from '../../src/lib/process/index.js'

export const FIXTURE = fileURLToPath(new URL('./fixtures/runner.mjs', import.meta.url))

export function fixtureCommand(mode: string): string[] {
  return [process.execPath, FIXTURE, mode]
}

export async function tempDir(prefix: string): Promise<{dir: string; cleanup: () => Promise<void>}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `ambient-${prefix}-`))
  return {dir, cleanup: () => rm(dir, {recursive: true, force: true})}
}

/** A random 40-port range, so parallel test files (and other engineers' runs) rarely meet. */
/**
 * A random block of 40 ports below Linux's ephemeral range (32768-60999), where outgoing
 * connections and port-0 listeners of other processes never land.
 */
export function randomPortRange(): {from: number; to: number} {
  const from = 10_000 + Math.floor(Math.random() * 450) * 50
  return {from, to: from + 39}
}

let counter = 0
export function makeSession(overrides: Partial<Session> = {}): Session {
  counter += 1
  const id = `s${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 6)}`
  return {id, kind: 'Session', href: `/api/ambient/v1/sessions/${id}`, created_at: '', updated_at: '', name: `session ${counter}`, ...overrides}
}

/** Polls `check` until it returns a truthy value; fails after `timeoutMs`. No fixed sleeps. */
export {waitFor} from '../helpers/wait.js'

export function getJson(port: number, pathName: string, headers: Record<string, string> = {}): Promise<{status: number; body: unknown}> {
  return new Promise((resolve, reject) => {
    const req = http.get({host: '127.0.0.1', port, path: pathName, headers, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let body: unknown = text
        try {
          body = JSON.parse(text)
        } catch {
          // not JSON: keep the text
        }
        resolve({status: res.statusCode ?? 0, body})
      })
    })
    req.on('error', reject)
  })
}

/** A registry record of a made-up runner (nothing runs under its pid). */
export function runnerRecord(overrides: Partial<RunnerRecord> = {}): RunnerRecord {
  return {
    sessionId: 'abc',
    pid: 4242,
    pgid: 4242,
    port: 9100,
    workspace: '/tmp/ws/abc',
    command: 'python local_entry.py',
    startTime: new Date(0).toISOString(),
    processStartTicks: 1,
    token: 'tok',
    ownerPid: process.pid,
    stderrOffset: 0,
    ...overrides,
  }
}
