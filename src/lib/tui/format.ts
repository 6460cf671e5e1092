// Text helpers for the terminal views: durations, rates, width-aware truncation and colour
// choices. Plain functions so the layout rules are testable without rendering.
import stringWidth from 'string-width'
import type {ConnectionState} from './model.js'
import {sanitize} from '../util/sanitize.js'

/** "12s", "5m03s", "2h05m", "3d04h": uptime with one sub-unit, so it visibly ticks. */
export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${pad2(s % 60)}s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h${pad2(m % 60)}m`
  return `${Math.floor(h / 24)}d${pad2(h % 24)}h`
}

/** "3s", "5m", "2h", "4d" from a millisecond duration: kubectl's age format. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 120) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 120) return `${m}m`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h`
  return `${Math.floor(h / 24)}d`
}

/** Events per second: one decimal below 10 so a trickle does not read as zero. */
/** "3s", "5m", "2h", "4d": the age format kubectl uses. */
export function formatAge(fromIso: string | undefined, now = Date.now()): string {
  if (!fromIso) return '<unknown>'
  const ms = now - Date.parse(fromIso)
  if (!Number.isFinite(ms)) return '<unknown>'
  return formatDuration(ms)
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0'
  return perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond))
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** Collapses newlines and tabs, and escapes control characters: a status line stays one line of text. */
export function oneLine(text: string): string {
  return sanitize(text.replace(/\s+/g, ' ').trim())
}

const graphemes = new Intl.Segmenter(undefined, {granularity: 'grapheme'})

/** Cuts `text` to at most `width` terminal cells, ending with "…" when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return ''
  if (stringWidth(text) <= width) return text
  if (width === 1) return '…'
  let out = ''
  let used = 0
  for (const {segment} of graphemes.segment(text)) {
    const w = stringWidth(segment)
    if (used + w > width - 1) break
    out += segment
    used += w
  }
  return `${out}…`
}

/** Truncates then pads with spaces to exactly `width` cells (left- or right-aligned). */
export function fitCell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width)
  const fill = ' '.repeat(Math.max(0, width - stringWidth(cut)))
  return align === 'right' ? fill + cut : cut + fill
}

/**
 * Column widths that fit `available` cells: each column starts at its natural width and the
 * widest columns give up cells first, never below their minimum. If even the minimums do not
 * fit, the minimums are returned and the terminal clips the line.
 */
export function fitColumns(natural: readonly number[], min: readonly number[], available: number, gap: number): number[] {
  const widths = [...natural]
  const floor = widths.map((w, i) => Math.min(w, min[i] ?? 1))
  let overflow = widths.reduce((a, b) => a + b, 0) + gap * Math.max(0, widths.length - 1) - available
  while (overflow > 0) {
    let widest = -1
    let widestWidth = 0
    for (const [i, w] of widths.entries()) {
      if (w > (floor[i] ?? 1) && (widest < 0 || w > widestWidth)) {
        widest = i
        widestWidth = w
      }
    }
    if (widest < 0) break
    widths[widest] = widestWidth - 1
    overflow--
  }
  return widths
}

/** Terminal colour names understood by Ink's `<Text color>`. */
export type TuiColor = 'green' | 'yellow' | 'red' | 'cyan' | 'blue' | 'magenta' | 'gray' | 'white'

export function connectionColor(state: ConnectionState): TuiColor {
  switch (state) {
    case 'watching':
      return 'green'
    case 'polling':
      return 'cyan'
    case 'connecting':
    case 'listing':
      return 'yellow'
    case 'backoff':
      return 'red'
    case 'stopped':
      return 'gray'
  }
}

export function phaseColor(phase: string | undefined): TuiColor | undefined {
  switch (phase) {
    case 'Running':
      return 'green'
    case 'Pending':
    case 'Creating':
      return 'yellow'
    case 'Stopping':
      return 'magenta'
    case 'Completed':
      return 'blue'
    case 'Failed':
      return 'red'
    case 'Stopped':
      return 'gray'
    default:
      return undefined
  }
}
