// The one sanitizer for strings from an API server or a runner on their way to a person's
// terminal (tables, detail views, diff text, Ink views, pretty logs, error messages). Control
// characters are shown escaped, never emitted: a name cannot set the window title (OSC 0),
// clear the screen (CSI 2J), write the clipboard (OSC 52) or reorder what the operator reads
// (bidi overrides, "Trojan Source"). Escaping the introducer (ESC, or C1 CSI/OSC) is enough to
// make a whole sequence inert text, so sequences are never parsed. One pass over the UTF-16
// units, no regular expression, input returned as is (no copy) when nothing needs escaping.

/** C0 (all of it: tab and newline too), DEL, C1, and the bidi embeddings/overrides/isolates. */
export function isUnsafeCodeUnit(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
}

const SHORT: Readonly<Record<number, string>> = {0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r'}

function escapeUnit(c: number): string {
  const short = SHORT[c]
  if (short) return short
  return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`
}

/** `text` with every unsafe character shown as an escape (`\x1b`, `\n`, `\u202e`). */
export function sanitize(text: string): string {
  let out: string | undefined
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (!isUnsafeCodeUnit(c)) continue
    out = (out ?? '') + text.slice(from, i) + escapeUnit(c)
    from = i + 1
  }
  return out === undefined ? text : out + text.slice(from)
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
  let out: string | undefined
  let from = 0
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (c < 0x7f || !isUnsafeCodeUnit(c)) continue
    out = (out ?? '') + json.slice(from, i) + `\\u${c.toString(16).padStart(4, '0')}`
    from = i + 1
  }
  return out === undefined ? json : out + json.slice(from)
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
