// The import direction, checked: every module of src/ imports only from layers below its own
// (or from its own folder). The layers are the table in docs/architecture.md, read from there,
// so the document and the check cannot disagree.
import fs from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {importsOf, layerTable, moduleOf, violations} from './imports.js'

const root = path.resolve(import.meta.dirname, '../..')

describe('layers (docs/architecture.md)', () => {
  const table = layerTable(fs.readFileSync(path.join(root, 'docs/architecture.md'), 'utf8'))

  it('every module of src/ is in the table', () => {
    const unknown = new Set<string>()
    for (const file of sourceFiles()) {
      const module = moduleOf(path.relative(root, file))
      if (!table.has(module)) unknown.add(module)
    }
    expect([...unknown].sort()).toEqual([])
  })

  it('imports run downward only', () => {
    const found: string[] = []
    for (const file of sourceFiles()) {
      const rel = path.relative(root, file)
      found.push(...violations(rel, importsOf(fs.readFileSync(file, 'utf8')), table))
    }
    expect(found).toEqual([])
  })

  it('fails on an upward import (the check itself)', () => {
    // What a newcomer might write: the API client reaching up into the informer.
    expect(violations('src/lib/api/sources.ts', [{line: 1, specifier: '../informer/informer.js'}], table)).toEqual([
      expect.stringContaining('src/lib/api/sources.ts:1 imports informer'),
    ])
    expect(violations('src/lib/informer/informer.ts', [{line: 3, specifier: '../api/types.js'}], table)).toEqual([])
  })
})

function sourceFiles(): string[] {
  const files: string[] = []
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (/\.(ts|tsx)$/.test(entry.name)) files.push(full)
    }
  }
  walk(path.join(root, 'src'))
  return files
}
