import stringWidth from 'string-width'
import {describe, expect, it} from 'vitest'
import {fitCell, fitColumns, formatDuration, formatRate, formatUptime, oneLine, truncate} from '../../src/lib/tui/format.js'

describe('tui format helpers', () => {
  it('formats uptimes with a sub-unit', () => {
    expect(formatUptime(12_400)).toBe('12s')
    expect(formatUptime(5 * 60_000 + 3_000)).toBe('5m03s')
    expect(formatUptime(2 * 3_600_000 + 5 * 60_000)).toBe('2h05m')
    expect(formatUptime(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d04h')
    expect(formatUptime(-5)).toBe('0s')
  })

  it('formats durations like kubectl ages and rates with one decimal below 10', () => {
    expect(formatDuration(90_000)).toBe('90s')
    expect(formatDuration(10 * 60_000)).toBe('10m')
    expect(formatRate(0)).toBe('0')
    expect(formatRate(0.25)).toBe('0.3')
    expect(formatRate(42.4)).toBe('42')
  })

  it('truncates by terminal cells, wide characters included', () => {
    expect(truncate('abcdef', 4)).toBe('abc…')
    expect(truncate('abc', 3)).toBe('abc')
    expect(truncate('abc', 0)).toBe('')
    const cut = truncate('日本語テキスト', 6)
    expect(stringWidth(cut)).toBeLessThanOrEqual(6)
    expect(cut.endsWith('…')).toBe(true)
    expect(fitCell('7', 4, 'right')).toBe('   7')
    expect(oneLine('a\n\tb  c ')).toBe('a b c')
  })

  it('shrinks the widest columns first, never below their minimum', () => {
    expect(fitColumns([10, 4, 30], [4, 4, 8], 100, 2)).toEqual([10, 4, 30])
    // 10 + 4 + 30 + 4 gaps = 48 -> 40: the 30-wide column gives up all 8 cells.
    expect(fitColumns([10, 4, 30], [4, 4, 8], 40, 2)).toEqual([10, 4, 22])
    expect(fitColumns([10, 4, 30], [4, 4, 8], 5, 2)).toEqual([4, 4, 8])
  })
})
