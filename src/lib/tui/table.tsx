// A kubectl-style table for Ink: upper-case headers, padded columns, widths fitted to the
// terminal. Each row is one <Text> line, so a row can be highlighted as a whole and never
// wraps (a wrapped row would shift every line below it on the next in-place redraw). Cells
// are server or runner text: sanitized before they are measured.
import {Box, Text} from 'ink'
import stringWidth from 'string-width'
import {fitCell, fitColumns, type TuiColor} from './format.js'
import {sanitize} from '../util/sanitize.js'

export interface TableColumn<T> {
  header: string
  cell: (row: T) => string
  color?: (row: T) => TuiColor | undefined
  align?: 'left' | 'right'
  /** Narrowest the column may be squeezed to; defaults to its header's width. */
  min?: number
}

export interface RowStyle {
  color?: TuiColor
  inverse?: boolean
}

export interface TableProps<T> {
  rows: readonly T[]
  columns: readonly TableColumn<T>[]
  rowKey: (row: T) => string
  /** Cells available for the table, indent included. */
  width: number
  indent?: number
  gap?: number
  rowStyle?: (row: T) => RowStyle | undefined
}

export function Table<T>({rows, columns, rowKey, width, indent = 0, gap = 2, rowStyle}: TableProps<T>) {
  const cells = rows.map((row) => columns.map((c) => sanitize(c.cell(row))))
  const natural = columns.map((c, i) => Math.max(stringWidth(c.header), ...cells.map((r) => stringWidth(r[i] ?? ''))))
  const min = columns.map((c, i) => Math.min(natural[i] ?? 0, c.min ?? stringWidth(c.header)))
  const widths = fitColumns(natural, min, Math.max(1, width - indent), gap)
  const spacer = ' '.repeat(gap)
  const lead = ' '.repeat(indent)
  const cellText = (text: string, i: number) => {
    const last = i === columns.length - 1
    const fitted = fitCell(text, widths[i] ?? 0, columns[i]?.align)
    return last ? fitted.trimEnd() : fitted + spacer
  }
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        {lead}
        {columns.map((c, i) => cellText(c.header.toUpperCase(), i)).join('')}
      </Text>
      {rows.map((row, r) => {
        const style = rowStyle?.(row)
        const styled = style !== undefined && (style.inverse === true || style.color !== undefined)
        return (
          <Text key={rowKey(row)} wrap="truncate-end" color={style?.color} inverse={style?.inverse}>
            {lead}
            {columns.map((c, i) => (
              // A highlighted row takes one colour; otherwise each cell may colour itself.
              <Text key={c.header} color={styled ? undefined : c.color?.(row)}>
                {cellText(cells[r]?.[i] ?? '', i)}
              </Text>
            ))}
          </Text>
        )
      })}
    </Box>
  )
}
