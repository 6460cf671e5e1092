// For the index reads the type system cannot follow (noUncheckedIndexedAccess): a slot the code
// itself just filled. If it is empty after all, that is a bug, and it says which slot.
export function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal error: ${what} is missing`)
  return value
}
