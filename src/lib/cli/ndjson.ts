// The NDJSON lines of `ambient run --json` and `ambient watch --json`: one object per
// informer event, and TALLY lines at the end. Stdout carries these and nothing else.
import type {ObjectMeta} from '../api/types.js'
import type {ResourceEvent, ResourceEventType} from '../informer/index.js'
import {terminalSafeJson} from '../util/sanitize.js'

export interface EventLine {
  type: ResourceEventType
  resource: string
  id: string
  updated_at: string
  name?: string
  phase?: string
  project_id?: string
}

export interface TallyLine {
  type: 'TALLY'
  resource: string
  added: number
  modified: number
  deleted: number
}

export function eventLine<T extends ObjectMeta>(event: ResourceEvent<T>): EventLine {
  const o: ObjectMeta & {name?: unknown; phase?: unknown; project_id?: unknown} = event.object
  const line: EventLine = {type: event.type, resource: event.resource, id: o.id, updated_at: o.updated_at}
  if (typeof o.name === 'string') line.name = o.name
  if (typeof o.phase === 'string') line.phase = o.phase
  if (typeof o.project_id === 'string') line.project_id = o.project_id
  return line
}

/** Writes lines to stdout, respecting back-pressure of a slow pipe without losing a line. */
export class NdjsonWriter {
  private pending: string[] = []
  private waiting = false

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  write(value: object): void {
    this.writeLine(`${terminalSafeJson(JSON.stringify(value))}\n`)
  }

  private writeLine(line: string): void {
    if (this.waiting) {
      this.pending.push(line)
      return
    }
    if (!this.out.write(line)) {
      this.waiting = true
      this.out.once('drain', () => this.flushPending())
    }
  }

  private flushPending(): void {
    this.waiting = false
    const lines = this.pending
    this.pending = []
    for (const line of lines) this.writeLine(line)
  }

  /** Resolves once everything written so far has left the process. */
  async flush(): Promise<void> {
    while (this.waiting || this.pending.length > 0) {
      await new Promise((resolve) => this.out.once('drain', resolve))
    }
    await new Promise<void>((resolve) => this.out.write('', () => resolve()))
  }
}
