// The one sanitizer for strings from an API server or a runner on their way to a person's
// terminal (tables, detail views, diff text, Ink views, pretty logs, error messages). Control
// characters are shown escaped, never emitted: a name cannot set the window title (OSC 0),
// clear the screen (CSI 2J), write the clipboard (OSC 52) or reorder what the operator reads
// (bidi overrides, "Trojan Source"). Escaping the introducer (ESC, or C1 CSI/OSC) is enough to
// make a whole sequence inert text, so sequences are never parsed. Linear: a one-character
// class finds whether anything needs escaping (it cannot backtrack), then one pass over the
// UTF-16 units escapes it; input without such characters is returned as is, not copied.

/** C0 (all of it: tab and newline too), DEL, C1, and the bidi embeddings/overrides/isolates. */
export function isUnsafeCodeUnit(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
}

/** The same set as isUnsafeCodeUnit, as one character class (no quantifier: no backtracking). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/
/** What JSON.stringify leaves raw of it: DEL, C1 and bidi. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

const SHORT: Readonly<Record<number, string>> = {9: '\\t', 10: '\\n', 13: '\\r'}

function escapeUnit(c: number): string {
  const short = SHORT[c]
  if (short) return short
  return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`
}

/** JSON text keeps its own line breaks and escapes: only DEL, C1 and bidi are written as \\u. */
function jsonEscapeUnit(c: number): string | undefined {
  return c < 0x7f ? undefined : `\\u${c.toString(16).padStart(4, '0')}`
}

/** Replaces every unit `escapeOf` has an escape for (unsafe ones only), in one pass. */
function escapeAll(text: string, escapeOf: (c: number) => string | undefined): string {
  let out = ''
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (!isUnsafeCodeUnit(c)) continue
    const escaped = escapeOf(c)
    if (escaped === undefined) continue
    out += text.slice(from, i) + escaped
    from = i + 1
  }
  return out + text.slice(from)
}

/** `text` with every unsafe character shown as an escape (`\x1b`, `\n`, `\u202e`). */
export function sanitize(text: string): string {
  return UNSAFE.test(text) ? escapeAll(text, escapeUnit) : text
}

/** Like sanitize, but newlines stay newlines: for multi-line text printed as lines. */
export function sanitizeLines(text: string): string {
  if (!text.includes('\n')) return sanitize(text)
  return text.split('\n').map(sanitize).join('\n')
}

/** Any string or number as a cell: sanitized text. */
export function sanitizeValue(value: unknown): string {
  return sanitize(typeof value === 'string' ? value : String(value))
}

/**
 * JSON text made safe for a terminal and still exactly the same JSON: JSON.stringify already
 * escapes C0 (so ESC-introduced sequences), but not DEL, C1 or bidi overrides; those can only
 * occur inside string literals, where `\uXXXX` is the same character to any JSON parser.
 */
export function terminalSafeJson(json: string): string {
  // C0 never occurs raw in JSON text (JSON.stringify escapes it), so only the rest is escaped.
  return UNSAFE_IN_JSON.test(json) ? escapeAll(json, jsonEscapeUnit) : json
}

/** Deeper than this, a log field is summarised instead of walked (bounded recursion). */
const MAX_DEPTH = 16

/**
 * A parsed JSON value (a log record) with every string, and every key, sanitized. Pretty logs
 * are for a person at a terminal; newlines inside values are escaped like the rest.
 */
export function sanitizeJsonValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return sanitize(value)
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return '[too deep]'
  if (Array.isArray(value)) return value.map((v) => sanitizeJsonValue(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[sanitize(k)] = sanitizeJsonValue(v, depth + 1)
  return out
}
