// A line diff of two short texts (the YAML of one object's owned fields on each side): longest
// common subsequence, so shared parent keys print once as context, the way `diff -u` does.

export type DiffLineOp = {op: ' ' | '-' | '+'; text: string}

/** Lines of `a` only are '-', of `b` only '+', common ones ' '; deletions before insertions. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLineOp[] {
  const n = a.length
  const m = b.length
  // lcs[i][j] = length of the LCS of a[i..] and b[j..]; texts are a few dozen lines at most.
  const lcs: Uint32Array[] = Array.from({length: n + 1}, () => new Uint32Array(m + 1))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
  }
  const out: DiffLineOp[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({op: ' ', text: a[i]})
      i++
      j++
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push({op: '-', text: a[i]})
      i++
    } else {
      out.push({op: '+', text: b[j]})
      j++
    }
  }
  return out
}
