// The live table of `ambient watch`: rows update in place, a changed row is highlighted for
// a moment (green added, yellow modified, red deleted, then gone), and the newest events are
// listed below. The log is a bounded list rather than <Static>: Static prints each item once
// by index, which a sliding window of lines would break.
import {Box, Text, useWindowSize} from 'ink'
import {useState, useSyncExternalStore} from 'react'
import {connectionColor, formatAge, formatDuration, oneLine, phaseColor, type TuiColor} from './format.js'
import {mountView, useInterval, ViewRoot, type QuitOptions, type TerminalStreams} from './lifecycle.js'
import type {WatchChange, WatchLogLine, WatchRow} from './model.js'
import {Table, type RowStyle, type TableColumn} from './table.js'
import type {WatchModel} from './watch-model.js'
import {sanitize} from '../util/sanitize.js'

export {WatchModel} from './watch-model.js'
export type {WatchCounts, WatchFilters, WatchModelEvent, WatchModelOptions, WatchObject, WatchSort} from './watch-model.js'

export const CHANGE_COLOR: Record<WatchChange, TuiColor> = {ADDED: 'green', MODIFIED: 'yellow', DELETED: 'red'}
/** Shown in the first column while a row is highlighted, so a change reads without colour too. */
export const CHANGE_MARK: Record<WatchChange, string> = {ADDED: '+', MODIFIED: '~', DELETED: '-'}

export interface WatchViewProps {
  model: WatchModel
  /** What is watched, e.g. "sessions". */
  title: string
  /** Wall clock (ms) for ages and highlights. */
  now: number
  /** Terminal size in cells; `rows` bounds the table so the frame never scrolls. */
  columns: number
  rows?: number
  keysEnabled?: boolean
  /** Log lines shown under the table. */
  logLines?: number
}

function watchColumns(now: number): TableColumn<WatchRow>[] {
  return [
    {header: '', cell: (r) => (r.highlighted ? CHANGE_MARK[r.lastChange] : ' '), min: 1},
    {header: 'id', cell: (r) => r.id, min: 8},
    {header: 'name', cell: (r) => r.name || '<none>', min: 8},
    {header: 'phase', cell: (r) => r.phase || '<none>', color: (r) => phaseColor(r.phase)},
    {header: 'project', cell: (r) => r.project || '<none>', min: 7},
    {header: 'age', cell: (r) => formatAge(r.createdAt, now)},
    {header: 'last-change', cell: (r) => `${r.lastChange} ${formatDuration(now - r.changedAt)} ago`},
  ]
}

function rowStyle(row: WatchRow): RowStyle | undefined {
  return row.highlighted ? {color: CHANGE_COLOR[row.lastChange], inverse: row.lastChange !== 'MODIFIED'} : undefined
}

export function WatchView({model, title, now, columns, rows: height, keysEnabled = false, logLines = 8}: WatchViewProps) {
  // Re-render whenever the model changes, whoever mounted us.
  useSyncExternalStore(model.subscribe, model.getVersion)
  const width = Math.max(20, columns)
  const rows = model.rows(now)
  const counts = model.counts(now)
  const log = model.log()
  const lastError = model.lastError

  // Fit the frame in the terminal: a frame taller than the screen cannot be redrawn in place.
  const available = (height ?? Number.POSITIVE_INFINITY) - 1
  const chrome = 1 + (lastError ? 1 : 0) + 1 + 1 + (keysEnabled ? 1 : 0)
  // The table matters more than the log: the log gets at most a third of the screen.
  let logShown = Math.min(logLines, Math.max(1, log.length), Math.max(1, Math.floor(available / 3)))
  let tableRoom = available - chrome - logShown
  const wanted = Math.min(3, rows.length)
  if (tableRoom < wanted) {
    logShown = Math.max(0, logShown - (wanted - tableRoom))
    tableRoom = available - chrome - logShown
  }
  const overflow = rows.length > tableRoom
  const visible = overflow ? rows.slice(0, Math.max(0, tableRoom - 1)) : rows

  return (
    <Box flexDirection="column" width={width}>
      <StatusLine model={model} title={title} counts={counts} />
      {lastError && (
        <Text wrap="truncate-end" color="red">
          {`last error: ${oneLine(lastError)}`}
        </Text>
      )}
      <Table rows={visible} columns={watchColumns(now)} rowKey={(r) => r.id} width={width} rowStyle={rowStyle} />
      {overflow && <Text dimColor>{`… ${rows.length - visible.length} more`}</Text>}
      {rows.length === 0 && <Text dimColor>no matching objects</Text>}
      <EventLog lines={log.slice(log.length - logShown)} shown={logShown} />
      {keysEnabled && <Text dimColor>q quit</Text>}
    </Box>
  )
}

function StatusLine({model, title, counts}: {model: WatchModel; title: string; counts: ReturnType<WatchModel['counts']>}) {
  const {project, phase, name} = model.filters
  const filters = sanitize([project && `project=${project}`, phase && `phase=${phase}`, name && `name=${name}`].filter(Boolean).join(' '))
  const phases = Object.entries(counts.byPhase)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([p, n]) => `${sanitize(p)} ${n}`)
    .join('  ')
  const shown = counts.shown === counts.total ? `${counts.total}` : `${counts.shown} of ${counts.total}`
  return (
    <Text wrap="truncate-end">
      <Text bold>{sanitize(title)}</Text>
      {model.connection && (
        <>
          {'  '}
          <Text color={connectionColor(model.connection)}>{model.connection}</Text>
        </>
      )}
      {`  ${shown} shown`}
      {phases && `  ${phases}`}
      {'  '}
      <Text color="green">{`+${counts.events.ADDED}`}</Text> <Text color="yellow">{`~${counts.events.MODIFIED}`}</Text>{' '}
      <Text color="red">{`-${counts.events.DELETED}`}</Text>
      {filters && <Text dimColor>{`  [${filters}]`}</Text>}
    </Text>
  )
}

function clockTime(at: number): string {
  const d = new Date(at)
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
}

function EventLog({lines, shown}: {lines: readonly WatchLogLine[]; shown: number}) {
  if (shown === 0) return null
  return (
    <Box flexDirection="column" marginTop={0}>
      <Text dimColor>{lines.length === 0 ? 'events: none yet' : 'events'}</Text>
      {lines.map((line, i) => (
        // Lines are append-only and bounded, so their position plus time is a stable key.
        // biome-ignore lint/suspicious/noArrayIndexKey: see above; time and id alone can repeat
        <Text key={`${line.at}-${line.id}-${i}`} wrap="truncate-end">
          <Text dimColor>{clockTime(line.at)}</Text>
          {'  '}
          <Text color={CHANGE_COLOR[line.type]}>{line.type.padEnd(8)}</Text>
          {`  ${sanitize(line.id)}`}
          {line.name ? `  ${sanitize(line.name)}` : ''}
          {line.detail ? <Text dimColor>{`  ${oneLine(line.detail)}`}</Text> : ''}
        </Text>
      ))}
    </Box>
  )
}

export interface WatchViewOptions extends TerminalStreams, QuitOptions {
  model: WatchModel
  title: string
  /** Redraw period for ages and highlight expiry; model changes redraw at once. */
  tickMs?: number
  logLines?: number
  now?: () => number
}

function WatchApp({
  model,
  title,
  tickMs,
  logLines,
  now,
  keysEnabled,
}: {
  model: WatchModel
  title: string
  tickMs: number
  logLines?: number
  now: () => number
  keysEnabled: boolean
}) {
  const {columns, rows} = useWindowSize()
  useSyncExternalStore(model.subscribe, model.getVersion)
  const [at, setAt] = useState(now)
  useInterval(() => setAt(now()), tickMs)
  // A model change may arrive between ticks: read the clock again on every render.
  const current = Math.max(at, now())
  return <WatchView model={model} title={title} now={current} columns={columns} rows={rows} keysEnabled={keysEnabled} logLines={logLines} />
}

/** Draws the watch table until `signal` aborts or a quit key is pressed; resolves after unmount. */
export async function renderWatchView(options: WatchViewOptions): Promise<void> {
  const {model, title, tickMs = 250, logLines, now = Date.now, signal, onQuit, keepOpenOnQuit} = options
  await mountView(
    <ViewRoot signal={signal} onQuit={onQuit} keepOpenOnQuit={keepOpenOnQuit}>
      {({keysEnabled}) => <WatchApp model={model} title={title} tickMs={tickMs} logLines={logLines} now={now} keysEnabled={keysEnabled} />}
    </ViewRoot>,
    options,
  )
}
