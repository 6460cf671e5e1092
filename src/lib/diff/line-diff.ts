// A line diff of two short texts (the YAML of one object's owned fields on each side): longest
// common subsequence, so shared parent keys print once as context, the way `diff -u` does.

export type DiffLineOp = {op: ' ' | '-' | '+'; text: string}

/** Lines of `a` only are '-', of `b` only '+', common ones ' '; deletions before insertions. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLineOp[] {
  const n = a.length
  const m = b.length
  // lcs(i, j) = length of the LCS of a[i..] and b[j..], row-major in one array; texts are a few
  // dozen lines at most.
  const table = new Uint32Array((n + 1) * (m + 1))
  const lcs = (i: number, j: number): number => table[i * (m + 1) + j] ?? 0
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) table[i * (m + 1) + j] = a[i] === b[j] ? lcs(i + 1, j + 1) + 1 : Math.max(lcs(i + 1, j), lcs(i, j + 1))
  }
  const out: DiffLineOp[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    const left = a[i]
    const right = b[j]
    if (left !== undefined && right !== undefined && left === right) {
      out.push({op: ' ', text: left})
      i++
      j++
    } else if (left !== undefined && (right === undefined || lcs(i + 1, j) >= lcs(i, j + 1))) {
      out.push({op: '-', text: left})
      i++
    } else if (right !== undefined) {
      out.push({op: '+', text: right})
      j++
    }
  }
  return out
}
