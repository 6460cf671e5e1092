// Bounds on a JSON text, found in one pass without recursion and without building anything, so
// they can be checked before JSON.parse: parsing is iterative, but code that later walks the
// value (JSON.stringify, structuredClone, deep equality) recurses, and a document nested tens of
// thousands deep would overflow its stack.

export interface JsonShapeLimits {
  /** Deepest nesting of objects and arrays allowed (a top-level object is level 1). */
  maxDepth: number
  /** Most values in objects and arrays allowed (each opening bracket and each comma count one). */
  maxValues?: number
}

export type JsonShapeProblem = {exceeded: 'depth' | 'values'} | undefined

/** The first bound `text` exceeds, or undefined. Validity is left to JSON.parse. */
export function jsonShapeProblem(text: string, limits: JsonShapeLimits): JsonShapeProblem {
  const maxValues = limits.maxValues ?? Number.POSITIVE_INFINITY
  let depth = 0
  let values = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      // Skip the string, escapes included.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === 0x5c /* \ */) i++
        else if (d === 0x22) break
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limits.maxDepth) return {exceeded: 'depth'}
      values++
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      if (depth > 0) depth--
    } else if (c === 0x2c /* , */) {
      values++
    } else {
      continue
    }
    if (values > maxValues) return {exceeded: 'values'}
  }
  return undefined
}
