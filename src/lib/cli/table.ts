// kubectl-style tables: upper-case headers, columns padded to the widest cell, no borders,
// so they read on a terminal and still split on whitespace in a pipe. Cells are server or
// runner text: sanitized, so each one is one line of inert characters.
import stringWidth from 'string-width'
export {formatAge} from '../tui/format.js'
import {sanitizeValue} from '../util/sanitize.js'

export interface Column<T> {
  header: string
  get: (row: T) => string | number | boolean | undefined
}

export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) =>
    columns.map((c) => {
      const v = c.get(row)
      return v === undefined || v === '' ? '<none>' : sanitizeValue(v)
    }),
  )
  const headers = columns.map((c) => c.header.toUpperCase())
  const widths = headers.map((h, i) => Math.max(stringWidth(h), ...cells.map((r) => stringWidth(r[i] ?? ''))))
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - stringWidth(cell) + 3)))
      .join('')
      .trimEnd()
  return [line(headers), ...cells.map(line)].join('\n')
}
