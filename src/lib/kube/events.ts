// Kubernetes Events (events.k8s.io/v1) for what kube mode does to an object, recorded the way
// client-go's tools/events recorder does: the first occurrence creates an Event, a repeat
// within the series window patches `series` (count 2 at once, later counts batched and flushed
// periodically), so a failure retried every second is one Event with a count, not thousands.
// Recording never throws and never blocks a reconcile.
import {V1MicroTime, type EventsV1Event} from '@kubernetes/client-node'
import {errorMessage} from '../errors.js'
import {silentLogger, type Logger} from '../log.js'
import type {Runnable} from '../lifecycle.js'
import {sleep} from '../util/abort.js'
import type {EventsClient} from './client.js'

export interface EventReference {
  apiVersion?: string
  kind: string
  name: string
  namespace?: string
  uid?: string
  resourceVersion?: string
}

export interface EventInput {
  regarding: EventReference
  type: 'Normal' | 'Warning'
  /** Why, in CamelCase (e.g. `InvalidSpec`, `Created`). */
  reason: string
  /** What kube mode did or failed to do (e.g. `Create`, `Reconcile`). */
  action: string
  /** Human-readable; at most 1 kB is kept. */
  note: string
}

export interface EventRecorderOptions {
  events: EventsClient
  /** reportingController, e.g. `ambient-code.io/control-plane`. */
  controller?: string
  /** reportingInstance: this replica (pod name). */
  instance: string
  logger?: Logger
  now?: () => number
  /** Repeats this close together join one series (client-go: 6 min). */
  seriesWindowMs?: number
  /** How often batched series counts are written (default 30000 ms). */
  flushIntervalMs?: number
  /** Entries kept for deduplication (oldest dropped first). */
  maxEntries?: number
  delay?: (ms: number, signal: AbortSignal) => Promise<void>
}

interface SeriesEntry {
  namespace: string
  name: string
  count: number
  writtenCount: number
  lastObserved: number
  /** Serialises the writes of one Event (create before any patch). */
  chain: Promise<void>
  failed: boolean
}

const NOTE_MAX = 1024

export class EventRecorder implements Runnable {
  readonly name = 'event-recorder'
  private readonly options: EventRecorderOptions
  private readonly logger: Logger
  private readonly now: () => number
  private readonly entries = new Map<string, SeriesEntry>()
  private readonly inFlight = new Set<Promise<void>>()
  private sequence = 0
  /** Counters for tests and metrics. */
  readonly stats = {created: 0, patched: 0, failed: 0, recorded: 0}

  constructor(options: EventRecorderOptions) {
    this.options = options
    this.logger = (options.logger ?? silentLogger).child({component: 'events'})
    this.now = options.now ?? Date.now
  }

  /** Flushes batched series counts periodically; on stop, flushes once more and drains. */
  async start(signal: AbortSignal): Promise<void> {
    const interval = this.options.flushIntervalMs ?? 30_000
    const delay = this.options.delay ?? sleep
    while (!signal.aborted) {
      await delay(interval, signal)
      this.flushSeries()
    }
    this.flushSeries()
    await this.drain()
  }

  record(input: EventInput): void {
    this.stats.recorded++
    const namespace = input.regarding.namespace || 'default'
    const note = input.note.length > NOTE_MAX ? `${input.note.slice(0, NOTE_MAX - 3)}...` : input.note
    const key = JSON.stringify([
      namespace,
      input.regarding.kind,
      input.regarding.name,
      input.regarding.uid ?? '',
      input.type,
      input.reason,
      input.action,
      note,
    ])
    const now = this.now()
    const window = this.options.seriesWindowMs ?? 6 * 60_000
    const existing = this.entries.get(key)
    if (existing && !existing.failed && now - existing.lastObserved <= window) {
      existing.count++
      existing.lastObserved = now
      // The second occurrence is written at once (as client-go does); later ones in batches.
      if (existing.count === 2) this.writeSeries(existing)
      return
    }
    const entry: SeriesEntry = {
      namespace,
      name: `${sanitizeName(input.regarding.name)}.${(BigInt(now) * 1_000_000n + BigInt(this.sequence++ % 1_000_000)).toString(16)}`,
      count: 1,
      writtenCount: 1,
      lastObserved: now,
      chain: Promise.resolve(),
      failed: false,
    }
    this.entries.delete(key)
    this.entries.set(key, entry)
    this.trim()
    const event: EventsV1Event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: {name: entry.name, namespace},
      eventTime: new V1MicroTime(now),
      reportingController: this.options.controller ?? 'ambient-code.io/control-plane',
      reportingInstance: this.options.instance,
      action: input.action,
      reason: input.reason,
      note,
      type: input.type,
      regarding: {...input.regarding, namespace: input.regarding.namespace || undefined},
    }
    this.enqueue(entry, async () => {
      await this.options.events.create(namespace, event)
      this.stats.created++
    })
  }

  /** Writes pending series counts now. */
  flushSeries(): void {
    const window = this.options.seriesWindowMs ?? 6 * 60_000
    const now = this.now()
    for (const [key, entry] of this.entries) {
      if (entry.count > entry.writtenCount && !entry.failed) this.writeSeries(entry)
      else if (now - entry.lastObserved > window) this.entries.delete(key)
    }
  }

  /** Resolves when every write started so far has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
  }

  private writeSeries(entry: SeriesEntry): void {
    this.enqueue(entry, async () => {
      const count = entry.count
      if (count <= entry.writtenCount) return
      await this.options.events.patch(entry.namespace, entry.name, {
        series: {count, lastObservedTime: new V1MicroTime(entry.lastObserved)},
      })
      entry.writtenCount = count
      this.stats.patched++
    })
  }

  private enqueue(entry: SeriesEntry, write: () => Promise<void>): void {
    const run = entry.chain.then(async () => {
      if (entry.failed) return
      try {
        await write()
      } catch (err) {
        // Forget the series: the next occurrence starts a fresh Event.
        entry.failed = true
        this.stats.failed++
        this.logger.warn({err: errorMessage(err), event: `${entry.namespace}/${entry.name}`}, 'could not record event')
      }
    })
    entry.chain = run
    this.inFlight.add(run)
    void run.finally(() => this.inFlight.delete(run))
  }

  private trim(): void {
    const max = this.options.maxEntries ?? 4096
    while (this.entries.size > max) {
      const oldest = this.entries.keys().next().value
      if (oldest === undefined) break
      this.entries.delete(oldest)
    }
  }
}

/** Event names are `<object>.<unique suffix>`; an object name that is not a valid prefix is cleaned. */
function sanitizeName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 200)
  return cleaned.replace(/[^a-z0-9]+$/, '') || 'object'
}
