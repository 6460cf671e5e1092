// The live dashboard of `ambient run`: one table per informer/queue pair and, in local mode,
// the runner processes. Fed by a snapshot getter the command owns; re-read on an interval.
import {Box, Text, useWindowSize} from 'ink'
import {useRef, useState} from 'react'
import {connectionColor, formatAge, formatRate, formatUptime, oneLine, phaseColor, type TuiColor} from './format.js'
import {mountView, useInterval, ViewRoot, type QuitOptions, type TerminalStreams} from './lifecycle.js'
import type {ResourceStats, RunnerRow, RunSnapshot} from './model.js'
import {sanitize} from '../util/sanitize.js'
import {Table, type TableColumn} from './table.js'

export interface RunViewProps {
  snapshot: RunSnapshot
  /** Wall clock (ms) for uptimes. */
  now: number
  /** Terminal width in cells. */
  columns: number
  keysEnabled?: boolean
  /** Shown instead of the data when the last snapshot could not be read. */
  snapshotError?: string
}

const LEADER_COLOR: Record<NonNullable<RunSnapshot['leader']>, TuiColor> = {
  leading: 'green',
  following: 'yellow',
  disabled: 'gray',
}

export function RunView({snapshot, now, columns, keysEnabled = false, snapshotError}: RunViewProps) {
  const width = Math.max(20, columns)
  const showRunners = snapshot.mode === 'local' || (snapshot.runners?.length ?? 0) > 0
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate-end">
        <Text bold>ambient run</Text>
        {`  mode ${snapshot.mode}  up ${formatUptime(now - snapshot.startedAt)}`}
        {snapshot.leader && (
          <>
            {'  leader '}
            <Text color={LEADER_COLOR[snapshot.leader]}>{snapshot.leader}</Text>
          </>
        )}
      </Text>
      <Text wrap="truncate-end" dimColor>
        {`api ${sanitize(snapshot.apiServer)}`}
        {snapshot.proxyUrl ? `  proxy ${sanitize(snapshot.proxyUrl)}` : ''}
      </Text>
      {snapshot.stopping && (
        <Text wrap="truncate-end" color="yellow" bold>
          {`■ stopping…${snapshot.stoppingDetail ? ` ${oneLine(snapshot.stoppingDetail)}` : ''}`}
        </Text>
      )}
      {snapshotError && (
        <Text wrap="truncate-end" color="red">
          {`snapshot failed: ${oneLine(snapshotError)}`}
        </Text>
      )}
      {snapshot.resources.length === 0 && <Text dimColor>no resources yet</Text>}
      {snapshot.resources.map((r) => (
        <ResourceTable key={r.resource} stats={r} width={width} />
      ))}
      {showRunners && <RunnersTable runners={snapshot.runners ?? []} now={now} width={width} />}
      {keysEnabled && <Text dimColor>q quit</Text>}
    </Box>
  )
}

const COUNT_COLUMNS: TableColumn<ResourceStats>[] = [
  {header: 'cache', cell: (r) => String(r.cacheSize), align: 'right'},
  {header: 'added', cell: (r) => String(r.added), align: 'right'},
  {header: 'modified', cell: (r) => String(r.modified), align: 'right'},
  {header: 'deleted', cell: (r) => String(r.deleted), align: 'right'},
  {header: 'events/s', cell: (r) => formatRate(r.eventsPerSecond), align: 'right'},
  {header: 'queue', cell: (r) => String(r.queueDepth), align: 'right'},
  {header: 'in-flight', cell: (r) => String(r.inFlight), align: 'right'},
]

const RECONCILE_COLUMNS: TableColumn<ResourceStats>[] = [
  {header: 'ok', cell: (r) => String(r.reconciles?.ok ?? 0), align: 'right'},
  {
    header: 'errors',
    cell: (r) => String(r.reconciles?.error ?? 0),
    color: (r) => ((r.reconciles?.error ?? 0) > 0 ? 'red' : undefined),
    align: 'right',
  },
  {header: 'retries', cell: (r) => String(r.reconciles?.retries ?? 0), align: 'right'},
]

const RECONNECT_COLUMN: TableColumn<ResourceStats> = {
  header: 'reconnects',
  cell: (r) => String(r.reconnects),
  color: (r) => (r.reconnects > 0 ? 'yellow' : undefined),
  align: 'right',
}

function ResourceTable({stats, width}: {stats: ResourceStats; width: number}) {
  const columns = [...COUNT_COLUMNS, ...(stats.reconciles ? RECONCILE_COLUMNS : []), RECONNECT_COLUMN]
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text wrap="truncate-end">
        <Text bold>{sanitize(stats.resource)}</Text>
        {'  '}
        <Text color={connectionColor(stats.connection)}>{stats.connection}</Text>
        {'  '}
        <Text color={stats.synced ? 'green' : 'yellow'}>{stats.synced ? 'synced' : 'not synced'}</Text>
      </Text>
      <Table rows={[stats]} columns={columns} rowKey={(r) => r.resource} width={width} indent={2} />
      {stats.lastError && (
        <Text wrap="truncate-end" color="red">
          {`  last error: ${oneLine(stats.lastError)}`}
        </Text>
      )}
    </Box>
  )
}

function runnerColumns(now: number): TableColumn<RunnerRow>[] {
  return [
    {header: 'session', cell: (r) => r.sessionId, min: 8},
    {header: 'name', cell: (r) => r.name || '<none>', min: 6},
    {header: 'phase', cell: (r) => r.phase || '<none>', color: (r) => phaseColor(r.phase)},
    {header: 'pid', cell: (r) => String(r.pid), align: 'right'},
    {header: 'port', cell: (r) => String(r.port), align: 'right'},
    {header: 'uptime', cell: (r) => formatAge(r.startTime, now)},
  ]
}

function RunnersTable({runners, now, width}: {runners: RunnerRow[]; now: number; width: number}) {
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>{`runners (${runners.length})`}</Text>
      {runners.length === 0 ? (
        <Text dimColor> none</Text>
      ) : (
        <Table rows={runners} columns={runnerColumns(now)} rowKey={(r) => r.sessionId} width={width} indent={2} />
      )}
    </Box>
  )
}

export interface RunViewOptions extends TerminalStreams, QuitOptions {
  getSnapshot: () => RunSnapshot
  /** How often the snapshot is re-read; frames are still capped at 10 a second. */
  refreshMs?: number
  now?: () => number
}

interface Frame {
  snapshot: RunSnapshot
  at: number
  error?: string
}

function RunApp({
  getSnapshot,
  refreshMs,
  now,
  keysEnabled,
}: {
  getSnapshot: () => RunSnapshot
  refreshMs: number
  now: () => number
  keysEnabled: boolean
}) {
  const {columns} = useWindowSize()
  // A fresh object every tick: the getter may return the same mutated snapshot each time.
  const read = (previous?: Frame): Frame => {
    try {
      return {snapshot: getSnapshot(), at: now()}
    } catch (error) {
      if (!previous) throw error
      return {snapshot: previous.snapshot, at: now(), error: error instanceof Error ? error.message : String(error)}
    }
  }
  const [frame, setFrame] = useState<Frame>(() => read())
  const last = useRef(frame)
  last.current = frame
  useInterval(() => setFrame(read(last.current)), refreshMs)
  return <RunView snapshot={frame.snapshot} now={frame.at} columns={columns} keysEnabled={keysEnabled} snapshotError={frame.error} />
}

/** Draws the dashboard until `signal` aborts or a quit key is pressed; resolves after unmount. */
export async function renderRunView(options: RunViewOptions): Promise<void> {
  const {getSnapshot, refreshMs = 100, now = Date.now, signal, onQuit, keepOpenOnQuit} = options
  await mountView(
    <ViewRoot signal={signal} onQuit={onQuit} keepOpenOnQuit={keepOpenOnQuit}>
      {({keysEnabled}) => <RunApp getSnapshot={getSnapshot} refreshMs={refreshMs} now={now} keysEnabled={keysEnabled} />}
    </ViewRoot>,
    options,
  )
}
