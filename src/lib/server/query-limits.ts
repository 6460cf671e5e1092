// What one request may ask of the server (docs/security.md, "Query and request cost"). Each
// bound is far above what a person or a tool writes, and low enough that the most expensive
// request within them costs milliseconds per object, never seconds: past a bound the answer
// is 400 with the contract's error body, before any work that grows with the input.

/** Characters in `search` (a hand-written filter is under 200; an `id in (…)` of 100 ids ~3,000). */
export const MAX_SEARCH_LENGTH = 4096
/** Nesting of parentheses and NOT in `search`; the parser recurses once per level. */
export const MAX_SEARCH_DEPTH = 32
/** Comparisons (`a = 1`, `b like 'x%'`, `c in (…)`…) in one `search`: each is evaluated per object. */
export const MAX_SEARCH_TERMS = 64
/**
 * Characters in one LIKE/ILIKE pattern (names are at most 255). Matching costs
 * text × ⌈pattern/32⌉ steps, so this keeps a term on a 1 MiB value at a few tens of ms, split
 * into slices the server can pause between.
 */
export const MAX_LIKE_PATTERN_LENGTH = 256
/** Characters in `orderBy`, and sort keys in it (each key is compared per pair of objects). */
export const MAX_ORDER_BY_LENGTH = 1024
export const MAX_ORDER_BY_KEYS = 16
/** Characters in `fields` (every field of a Session, comma-separated, is ~500). */
export const MAX_FIELDS_LENGTH = 2048
/**
 * Nesting of a JSON request body, the body object being level 1. Every field the API takes is a
 * scalar (JSON documents travel as strings), so a valid body is one level deep; anything past
 * this bound is refused before code that walks values recursively (JSON.stringify,
 * structuredClone) could overflow the stack on it.
 */
export const MAX_BODY_DEPTH = 32
/**
 * Values in the objects and arrays of a JSON request body (a Session has ~30 fields). Parsing a
 * 1 MiB body of 90,000 keys takes V8 ~100 ms and decoding it as long again: refused unparsed.
 */
export const MAX_BODY_VALUES = 1000
