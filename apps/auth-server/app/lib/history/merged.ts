/**
 * One history over several chains (docs/dashboard.md, "History"): the per-chain sources' pages merged newest first
 * by block time. A chain that does not answer is reported in `errors` and asked again on the next page; the
 * others go on.
 */

import { errorLine } from '../errors'
import {
  compareNewestFirst,
  type HistoryCursor,
  type HistoryEntry,
  type HistoryPage,
  type HistorySource,
  InvalidCursorError,
} from './HistorySource'

/** One chain's source. */
export type ChainSource = { chainId: number; source: HistorySource }

/**
 * Merges per-chain sources into one. The cursor holds each chain's own cursor (`null` once a chain is done).
 *
 * @example
 * ```ts
 * const history = mergeSources([{ chainId: 31337, source: a }, { chainId: 31338, source: b }])
 * ```
 */
export function mergeSources(sources: readonly ChainSource[]): HistorySource {
  return {
    // A chain's source may change with each page (an indexer falling back to the node): read them as they are now.
    get kind() {
      return sources.every((s) => s.source.kind === 'indexer') && sources.length ? 'indexer' : 'node-logs'
    },
    get description() {
      const descriptions = [...new Set(sources.map((s) => s.source.description))]
      return descriptions.length ? descriptions.join('; ') : 'no chain'
    },
    async page(cursor: HistoryCursor | undefined, limit: number): Promise<HistoryPage> {
      const cursors = cursor === undefined ? {} : parse(cursor)
      const pending = sources.filter((s) => cursors[s.chainId] !== null)
      const results = await Promise.all(
        pending.map(async (s) => {
          try {
            return { s, page: await s.source.page(cursors[s.chainId] ?? undefined, limit) }
          } catch (error) {
            return { s, error: errorLine(error) }
          }
        }),
      )
      const all: { chainId: number; entry: HistoryEntry }[] = []
      for (const r of results)
        if (r.page) for (const entry of r.page.entries) all.push({ chainId: r.s.chainId, entry })
      all.sort(
        (a, b) =>
          b.entry.timestamp - a.entry.timestamp ||
          a.chainId - b.chainId ||
          compareNewestFirst(a.entry, b.entry),
      )
      const taken = all.slice(0, limit)
      const next: Record<number, HistoryCursor | null> = { ...cursors }
      for (const r of results) {
        if (!r.page) continue
        const mine = taken.filter((t) => t.chainId === r.s.chainId)
        if (mine.length === r.page.entries.length) next[r.s.chainId] = r.page.next ?? null
        else {
          // Some of this chain's page was left for later: continue after the last one shown.
          const last = mine.at(-1)?.entry
          if (last) next[r.s.chainId] = last.after
        }
      }
      const done = sources.every((s) => next[s.chainId] === null)
      return {
        entries: taken.map((t) => t.entry),
        next: done ? undefined : JSON.stringify(next),
        notes: [...new Set(results.flatMap((r) => r.page?.notes ?? []))],
        errors: results.flatMap((r) => (r.error ? [{ chainId: r.s.chainId, message: r.error }] : [])),
      }
    },
  }
}

function parse(cursor: HistoryCursor): Record<number, HistoryCursor | null> {
  try {
    const value = JSON.parse(cursor) as unknown
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<number, HistoryCursor | null>
  } catch {
    // Falls through to the typed error.
  }
  throw new InvalidCursorError(`Not a merged history cursor: ${JSON.stringify(cursor)}.`)
}
