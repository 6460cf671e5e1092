import {describe, expect, it} from 'vitest'
import {isRecord} from '../../src/lib/util/is-record.js'

describe('isRecord', () => {
  it('accepts plain objects only', () => {
    for (const yes of [{}, {a: 1}, Object.create(null) as object]) expect(isRecord(yes), JSON.stringify(yes)).toBe(true)
    for (const no of [null, undefined, [], [1], 'x', 0, true]) expect(isRecord(no), JSON.stringify(no)).toBe(false)
  })
})
