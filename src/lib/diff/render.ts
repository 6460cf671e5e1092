// How `ambient diff` shows its entries: a unified-diff-like text modelled on `kubectl diff`
// (headers per object, `-` desired / `+` live lines over a small YAML of the owned fields,
// ANSI colours on a terminal), or NDJSON, one change per line.
import {dump} from 'js-yaml'
import {setPath} from '../reconcilers/kube/drift.js'
import {sanitize, terminalSafeJson} from '../util/sanitize.js'
import {diffLines} from './line-diff.js'
import {toDiffLine, type DiffAction, type DiffEntry, type DiffField} from './types.js'

export interface RenderOptions {
  color?: boolean
}

const ANSI = {bold: '\u001B[1m', red: '\u001B[31m', green: '\u001B[32m', yellow: '\u001B[33m', cyan: '\u001B[36m', reset: '\u001B[0m'}

/** One entry as text lines (no trailing newline); server and cluster text shown escaped. */
export function renderEntry(entry: DiffEntry, options: RenderOptions = {}): string {
  const paint = (code: string, text: string) => (options.color ? `${code}${sanitize(text)}${ANSI.reset}` : sanitize(text))
  const target = objectName(entry)
  const lines: string[] = []
  const title = `${entry.action}${entry.replace ? ' (replace)' : ''} ${target}${entry.id && !target.includes(entry.id) ? `  (${ownerLabel(entry)} ${entry.id})` : ''}`
  lines.push(paint(entry.action === 'invalid' ? `${ANSI.bold}${ANSI.yellow}` : ANSI.bold, title))
  if (entry.action === 'invalid') {
    lines.push(paint(ANSI.yellow, `! ${entry.reason ?? 'Invalid'}: ${entry.message ?? ''}`))
    return lines.join('\n')
  }
  lines.push(paint(ANSI.bold, `--- desired ${entry.action === 'delete' ? '(absent)' : sideName(entry, 'desired')}`))
  lines.push(paint(ANSI.bold, `+++ live ${entry.action === 'create' ? '(absent)' : sideName(entry, 'live')}`))
  if (entry.message) lines.push(paint(ANSI.cyan, `# ${entry.reason ? `${entry.reason}: ` : ''}${entry.message}`))
  else if (entry.reason && entry.action !== 'status') lines.push(paint(ANSI.cyan, `# ${entry.reason}`))
  for (const {op, text} of diffLines(yamlLines(entry.fields, 'desired'), yamlLines(entry.fields, 'actual'))) {
    const line = `${op}${text}`
    lines.push(op === '-' ? paint(ANSI.red, line) : op === '+' ? paint(ANSI.green, line) : sanitize(line))
  }
  return lines.join('\n')
}

/** Every entry as text, a blank line between objects. */
export function renderText(entries: readonly DiffEntry[], options: RenderOptions = {}): string {
  return entries.map((e, i) => `${i > 0 ? '\n' : ''}${renderEntry(e, options)}\n`).join('')
}

/** One JSON object per entry per line. */
export function renderNdjson(entries: readonly DiffEntry[]): string {
  return entries.map((e) => `${terminalSafeJson(JSON.stringify(toDiffLine(e)))}\n`).join('')
}

/** `3 changes: 1 create, 2 update` or `no drift`. */
export function summarize(entries: readonly DiffEntry[]): string {
  if (entries.length === 0) return 'no drift'
  const counts = new Map<DiffAction, number>()
  for (const e of entries) counts.set(e.action, (counts.get(e.action) ?? 0) + 1)
  const parts = (['create', 'update', 'delete', 'status', 'invalid'] as const).filter((a) => counts.has(a)).map((a) => `${counts.get(a)} ${a}`)
  return `${entries.length} ${entries.length === 1 ? 'change' : 'changes'}: ${parts.join(', ')}`
}

function objectName(entry: DiffEntry): string {
  const name = entry.name ?? entry.id ?? '?'
  return `${entry.kind} ${entry.namespace ? `${entry.namespace}/${name}` : name}`
}

function ownerLabel(entry: DiffEntry): string {
  return entry.resource === 'sessions' ? 'session' : entry.resource === 'projects' ? 'project' : 'project settings'
}

function sideName(entry: DiffEntry, side: 'desired' | 'live'): string {
  if (entry.kind === 'Session') {
    const source = entry.action === 'status' && entry.namespace ? ` (status of AgenticSession ${entry.namespace}/${entry.name})` : ''
    return side === 'desired' ? `Session ${entry.id}${source}` : `Session ${entry.id} (API server)`
  }
  return objectName(entry)
}

/** The YAML of one side's values, nested by path; an empty side has no lines. */
function yamlLines(fields: readonly DiffField[], side: 'desired' | 'actual'): string[] {
  const doc: Record<string, unknown> = {}
  for (const f of fields) {
    const value = side === 'desired' ? f.desired : f.actual
    // Plain JSON first: typed client objects (V1RoleRef...) are class instances YAML refuses.
    if (value !== undefined) setPath(doc, f.segments, JSON.parse(JSON.stringify(value)) as unknown)
  }
  if (Object.keys(doc).length === 0) return []
  return dump(doc, {noRefs: true, lineWidth: -1}).replace(/\n$/, '').split('\n')
}
