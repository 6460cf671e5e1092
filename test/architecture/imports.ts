// What the layers check needs: the relative imports of a file (static, re-exports, dynamic),
// the module a file belongs to, and the layer table of docs/architecture.md.
import path from 'node:path'

export interface ImportRef {
  line: number
  specifier: string
}

// One statement at a time: `from '...'` and `import('...')`; a linear scan, no nesting.
const FROM = /\bfrom\s+'(\.[^']*)'|\bimport\(\s*'(\.[^']*)'\s*\)|^import\s+'(\.[^']*)'/

/** Relative import specifiers of a source text, with their 1-based lines. */
export function importsOf(text: string): ImportRef[] {
  const out: ImportRef[] = []
  const lines = text.split('\n')
  for (const [i, line] of lines.entries()) {
    const m = FROM.exec(line)
    const specifier = m?.[1] ?? m?.[2] ?? m?.[3]
    if (specifier) out.push({line: i + 1, specifier})
  }
  return out
}

/**
 * The module of a file under src/: `commands`, `gen`, a folder of src/lib (`api`, `tui`...),
 * `reconcilers/<mode>`, or a file at the root of src/lib (`log.ts`).
 */
export function moduleOf(file: string): string {
  const parts = file.split(/[\\/]/)
  if (parts[0] !== 'src') return file
  if (parts[1] !== 'lib') return parts[1] ?? file
  const first = parts[2] ?? ''
  if (parts.length === 3) return first
  if (first === 'reconcilers' && parts.length > 4) return `reconcilers/${parts[3]}`
  return first
}

/** `| rank | module | ... |` rows of the "Layers" table: module -> rank. */
export function layerTable(markdown: string): Map<string, number> {
  const table = new Map<string, number>()
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Layers'))
  if (!section) throw new Error('docs/architecture.md has no "## Layers" section')
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim())
    const rank = Number(cells[1])
    if (!line.startsWith('|') || !Number.isInteger(rank)) continue
    for (const name of (cells[2] ?? '').split(',')) {
      const module = name.trim().replaceAll('`', '').replace(/\/$/, '')
      if (module) table.set(module, rank)
    }
  }
  if (table.size === 0) throw new Error('the Layers table of docs/architecture.md has no rows')
  return table
}

/** Imports of `file` that go to its own layer (another module) or above, as readable lines. */
export function violations(file: string, imports: readonly ImportRef[], table: ReadonlyMap<string, number>): string[] {
  const from = moduleOf(file)
  const fromRank = table.get(from)
  const out: string[] = []
  for (const ref of imports) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file.split(path.sep).join('/')), ref.specifier))
    if (!target.startsWith('src/')) continue
    const to = moduleOf(target.replace(/\.js$/, '.ts'))
    if (to === from) continue
    const toRank = table.get(to)
    if (fromRank === undefined || toRank === undefined || toRank >= fromRank) {
      out.push(`${file}:${ref.line} imports ${to} (layer ${toRank ?? '?'}) from ${from} (layer ${fromRank ?? '?'})`)
    }
  }
  return out
}
