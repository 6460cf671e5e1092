// Reading every page of an offset-paginated list, for both clients (REST and gRPC list the
// same way): the first generation of this system read only page 1 and silently missed
// everything past item 100.
import pLimit from 'p-limit'

export interface FetchAllPagesOptions<T> {
  pageSize: number
  concurrency: number
  signal?: AbortSignal
  fetchPage: (page: number, size: number, signal: AbortSignal) => Promise<{items: T[]; total: number; size?: number}>
}

/**
 * Reads every page of an offset-paginated list. Page 1 announces the total; the remaining
 * pages are fetched concurrently. A total that changes while paging is handled by reading on
 * (one page at a time) while a later page announces more, stopping at the first empty page,
 * and dropping objects seen twice (inserts shift items onto the next page).
 */
export async function fetchAllPages<T extends {id: string}>(options: FetchAllPagesOptions<T>): Promise<T[]> {
  const {pageSize, signal} = options
  // One failed page stops the others: no point finishing a list that will be retried whole.
  const controller = new AbortController()
  const pageSignal = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal
  const fetchPage = (page: number, size: number) => options.fetchPage(page, size, pageSignal)

  const first = await fetchPage(1, pageSize)
  // A server that caps the page size pages by its own size: count pages with it.
  const size = first.size !== undefined && first.size > 0 && first.size < pageSize && first.items.length <= first.size ? first.size : pageSize
  const pages: T[][] = [first.items]
  let total = first.total
  if (first.items.length > 0 && Number.isFinite(total)) {
    const count = Math.ceil(total / size)
    if (count > 1) {
      const limit = pLimit(Math.max(1, options.concurrency))
      try {
        const rest = await Promise.all(Array.from({length: count - 1}, (_, i) => limit(() => fetchPage(i + 2, pageSize))))
        for (const page of rest) {
          pages.push(page.items)
          if (Number.isFinite(page.total)) total = Math.max(total, page.total)
        }
      } catch (err) {
        limit.clearQueue()
        controller.abort()
        throw err
      }
    }
  }
  // Read on, one page at a time, while the list is known (or, without a total, suspected) to go further.
  for (;;) {
    const last = pages.at(-1) ?? []
    const expectMore = Number.isFinite(total) ? total > pages.length * size : true
    if (last.length === 0 || last.length < size || !expectMore) break
    const page = await fetchPage(pages.length + 1, pageSize)
    pages.push(page.items)
    if (Number.isFinite(page.total)) total = Math.max(total, page.total)
    // A server that ignores `page` would otherwise be read forever.
    if (page.items.every((item) => seenBefore(pages, item.id))) break
  }
  const seen = new Set<string>()
  const out: T[] = []
  for (const page of pages) {
    if (page.length === 0) break
    for (const item of page) {
      if (seen.has(item.id)) continue
      seen.add(item.id)
      out.push(item)
    }
  }
  return out
}

/** Whether a page before the last has `id`. */
function seenBefore<T extends {id: string}>(pages: T[][], id: string): boolean {
  return pages.slice(0, -1).some((page) => page.some((item) => item.id === id))
}
